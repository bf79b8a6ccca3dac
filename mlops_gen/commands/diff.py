"""`mlops-gen diff SPEC_OR_DIR... [-o OUTDIR] [--stat]`: what `generate` would change, as a git-style unified diff
with a/ and b/ paths relative to OUTDIR (apply with `git apply` there); exit 1 when there is any change.

When a spec's previous version is in git, a one-line semantic summary of the spec change comes first, ready to
paste into a pull request description.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from mlops_gen.commands.generate import plan_all, render_all
from mlops_gen.errors import EXIT_DIFFERENCES
from mlops_gen.output.changes import Action, Change, FolderPlan
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.options import override_paths
from mlops_gen.output.paths import shown_path
from mlops_gen.output.spec_changes import summary
from mlops_gen.spec.loader import LoadedSpec, load_text


def _lines(data: bytes | None) -> list[str]:
    return [] if data is None else data.decode("utf-8", errors="replace").splitlines(keepends=True)


def file_diff(name: str, change: Change) -> Iterator[str]:
    """git's format: a header, mode lines, then difflib's hunks with a marker for a missing final newline."""
    yield f"diff --git a/{name} b/{name}"
    old_mode = "100755" if change.was_executable else "100644"
    new_mode = "100755" if change.executable else "100644"
    old_name, new_name = f"a/{name}", f"b/{name}"
    if change.action == "create":
        yield f"new file mode {new_mode}"
        old_name = "/dev/null"
    elif change.action == "delete":
        yield f"deleted file mode {old_mode}"
        new_name = "/dev/null"
    elif old_mode != new_mode:
        yield f"old mode {old_mode}"
        yield f"new mode {new_mode}"
    new = change.new if change.action != "delete" else None
    old, new_lines = _lines(change.old), _lines(new)
    if old == new_lines:
        return
    for line in difflib.unified_diff(old, new_lines, old_name, new_name, n=3):
        if line.startswith(("---", "+++")):
            yield line.rstrip("\n")
        elif line.endswith("\n"):
            yield line[:-1]
        else:
            yield line
            yield "\\ No newline at end of file"


def _entries(plan: FolderPlan, outdir: Path) -> list[tuple[str, Change]]:
    prefix = plan.root.relative_to(outdir).as_posix()
    entries = [(f"{prefix}/{c.path}", c) for c in plan.differences]
    if plan.retired and plan.manifest_old is not None:
        entries.append((f"{prefix}/{MANIFEST_PATH}", Change(MANIFEST_PATH, "delete", "orphaned",
                                                            old=plan.manifest_old)))
    elif plan.manifest is not None and plan.manifest_changed:
        action: Action = "create" if plan.manifest_old is None else "update"
        entries.append((f"{prefix}/{MANIFEST_PATH}",
                        Change(MANIFEST_PATH, action, "stale", old=plan.manifest_old, new=plan.manifest.to_bytes())))
    return entries


def _counts(change: Change) -> tuple[int, int]:
    added = removed = 0
    new = change.new if change.action != "delete" else None
    for line in difflib.unified_diff(_lines(change.old), _lines(new), n=0):
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def _stat(entries: list[tuple[str, Change]]) -> None:
    width = max(len(name) for name, _ in entries)
    total_added = total_removed = 0
    for name, change in entries:
        added, removed = _counts(change)
        total_added, total_removed = total_added + added, total_removed + removed
        bar = "+" * min(added, 30) + "-" * min(removed, 30)
        click.echo(f" {name:<{width}} | {added + removed:>5} {bar}")
    click.echo(f" {len(entries)} files changed, {total_added} insertions(+), {total_removed} deletions(-)")


def run_diff(paths: Sequence[str], output: str, stat: bool = False, override_dirs: Sequence[str] = (),
             base: str = "HEAD") -> int:
    overrides = override_paths(override_dirs)
    rendered = render_all(paths, override_dirs=overrides)
    outdir = Path(output)
    with output_lock(outdir, shared=True):
        plans = plan_all(rendered, outdir, override_dirs=overrides, paths=paths)
    for spec_file, _ in rendered:
        loaded = load_text(spec_file.raw.decode("utf-8").removeprefix("\ufeff"), spec_file.shown_as)
        if isinstance(loaded, LoadedSpec):
            line = summary(spec_file.path, shown_path(spec_file.path), loaded.data, base)
            if line:
                click.echo(f"# spec change: {line}")
    for plan in plans:
        if plan.retired:
            click.echo(f"# {plan.root.relative_to(outdir).as_posix()}: no spec generates this model folder any more "
                       f"({plan.retired})")
    entries = [entry for plan in plans for entry in _entries(plan, outdir)]
    if stat and entries:
        _stat(entries)
    elif entries:
        for name, change in entries:
            for line in file_diff(name, change):
                click.echo(line)
    return EXIT_DIFFERENCES if entries else 0
