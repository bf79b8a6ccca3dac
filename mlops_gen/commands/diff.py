"""`mlops-gen diff SPEC_OR_DIR... [-o OUTDIR] [--stat]`: what `generate` would change, as a git-style unified diff
with a/ and b/ paths relative to OUTDIR (apply with `git apply` there); exit 1 when there is any change.

When a spec's previous version is in git, a one-line semantic summary of the spec change comes first, ready to
paste into a pull request description.
"""

from __future__ import annotations

import difflib
import itertools
import os
import posixpath
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import click

from mlops_gen.commands.generate import iter_rendered, plan_model, unique_models
from mlops_gen.errors import EXIT_DIFFERENCES
from mlops_gen.output.changes import Action, Change, FolderPlan, retired_folders
from mlops_gen.output.lock import output_lock
from mlops_gen.output.options import override_paths, reader_may_leave, scanned_dirs
from mlops_gen.output.paths import shown_path
from mlops_gen.output.spec_changes import summary
from mlops_gen.repo_config.find import ConfigFile, find_config, output_folder
from mlops_gen.spec.loader import LoadedSpec, load_text
from mlops_gen.spec.validate import SpecFile, load_specs


def _lines(data: bytes | None) -> list[str]:
    """Lines split at LF only, as git does (str.splitlines would also split at CR, form feed and others)."""
    if not data:
        return []
    lines = data.decode("utf-8", errors="replace").split("\n")
    last = lines.pop()
    return [line + "\n" for line in lines] + ([last] if last else [])


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
    for number, line in enumerate(difflib.unified_diff(old, new_lines, old_name, new_name, n=3)):
        if number < 2:  # the ---/+++ header
            yield line.rstrip("\n")
        elif line.endswith("\n"):
            yield line[:-1]
        else:
            yield line
            yield "\\ No newline at end of file"


def _relative(root: Path, outdir: Path) -> str:
    """`root` as a prefix relative to OUTDIR (a monorepo unit's root, the repository root, lies above it)."""
    return Path(os.path.relpath(root, outdir)).as_posix()


def unit_entries(plan: FolderPlan, place: Callable[[Path, str], str]) -> list[tuple[str, Change]]:
    """A folder's or unit's changes as (shown path, change), its manifest's last; `place(root, path)` spells a
    path of the folder rooted at `root` as the diff shows it."""
    entries = []
    if plan.before is not None:  # a layout switch: the previous layout's files outside the folder
        entries += [(place(plan.before.root, c.path), c) for c in plan.before.differences]
    entries += [(place(plan.root, c.path), c) for c in plan.differences]
    manifest = place(plan.root, plan.manifest_path)
    if plan.retired and plan.manifest_old is not None:
        entries.append((manifest, Change(plan.manifest_path, "delete", "orphaned", old=plan.manifest_old)))
    elif plan.manifest is not None and plan.manifest_changed:
        action: Action = "create" if plan.manifest_old is None else "update"
        entries.append((manifest, Change(plan.manifest_path, action, "stale", old=plan.manifest_old,
                                         new=plan.manifest.to_bytes())))
    return entries


def _entries(plan: FolderPlan, outdir: Path) -> list[tuple[str, Change]]:
    """Paths relative to OUTDIR, as `git apply` there reads them."""
    return unit_entries(plan, lambda root, path: posixpath.normpath(f"{_relative(root, outdir)}/{path}"))


def _counts(change: Change) -> tuple[int, int]:
    added = removed = 0
    new = change.new if change.action != "delete" else None
    hunks = itertools.islice(difflib.unified_diff(_lines(change.old), _lines(new), n=0), 2, None)  # no header
    for line in hunks:
        if line.startswith("+"):
            added += 1
        elif line.startswith("-"):
            removed += 1
    return added, removed


def _stat(rows: list[tuple[str, int, int]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    for name, added, removed in rows:
        bar = "+" * min(added, 30) + "-" * min(removed, 30)
        click.echo(f" {name:<{width}} | {added + removed:>5} {bar}")
    click.echo(f" {len(rows)} files changed, {sum(r[1] for r in rows)} insertions(+), "
               f"{sum(r[2] for r in rows)} deletions(-)")


def summaries(specs: Sequence[SpecFile], config: ConfigFile | None, base: str) -> None:
    """The reviewer's one-line summaries of the configuration's and each spec's change since `base`."""
    if config is not None:  # an input of every model: its change first
        current = load_text(config.raw.decode("utf-8", errors="replace").removeprefix("\ufeff"), config.shown_as)
        if isinstance(current, LoadedSpec):
            line = summary(config.path, config.shown_as, current.data, base)
            if line:
                click.echo(f"# repository configuration change (every model's input): {line}")
    for spec_file in specs:  # the reviewer's summary first, then the patch
        loaded = load_text(spec_file.raw.decode("utf-8").removeprefix("\ufeff"), spec_file.shown_as)
        if isinstance(loaded, LoadedSpec):
            line = summary(spec_file.path, shown_path(spec_file.path), loaded.data, base)
            if line:
                click.echo(f"# spec change: {line}")


def run_diff(paths: Sequence[str], output: str | None, stat: bool = False, override_dirs: Sequence[str] = (),
             base: str = "HEAD", jobs: int = 0, config_option: str | None = None) -> int:
    with reader_may_leave():
        config = find_config(config_option)
        from mlops_gen.layout.units import layout_of

        if config is not None and layout_of(config) == "monorepo":
            from mlops_gen.layout import units

            return units.run_diff(config, paths, output, stat, override_dirs, base, jobs)
        return _diff(paths, output_folder(output, config), stat, override_dirs, base, jobs, config)


def _diff(paths: Sequence[str], output: str, stat: bool, override_dirs: Sequence[str], base: str, jobs: int,
          config: ConfigFile | None) -> int:
    overrides = override_paths(override_dirs)
    outdir = Path(output)
    specs = load_specs(paths, config)
    unique_models(specs)
    summaries(specs, config, base)
    rows: list[tuple[str, int, int]] = []  # --stat: name, insertions, deletions
    models: dict[str, str] = {}
    changed: list[str] = []

    def show(plan: FolderPlan) -> None:
        if plan.retired:
            click.echo(f"# {_relative(plan.folder, outdir)}: no spec generates this model folder any more "
                       f"({plan.retired})")
        for name, change in _entries(plan, outdir):
            if stat:
                rows.append((name, *_counts(change)))
            else:
                for line in file_diff(name, change):
                    click.echo(line)
            changed.append(name)

    with output_lock(outdir, shared=True):
        for spec_file, files in iter_rendered(specs, override_dirs=overrides, jobs=jobs, outdir=outdir):
            plan = plan_model(spec_file, files, outdir, override_dirs=overrides)
            models[plan.spec_path] = plan.root.name
            show(plan)
        for plan in retired_folders(outdir, models, scanned_dirs(paths)):
            show(plan)
    if rows:
        _stat(rows)
    return EXIT_DIFFERENCES if changed else 0
