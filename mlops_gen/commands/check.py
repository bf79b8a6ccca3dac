"""`mlops-gen check SPEC_OR_DIR... [-o OUTDIR]`: exit 0 when every model folder is what `generate` would leave,
1 listing stale, hand-edited, missing and orphaned files with the command that fixes them.

Fast path (pre-commit runs this on every commit): when a folder's manifest records the same spec path and hash,
generator version and template fingerprint as now, the rendered bytes cannot have changed, so only the files on disk
are hashed against the manifest; pydantic and jinja2 are not even imported. Anything else is rendered in full.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from mlops_gen import __version__
from mlops_gen.errors import EXIT_DIFFERENCES, Problem, SpecError, UserError
from mlops_gen.output.changes import Change, FolderPlan, retired_folders, verify_folder
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_fingerprint
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import MANIFEST_PATH, Manifest, all_manifests, parse_manifest
from mlops_gen.output.options import discover_specs, fix_command, override_paths, scanned_dirs, shown_overrides
from mlops_gen.output.paths import shown_path

LABELS = {
    ("create", "new"): "missing (not generated yet)",
    ("create", "missing"): "missing (deleted since it was generated)",
    ("update", "stale"): "stale (the spec, generator or templates changed)",
    ("update", "hand-edited"): "hand-edited (differs from what mlops-gen wrote)",
    ("update", "unrecorded"): "differs from what mlops-gen would write, and the manifest does not list it",
    ("update", "mode"): "executable bit differs from what mlops-gen wrote",
    ("delete", "orphaned"): "orphaned (no longer generated; generate deletes it)",
    ("keep", "edited-orphan"): "orphaned and hand-edited (generate keeps it and stops tracking it)",
    ("keep", "seeded"): "user-owned (seeded once; never overwritten or checked)",
    ("keep", "seeded-orphan"): "user-owned (seeded, no longer planned)",
    ("unchanged", "same"): "up to date",
}


def manifest_index(outdir: Path) -> dict[str, list[tuple[Path, Manifest]]]:
    """Manifests of OUTDIR/*/ by the spec path they record; unreadable ones are left to the full path."""
    index: dict[str, list[tuple[Path, Manifest]]] = {}
    for root, manifest in all_manifests(outdir):
        index.setdefault(manifest.spec_path, []).append((root, manifest))
    return index


def _manifest_drift(plan: FolderPlan) -> str:
    """Which recorded input differs, in words."""
    if plan.manifest_old is None or plan.manifest is None:
        return "not written yet"
    try:
        old = parse_manifest(plan.manifest_old, str(plan.root / MANIFEST_PATH))
    except UserError:
        return "unreadable"
    new = plan.manifest
    found = []
    if (old.spec_path, old.spec_sha256) != (new.spec_path, new.spec_sha256):
        found.append("the spec changed" if old.spec_path == new.spec_path else
                     f"the spec is now {new.spec_path}, was {old.spec_path}")
    if old.generator_version != new.generator_version:
        found.append(f"mlops-gen {new.generator_version} differs from {old.generator_version}")
    elif old.generator_fingerprint != new.generator_fingerprint:
        found.append("the generator's code changed")
    if old.template_fingerprint != new.template_fingerprint or old.override_dirs != new.override_dirs:
        found.append("the templates changed")
    return "; ".join(found) or "its recorded file list differs"


def _failures(plan: FolderPlan) -> list[Change]:
    return [c for c in plan.changes if c.is_difference or c.reason == "edited-orphan"]


def _report(plan: FolderPlan, output: str, overrides: Sequence[str], verbose: bool) -> bool:
    """Print the folder's findings; True when it is up to date."""
    failures = _failures(plan)
    manifest_only = not failures and plan.manifest_changed
    if plan.retired:
        click.echo(f"{plan.root}: orphaned model folder: no spec generates it any more ({plan.retired})")
    for change in plan.changes if verbose else failures:
        click.echo(f"{plan.root / change.path}: {LABELS[(change.action, change.reason)]}")
    if manifest_only and not plan.retired:
        click.echo(f"{plan.root / MANIFEST_PATH}: stale ({_manifest_drift(plan)}; the generated files are "
                   "unchanged)")
    if not failures and not manifest_only:
        owned = sum(1 for c in plan.changes if c.action != "keep")
        seeded = sum(1 for c in plan.changes if c.reason in ("seeded", "seeded-orphan"))
        if verbose:
            click.echo(f"{plan.root}: up to date ({owned} generated files, {seeded} user-owned)")
        return True
    click.echo(f"  to fix: {fix_command(plan.spec_path, output, overrides)}")
    if any(c.reason == "hand-edited" for c in failures):
        click.echo("  (generate overwrites hand edits: move them into the spec, an extension step or an "
                   "--override-dir template first; see docs/customizing.md)")
    return False


def _full_plans(paths: Sequence[Path], output: Path, overrides: Sequence[Path],
                known: dict[str, str]) -> list[FolderPlan]:
    """Validate, render and plan `paths` in full (the slow path); `known` maps fast-path models to their spec."""
    from mlops_gen.commands.generate import plan_all, render_all

    rendered = render_all([str(p) for p in paths], override_dirs=overrides)
    problems = [Problem(spec_file.shown_as, 1, 1, "model.name",
                        f"model {spec_file.spec.model.name!r} is also defined in {known[spec_file.spec.model.name]}")
                for spec_file, _ in rendered if spec_file.spec.model.name in known]
    if problems:
        raise SpecError(problems)
    return plan_all(rendered, output, override_dirs=overrides, retire=False)


def check_plans(paths: Sequence[str], output: str, override_dirs: Sequence[Path]) -> list[FolderPlan]:
    """A plan per spec: verified against the manifest when its inputs are unchanged, rendered in full otherwise."""
    outdir = Path(output)
    specs = discover_specs(paths)
    fingerprint = template_fingerprint(override_dirs)
    overrides = shown_overrides(override_dirs)
    index = manifest_index(outdir)
    plans: dict[Path, FolderPlan] = {}
    slow: list[Path] = []
    known: dict[str, str] = {}
    for path in specs:
        shown = shown_path(path)
        try:
            digest = sha256(path.read_bytes())
        except OSError:
            slow.append(path)  # the loader reports it properly
            continue
        current = (shown, digest, __version__, generator_fingerprint(), fingerprint)
        match = [(root, m) for root, m in index.get(shown, [])
                 if m.complete and m.inputs() == current and m.override_dirs == overrides]
        if match:
            root, manifest = match[0]
            plans[path] = verify_folder(root, manifest)
            known[manifest.model] = shown
        else:
            slow.append(path)
    if slow:
        for path, plan in zip(slow, _full_plans(slow, outdir, override_dirs, known), strict=True):
            plans[path] = plan
    models = {plan.spec_path: plan.root.name for plan in plans.values()}
    return [plans[path] for path in specs] + retired_folders(outdir, models, scanned_dirs(paths))


def run_check(paths: Sequence[str], output: str, override_dirs: Sequence[str] = (), verbose: bool = False) -> int:
    overrides = override_paths(override_dirs)
    with output_lock(Path(output), shared=True):  # never judge a tree a concurrent generate is writing
        plans = check_plans(paths, output, overrides)
    shown = shown_overrides(overrides)
    stale = [plan for plan in plans if not _report(plan, output, shown, verbose)]
    files = sum(len(plan.changes) for plan in plans)
    if stale:
        click.echo(f"mlops-gen check: {len(stale)} of {len(plans)} model folders out of date")
        return EXIT_DIFFERENCES
    click.echo(f"mlops-gen check: {len(plans)} model folders up to date ({files} files)")
    return 0
