"""`mlops-gen generate SPEC_OR_DIR...`: render every spec into OUTDIR/<model.name>/, safely.

Every spec is validated and rendered, and every model folder's change plan computed (manifests and paths
validated), before the first byte is written; the whole run holds the output directory's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from mlops_gen import __version__
from mlops_gen.errors import Problem, SpecError, UserError
from mlops_gen.output.changes import REASONS, FolderPlan, Inputs, plan_folder, retired_folders
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_fingerprint
from mlops_gen.output.lock import output_lock
from mlops_gen.output.options import override_paths, scanned_dirs, shown_overrides
from mlops_gen.output.paths import shown_path
from mlops_gen.output.writer import apply_plan
from mlops_gen.render.environment import build_env
from mlops_gen.render.plan import ALWAYS_ON, TARGETS
from mlops_gen.render.render import RenderedFile, render_spec
from mlops_gen.spec.validate import SpecFile, load_specs


def unique_models(specs: Sequence[SpecFile]) -> None:
    """Two specs for one model would overwrite each other's folder: refuse, naming both files."""
    seen: dict[str, SpecFile] = {}
    problems = []
    for spec_file in specs:
        name = spec_file.spec.model.name
        if name in seen:
            problems.append(Problem(spec_file.shown_as, 1, 1, "model.name",
                                    f"model {name!r} is also defined in {seen[name].shown_as}"))
        seen.setdefault(name, spec_file)
    if problems:
        raise SpecError(problems)


def render_all(paths: Sequence[str], targets: Sequence[str] = TARGETS,
               override_dirs: Sequence[Path] = ()) -> list[tuple[SpecFile, dict[str, RenderedFile]]]:
    specs = load_specs(paths)
    unique_models(specs)
    env = build_env(override_dirs)
    return [(spec_file, render_spec(spec_file, targets, env)) for spec_file in specs]


def plan_all(rendered: Sequence[tuple[SpecFile, dict[str, RenderedFile]]], output: Path,
             targets: Sequence[str] = TARGETS, override_dirs: Sequence[Path] = (),
             paths: Sequence[str] = (), *, retire: bool = True) -> list[FolderPlan]:
    """The change plan of every model folder (read-only), with the inputs the new manifests record; on a full
    run also of folders no spec generates any more (model renamed, spec deleted from a directory in `paths`)."""
    fingerprint = template_fingerprint(override_dirs)
    overrides = shown_overrides(override_dirs)
    selected = None if set(TARGETS) <= set(targets) else {*targets, *ALWAYS_ON}
    plans = []
    for spec_file, files in rendered:
        model = spec_file.spec.model.name
        inputs = Inputs(model=model, spec_path=shown_path(spec_file.path), spec_sha256=sha256(spec_file.raw),
                        generator_version=__version__, generator_fingerprint=generator_fingerprint(),
                        template_fingerprint=fingerprint, override_dirs=overrides)
        plans.append(plan_folder(output / model, files, inputs, selected))
    if retire and selected is None:
        current = {shown_path(spec_file.path): spec_file.spec.model.name for spec_file, _ in rendered}
        plans.extend(retired_folders(output, current, scanned_dirs(paths)))
    return plans


def _report(plan: FolderPlan, dry_run: bool, verbose: bool) -> None:
    counts = (f"{plan.count('create')} created, {plan.count('update')} updated, "
              f"{plan.count('unchanged')} unchanged, {plan.count('delete')} deleted")
    kept = plan.count("keep")
    suffix = f", {kept} kept (yours)" if kept else ""
    suffix += f"; model folder retired: {plan.retired}" if plan.retired else ""
    suffix += " (dry run: nothing written)" if dry_run else ""
    click.echo(f"{plan.root}: {counts}{suffix}")
    if verbose:
        labels = {"create": "created", "update": "updated", "unchanged": "unchanged", "delete": "deleted",
                  "keep": "kept"}
        for change in plan.changes:
            click.echo(f"  {labels[change.action]:<9} {change.path}: {REASONS[change.reason]}")


def run_generate(paths: Sequence[str], output: str, targets: Sequence[str] = TARGETS, dry_run: bool = False,
                 verbose: bool = False, override_dirs: Sequence[str] = ()) -> int:
    overrides = override_paths(override_dirs)
    rendered = render_all(paths, targets, overrides)  # every spec validated and rendered before the first write
    outdir = Path(output)
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"{output}: exists and is not a directory")
    if dry_run:
        with output_lock(outdir, shared=True):
            plans = plan_all(rendered, outdir, targets, overrides, paths)
        for plan in plans:
            _report(plan, dry_run, verbose)
        return 0
    outdir.mkdir(parents=True, exist_ok=True)
    with output_lock(outdir):
        plans = plan_all(rendered, outdir, targets, overrides, paths)  # all manifests and paths validated first
        for plan in plans:
            apply_plan(plan)
            _report(plan, dry_run, verbose)
    return 0
