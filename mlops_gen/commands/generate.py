"""`mlops-gen generate SPEC_OR_DIR...`: render every spec into OUTDIR/<model.name>/."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import click

from mlops_gen.errors import Problem, SpecError
from mlops_gen.output.writer import write_tree
from mlops_gen.render.environment import build_env
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


def render_all(paths: Sequence[str], targets: Sequence[str]) -> list[tuple[SpecFile, dict[str, RenderedFile]]]:
    specs = load_specs(paths)
    unique_models(specs)
    env = build_env()
    return [(spec_file, render_spec(spec_file, targets, env)) for spec_file in specs]


def run_generate(paths: Sequence[str], output: str, targets: Sequence[str], dry_run: bool, verbose: bool) -> int:
    rendered = render_all(paths, targets)  # everything validated and rendered before the first write
    for spec_file, files in rendered:
        root = Path(output) / spec_file.spec.model.name
        report = write_tree(root, files, dry_run=dry_run)
        prefix = "would write" if dry_run else "wrote"
        click.echo(f"{root}: {prefix} {len(report.created)} created, {len(report.updated)} updated, "
                   f"{len(report.unchanged)} unchanged, {len(report.deleted)} deleted")
        if verbose:
            for label, names in (("created", report.created), ("updated", report.updated),
                                 ("unchanged", report.unchanged), ("deleted", report.deleted),
                                 ("kept (yours)", report.kept)):
                for name in names:
                    click.echo(f"  {label}: {name}")
    return 0
