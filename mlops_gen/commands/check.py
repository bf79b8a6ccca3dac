"""`mlops-gen check SPEC_OR_DIR... [-o OUTDIR]`: exit 0 when every model folder is what `generate` would leave,
1 listing stale, hand-edited, missing and orphaned files with the command that fixes them.

Fast path (pre-commit runs this on every commit): when a folder's manifest records the same spec path and hash,
generator version and template fingerprint as now, the rendered bytes cannot have changed, so only the files on disk
are hashed against the manifest; pydantic and jinja2 are not even imported. Anything else is rendered in full.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from mlops_gen.errors import EXIT_DIFFERENCES, UserError
from mlops_gen.output.changes import Change, FolderPlan, retired_folders
from mlops_gen.output.fastpath import Triage, triage
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import MANIFEST_PATH, Manifest, parse_manifest
from mlops_gen.output.options import (
    discover_specs,
    fix_command,
    override_paths,
    reader_may_leave,
    scanned_dirs,
    shown_overrides,
)
from mlops_gen.repo_config.find import ConfigFile, find_config, output_folder

LABELS = {
    ("create", "new"): "missing (not generated yet)",
    ("create", "missing"): "missing (deleted since it was generated)",
    ("update", "stale"): "stale (the spec, the repository configuration, the generator or the templates changed)",
    ("update", "hand-edited"): "hand-edited (differs from what mlops-gen wrote)",
    ("update", "unrecorded"): "a file mlops-gen did not write, where it now generates one (generate refuses to "
                              "overwrite it: move it away, or pass --adopt PATH to hand it over)",
    ("update", "mode"): "executable bit differs from what mlops-gen wrote",
    ("update", "link"): "replaced by a symbolic link (generate never writes through links: remove it first)",
    ("delete", "orphaned"): "orphaned (no longer generated; generate deletes it)",
    ("keep", "edited-orphan"): "orphaned and hand-edited (generate keeps it and stops tracking it)",
    ("keep", "seeded"): "user-owned (seeded once; never overwritten or checked)",
    ("keep", "seeded-orphan"): "user-owned (seeded, no longer planned)",
    ("unchanged", "same"): "up to date",
}


def _recorded(plan: FolderPlan) -> Manifest | None:
    if plan.manifest_same:  # check's fast path: the manifest on disk is the plan's
        return plan.manifest
    if plan.manifest_old is None:
        return None
    try:
        return parse_manifest(plan.manifest_old, str(plan.root / MANIFEST_PATH))
    except UserError:
        return None


def _manifest_drift(plan: FolderPlan) -> str:
    """Which recorded input differs, in words."""
    old, new = _recorded(plan), plan.manifest
    if old is None or new is None:
        return "not written yet"
    found = []
    if (old.spec_path, old.spec_sha256) != (new.spec_path, new.spec_sha256):
        found.append("the spec or the repository configuration changed" if old.spec_path == new.spec_path else
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


def _report(plan: FolderPlan, output: str, overrides: Sequence[str], verbose: bool,
            config_option: str | None = None) -> bool:
    """Print the folder's findings; True when it is up to date."""
    failures = _failures(plan)
    manifest_only = not failures and plan.manifest_changed
    if plan.retired:
        click.echo(f"{plan.root}: orphaned model folder: no spec generates it any more ({plan.retired})")
    for change in plan.all_changes() if verbose else failures:
        click.echo(f"{plan.root / change.path}: {LABELS[(change.action, change.reason)]}")
    if manifest_only and not plan.retired:
        click.echo(f"{plan.root / MANIFEST_PATH}: stale ({_manifest_drift(plan)}; the generated files are "
                   "unchanged)")
    if not failures and not manifest_only:
        owned = plan.size - plan.count("keep")
        seeded = sum(1 for c in plan.changes if c.reason in ("seeded", "seeded-orphan"))  # never elided
        if verbose:
            click.echo(f"{plan.root}: up to date ({owned} generated files, {seeded} user-owned)")
        return True
    click.echo(f"  to fix: {fix_command(plan.spec_path, output, overrides, config_option)}")
    recorded = _recorded(plan)
    if recorded is not None and recorded.override_dirs != tuple(overrides) and not plan.retired:
        used = " ".join(f"--override-dir {d}" for d in recorded.override_dirs) or "no --override-dir"
        click.echo(f"  (note: it was generated with {used}; pass the same to check and generate to keep using "
                   "those templates)")
    if any(c.reason == "hand-edited" for c in failures):
        click.echo("  (generate overwrites hand edits: move them into the spec, an extension step or an "
                   "--override-dir template first; see docs/customizing.md)")
    return False


def run_check(paths: Sequence[str], output: str | None, override_dirs: Sequence[str] = (), verbose: bool = False,
              jobs: int = 0, config_option: str | None = None) -> int:
    with reader_may_leave():
        config = find_config(config_option)
        from mlops_gen.layout.units import layout_of

        if config is not None and layout_of(config) == "monorepo":
            from mlops_gen.layout import units

            return units.run_check(config, paths, output, override_dirs, verbose, jobs, config_option)
        return _check(paths, output_folder(output, config), override_dirs, verbose, jobs, config, config_option)


def _check(paths: Sequence[str], output: str, override_dirs: Sequence[str], verbose: bool, jobs: int,
           config: ConfigFile | None, config_option: str | None = None) -> int:
    overrides = override_paths(override_dirs)
    shown = shown_overrides(overrides)
    outdir = Path(output)
    specs = discover_specs(paths)
    stale = total = files = seeded = 0
    with output_lock(outdir, shared=True):  # never judge a tree a concurrent generate is writing
        found = triage(specs, outdir, overrides, jobs=jobs, config_raw=config.raw if config else b"")
        models = {plan.spec_path: plan.root.name for plan in found.fast.values()}
        plans: Iterator[FolderPlan] = iter(found.fast.values())
        if found.slow:  # only now pay for pydantic and jinja2
            plans = itertools.chain(plans, _rendered_plans(found, outdir, overrides, jobs, models, config))
        for plan in plans:
            total, files = total + 1, files + plan.size
            seeded += sum(1 for c in plan.changes if c.reason in ("seeded", "seeded-orphan"))
            stale += not _report(plan, output, shown, verbose, config_option)
        # the manifests triage read under this lock (nothing writes meanwhile): parsed once per run, not twice
        for plan in retired_folders(outdir, models, scanned_dirs(paths), found.manifests):
            total += 1
            stale += not _report(plan, output, shown, verbose, config_option)
    if stale:
        click.echo(f"mlops-gen check: {stale} of {total} model folder{'s' if total != 1 else ''} out of date")
        return EXIT_DIFFERENCES
    yours = f"; {seeded} seeded files are user-owned and not checked (-v lists them)" if seeded else ""
    click.echo(f"mlops-gen check: {total} model folder{'s' if total != 1 else ''} up to date "
               f"({files - seeded} generated files){yours}")
    return 0


def _rendered_plans(found: Triage, outdir: Path, overrides: Sequence[Path], jobs: int,
                    models: dict[str, str], config: ConfigFile | None) -> Iterator[FolderPlan]:
    """Validate, render and plan the specs the fast path could not settle, one at a time."""
    from mlops_gen.commands.generate import iter_rendered, plan_model, unique_models
    from mlops_gen.spec.validate import load_specs

    specs = load_specs([str(path) for path in found.slow], config)
    unique_models(specs, found.known)
    from mlops_gen.output.fingerprint import template_fingerprint

    fingerprint = template_fingerprint(overrides)  # once, not per model
    for spec_file, files in iter_rendered(specs, override_dirs=overrides, jobs=jobs, outdir=outdir):
        plan = plan_model(spec_file, files, outdir, override_dirs=overrides, fingerprint=fingerprint)
        models[plan.spec_path] = plan.root.name
        yield plan
