"""generate, check and diff in the monorepo layout: its units planned, checked and written by the output machinery
of the per-model layout (mlops_gen.output), with the repository root as every unit's root.

A unit is (root R, its manifest's path relative to R, its files relative to R): the shared unit
(`O/_shared/.mlops-gen/manifest.json`) and one per model (`O/<model>/.mlops-gen/manifest.json`); both manifests
list R-relative paths, the root `.github/workflows/` files included. Everything the per-model layout guarantees
holds per unit: atomic writes of changed files only, owned and seeded files, refusal to overwrite files no manifest
records (unless --adopt), the output folder's lock, dry runs, the retirement of a removed spec's unit, and check's
fast path (a unit whose manifest records the current inputs is compared with the disk, not rendered).

Switching layout: the manifest of a model lies at `O/<model>/.mlops-gen/manifest.json` in both layouts. A manifest
the other layout wrote is read as the previous state (see output.changes.recorded_files): its owned files that the
new layout does not plan are deleted when untouched, edited ones and seeded ones are kept where they are, and files
at a path both layouts generate are simply updated. A full run of the per-model layout retires the shared unit.

Light imports at module level: an up-to-date `check` never imports pydantic or jinja2.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlops_gen import __version__
from mlops_gen.errors import EXIT_DIFFERENCES, Problem, SpecError, UserError
from mlops_gen.layout.paths import SHARED, Monorepo
from mlops_gen.output.changes import REASONS, Change, FolderPlan, Inputs, plan_folder, retired_folders
from mlops_gen.output.fastpath import verified
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_hashes, templates_fingerprint
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import MANIFEST_PATH, MONOREPO, Manifest, all_manifests
from mlops_gen.output.options import discover_specs, override_paths, scanned_dirs, shown_overrides
from mlops_gen.output.paths import shown_path
from mlops_gen.repo_config.find import ConfigFile
from mlops_gen.spec.canonical import canonical_spec_bytes, input_bytes

if TYPE_CHECKING:
    from mlops_gen.layout.monorepo import Unit
    from mlops_gen.spec.validate import SpecFile

LAYOUTS = ("per-model", MONOREPO)  # mlops_gen.repo_config.model.Layout


def layout_of(config: ConfigFile | None) -> str:
    """The configuration's `layout`, read without validating the file (as repo_config.find.output_folder reads
    `output`); a value that is not a layout sends the file through validation, which names it."""
    if config is None:
        return "per-model"
    import yaml

    try:
        data = yaml.safe_load(config.raw)
    except yaml.YAMLError:
        data = None
    layout = data.get("layout", "per-model") if isinstance(data, dict) else "per-model"
    if layout not in LAYOUTS:
        from mlops_gen.spec.validate import config_settings

        config_settings(config)  # raises SpecError positioned at the key
        raise UserError(f"{config.shown_as}: layout: {layout!r} is not one of {', '.join(LAYOUTS)}")
    return str(layout)


@dataclass(frozen=True)
class Repo:
    """The repository of a monorepo run: its root R (as shown: relative to the working directory when below it)
    and the output folder relative to R."""

    root: Path
    out: str

    @property
    def outdir(self) -> Path:
        return self.root / self.out

    @property
    def paths(self) -> Monorepo:
        return Monorepo(self.out)


def repository(config: ConfigFile, option: str | None) -> Repo:
    """R is the configuration's folder; the output folder (-o, else the configuration's `output`) is relative to
    R and must lie inside it."""
    if option is not None:
        out = option
    else:
        import yaml

        try:
            data = yaml.safe_load(config.raw)
        except yaml.YAMLError:
            data = None
        value = data.get("output") if isinstance(data, dict) else None
        out = value if isinstance(value, str) and value else "generated"
    normal = posixpath.normpath(out.replace(os.sep, "/"))
    if posixpath.isabs(normal) or normal == "." or normal == ".." or normal.startswith("../"):
        raise UserError(f"output folder {out!r}: in the monorepo layout it is a folder inside the repository "
                        f"(relative to {config.shown_as}'s folder), not the repository itself or outside it")
    folder = config.folder
    try:
        relative = os.path.relpath(folder)
        root = Path(relative) if not relative.startswith("..") else folder
    except ValueError:  # another drive on Windows
        root = folder
    return Repo(root, normal)


def shared_digest(repo: Repo) -> str:
    """What the shared unit depends on instead of a spec: the layout and the output folder."""
    return sha256(f"layout: monorepo\noutput: {repo.out}\n".encode())


def unit_inputs(repo: Repo, unit: Unit, hashes: dict[str, str], overrides: Sequence[Path]) -> Inputs:
    """A unit's recorded inputs: its spec (none for the shared unit), the generator, and the templates its render
    loaded (template_fingerprint covers those only: a template change touches the manifests of its users)."""
    spec_file = unit.spec_file
    return Inputs(model=unit.name, spec_path=shown_path(spec_file.path) if spec_file is not None else "",
                  spec_sha256=sha256(spec_file.inputs) if spec_file is not None else shared_digest(repo),
                  generator_version=__version__, generator_fingerprint=generator_fingerprint(),
                  template_fingerprint=templates_fingerprint(unit.templates, hashes),
                  override_dirs=shown_overrides(overrides), layout=MONOREPO, output=repo.out,
                  templates_used=unit.templates)


def plan_unit(repo: Repo, unit: Unit, inputs: Inputs, selected: set[str] | None = None) -> FolderPlan:
    return plan_folder(repo.root, unit.files, inputs, selected, unit.manifest_path)


# ----- check's fast path: units whose manifests record the current inputs -----

@dataclass
class UnitTriage:
    fast: dict[Path, FolderPlan] = field(default_factory=dict)  # spec path -> verified model unit
    slow: list[Path] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)  # model -> spec path shown, of the fast ones
    shared: FolderPlan | None = None  # the shared unit, verified, when its manifest records the current inputs
    manifests: list[tuple[Path, Manifest]] = field(default_factory=list)

    def up_to_date(self) -> dict[Path, FolderPlan]:
        return {path: plan for path, plan in self.fast.items() if not plan.differences and not plan.manifest_changed}

    def shared_up_to_date(self) -> bool:
        return self.shared is not None and not self.shared.differences and not self.shared.manifest_changed


def _current(manifest: Manifest, spec: tuple[str, str], repo: Repo, overrides: tuple[str, ...],
             hashes: dict[str, str], known: dict[tuple[str, ...], str]) -> bool:
    if not (manifest.layout == MONOREPO and manifest.output == repo.out and manifest.complete
            and not manifest.edited and manifest.override_dirs == overrides):
        return False
    fingerprint = known.get(manifest.templates_used)
    if fingerprint is None:  # most units share one list of templates: hashed once
        fingerprint = known[manifest.templates_used] = templates_fingerprint(manifest.templates_used, hashes)
    return manifest.inputs() == (*spec, __version__, generator_fingerprint(), fingerprint)


def triage_units(repo: Repo, specs: Sequence[Path], overrides: Sequence[Path], hashes: dict[str, str], jobs: int,
                 config_raw: bytes) -> UnitTriage:
    result = UnitTriage(manifests=all_manifests(repo.outdir))
    shown_dirs = shown_overrides(overrides)
    index: dict[str, list[Manifest]] = {}
    shared: Manifest | None = None
    for _, manifest in result.manifests:
        if manifest.model == SHARED:
            shared = manifest
        else:
            index.setdefault(manifest.spec_path, []).append(manifest)
    matched: list[tuple[Path | None, Manifest]] = []
    known: dict[tuple[str, ...], str] = {}
    if shared is not None and _current(shared, ("", shared_digest(repo)), repo, shown_dirs, hashes, known):
        matched.append((None, shared))
    for path in specs:
        shown = shown_path(path)
        try:
            digest = sha256(input_bytes(canonical_spec_bytes(path.read_bytes()), config_raw))
        except OSError:
            result.slow.append(path)
            continue
        match = [m for m in index.get(shown, []) if _current(m, (shown, digest), repo, shown_dirs, hashes, known)]
        if match and match[0].model not in result.known:
            matched.append((path, match[0]))
            result.known[match[0].model] = shown
        else:
            result.slow.append(path)
    units = [(repo.root, manifest) for _, manifest in matched]
    where = [repo.paths.model(manifest.model, MANIFEST_PATH) for _, manifest in matched]
    for (spec, _), plan in zip(matched, verified(units, jobs, where), strict=True):
        if spec is None:
            result.shared = plan
        else:
            result.fast[spec] = plan
    return result


# ----- rendering -----

def _env(overrides: Sequence[Path]) -> Any:
    from mlops_gen.render.environment import build_env

    return build_env(overrides)


def _load(paths: Sequence[Path], config: ConfigFile | None, known: Mapping[str, str]) -> list[SpecFile]:
    """Every spec validated, in this process; model names unique with the up-to-date ones too."""
    from mlops_gen.commands.generate import unique_models
    from mlops_gen.spec.validate import load_specs

    specs = load_specs([str(path) for path in paths], config) if paths else []
    unique_models(specs, known)
    return specs


def _units_in_worker(paths: list[str], config: ConfigFile | None, repo: Monorepo, targets: tuple[str, ...]
                     ) -> tuple[list[SpecFile], list[Problem], list[Unit]]:
    """In a worker process (see commands.generate._pool, whose initializer made the jinja environment): a slice
    of the specs validated and, when all of them are valid, their model units rendered (without their spec: the
    parent has it). One pass, so the files validation planned for a spec are the ones its render uses."""
    import dataclasses

    from mlops_gen.commands import generate
    from mlops_gen.layout.monorepo import model_unit
    from mlops_gen.spec.validate import collect_specs

    specs, problems = collect_specs(paths, config)
    if problems:
        return specs, problems, []
    return specs, [], [dataclasses.replace(model_unit(spec_file, repo, generate._worker_env, targets), spec_file=None)
                       for spec_file in specs]


def loaded_units(paths: Sequence[Path], config: ConfigFile | None, known: Mapping[str, str], repo: Monorepo,
                 overrides: Sequence[Path], targets: Sequence[str], jobs: int, env: Any) -> list[Unit]:
    """Validate every spec (all problems raised at once, as SpecError) and render its model unit, in order: on
    several cores for many specs, each worker validating and rendering its own slice."""
    import dataclasses

    from mlops_gen.commands.generate import _pool, unique_models
    from mlops_gen.layout.monorepo import model_unit
    from mlops_gen.parallel import slice_size, workers
    from mlops_gen.spec.validate import config_settings

    if config is not None:
        config_settings(config)  # its problems are raised here, once, not by every worker
    count = workers(jobs, len(paths))
    pool = _pool(count, overrides) if count > 1 else None
    if pool is None:  # few specs, or no process pool on this platform
        return [model_unit(spec_file, repo, env, targets) for spec_file in _load(paths, config, known)]
    size = slice_size(len(paths), count)
    try:
        futures = [pool.submit(_units_in_worker, [str(p) for p in paths[start:start + size]], config, repo,
                               tuple(targets)) for start in range(0, len(paths), size)]
        specs: list[SpecFile] = []
        problems: list[Problem] = []
        units: list[Unit] = []
        for future in futures:
            chunk_specs, chunk_problems, chunk_units = future.result()
            specs += chunk_specs
            problems += chunk_problems
            if not chunk_problems:  # a slice with problems renders nothing
                units += [dataclasses.replace(unit, spec_file=spec_file)
                          for spec_file, unit in zip(chunk_specs, chunk_units, strict=True)]
        if problems:
            raise SpecError(problems)
        unique_models(specs, known)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return units


@dataclass
class Planned:
    """The plans of one run: the shared unit's (None when skipped as up to date), each model unit's with its
    unit (None when up to date), and the retired units."""

    shared: FolderPlan | None = None
    shared_unit: Unit | None = None
    models: list[tuple[FolderPlan, Unit | None]] = field(default_factory=list)
    retired: list[FolderPlan] = field(default_factory=list)

    def all(self) -> Iterator[tuple[str, FolderPlan]]:
        if self.shared is not None:
            yield "shared", self.shared
        for plan, _ in self.models:
            yield f"model {unit_name(plan)}", plan
        for plan in self.retired:
            yield f"model {unit_name(plan)}" if unit_name(plan) != SHARED else "shared", plan


def unit_name(plan: FolderPlan) -> str:
    return plan.folder.name


def plan_units(repo: Repo, paths: Sequence[str], spec_paths: Sequence[Path], overrides: Sequence[Path],
               targets: Sequence[str], config: ConfigFile | None, found: UnitTriage | None, hashes: dict[str, str],
               full: bool, jobs: int = 0) -> Planned:
    """Validate the specs the fast path could not settle, render their units (and the shared unit unless it is up
    to date), and plan every unit read-only; the retired units of a full run too."""
    from mlops_gen.commands.generate import _blame_overrides

    with _blame_overrides(overrides):  # a failing --override-dir template is the user's to fix: exit 2 naming it
        return _plan_units(repo, paths, spec_paths, overrides, targets, config, found, hashes, full, jobs)


def _plan_units(repo: Repo, paths: Sequence[str], spec_paths: Sequence[Path], overrides: Sequence[Path],
                targets: Sequence[str], config: ConfigFile | None, found: UnitTriage | None, hashes: dict[str, str],
                full: bool, jobs: int) -> Planned:
    from mlops_gen.commands.generate import selected_targets
    from mlops_gen.layout.monorepo import shared_unit

    up_to_date = found.up_to_date() if found is not None else {}
    slow = [path for path in spec_paths if path not in up_to_date]
    env = _env(overrides)
    loaded = iter(loaded_units(slow, config, found.known if found is not None else {}, repo.paths, overrides,
                               targets, jobs, env))
    selected = selected_targets(targets)
    planned = Planned()
    if found is not None and found.shared is not None and found.shared_up_to_date():
        shared = found.shared
    else:
        planned.shared_unit = shared_unit(repo.paths, env, targets)
        shared = plan_unit(repo, planned.shared_unit, unit_inputs(repo, planned.shared_unit, hashes, overrides),
                           selected)
    planned.shared = shared
    shared.spec_path = paths[0] if paths else "."  # what to generate to fix it
    models: dict[str, str] = {}
    for path in spec_paths:
        if path in up_to_date:
            plan = up_to_date[path]
            planned.models.append((plan, None))
        else:
            unit = next(loaded)
            plan = plan_unit(repo, unit, unit_inputs(repo, unit, hashes, overrides), selected)
            planned.models.append((plan, unit))
        models[plan.spec_path] = unit_name(plan)
    if full:
        manifests = found.manifests if found is not None else None
        planned.retired = retired_folders(repo.outdir, models, scanned_dirs(paths), manifests, layout=MONOREPO)
    return planned


# ----- generate -----

ACTION_LABELS = {"create": "created", "update": "updated", "unchanged": "unchanged", "delete": "deleted",
                 "keep": "kept"}
_SWITCHED = ("other-layout", "other-layout-edited", "other-layout-seeded")


def _counts(changes: Sequence[Change], plan: FolderPlan) -> dict[str, int]:
    numbers = {action: plan.count(action) for action in ACTION_LABELS}  # type: ignore[arg-type]
    for change in changes:
        numbers[change.action] += 1
    return numbers


def _count_text(numbers: Mapping[str, int]) -> str:
    text = (f"{numbers['create']} created, {numbers['update']} updated, {numbers['unchanged']} unchanged, "
            f"{numbers['delete']} deleted")
    return text + (f", {numbers['keep']} kept (yours)" if numbers["keep"] else "")


def _shown(plan: FolderPlan, path: str) -> str:
    return (plan.root / path).as_posix()


def switch_lines(plan: FolderPlan, dry_run: bool) -> list[str]:
    """What a layout switch does to a unit, file by file: removed, kept, and where the new layout seeds a file of
    the same name afresh (mlops-gen never moves a file of yours)."""
    before = plan.before.changes if plan.before is not None else []
    moved = [(plan.before.root if plan.before is not None else plan.root, c) for c in before]
    moved += [(plan.root, c) for c in plan.changes if c.reason in _SWITCHED]
    if not moved:
        return []
    would = "would be " if dry_run else ""
    lines = [f"  the layout changed: the previous layout's files of {plan.folder.as_posix()}, and this layout's:"]
    fresh = {posixpath.basename(c.path): c.path for c in plan.changes if c.action == "create"}
    moved += [(plan.root, c) for c in plan.changes if c.action in ("create", "update") or c.reason == "seeded"]
    for root, change in sorted(moved, key=lambda item: (item[0] / item[1].path).as_posix()):
        where = (root / change.path).as_posix()
        if change.action == "delete":
            lines.append(f"    {would}removed  {where}")
        elif change.action in ("create", "update"):
            lines.append(f"    {would}{ACTION_LABELS[change.action]:<8} {where}")
        elif change.reason == "seeded":
            lines.append(f"    {would}kept     {where} (yours; this layout uses it where it is)")
        elif change.reason == "other-layout-seeded":
            hint = fresh.get(posixpath.basename(change.path))
            moved_to = (f"; this layout seeds {_shown(plan, hint)} afresh: to keep your changes, "
                        f"mv {shlex.quote(where)} {shlex.quote(_shown(plan, hint))}" if hint else
                        "; this layout does not use it")
            lines.append(f"    {would}kept     {where} (yours{moved_to})")
        else:
            lines.append(f"    {would}kept     {where} (edited by hand; no longer tracked)")
    return lines


def _summarise(label: str, plan: FolderPlan, dry_run: bool, verbose: bool, totals: dict[str, int]) -> None:
    before = plan.before.changes if plan.before is not None else []
    numbers = _counts(before, plan)
    for action, number in numbers.items():
        totals[action] += number
    differs = bool(plan.differences) or any(c.is_difference for c in before) or plan.manifest_changed
    if not (verbose or differs or plan.retired):
        return
    retired = f"; retired: {plan.retired}" if plan.retired else ""
    click.echo(f"{label} ({plan.folder.as_posix()}): {_count_text(numbers)}{retired}")
    for line in switch_lines(plan, dry_run):
        click.echo(line)
    if verbose:
        for change in plan.all_changes():
            click.echo(f"  {ACTION_LABELS[change.action]:<9} {_shown(plan, change.path)}: {REASONS[change.reason]}")


def run_generate(config: ConfigFile, paths: Sequence[str], output: str | None, targets: Sequence[str],
                 dry_run: bool, verbose: bool, override_dirs: Sequence[str], jobs: int, adopt: Sequence[str]) -> int:
    from mlops_gen.commands.generate import selected_targets
    from mlops_gen.output.apply_many import apply_plans
    from mlops_gen.output.conflicts import adopted_paths, refuse_conflicts
    from mlops_gen.parallel import few_collections

    overrides = override_paths(override_dirs)
    repo = repository(config, output)
    outdir = repo.outdir
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"{outdir}: exists and is not a directory")
    spec_paths = discover_specs(paths)
    full = selected_targets(targets) is None
    created = [] if dry_run else [d for d in [outdir, *outdir.parents] if not d.exists()]
    if not dry_run:
        outdir.mkdir(parents=True, exist_ok=True)  # the lock lives on it
    try:
        with output_lock(outdir, shared=dry_run), few_collections():
            hashes = template_hashes(overrides)
            found = triage_units(repo, spec_paths, overrides, hashes, jobs, config.raw) if full else None
            planned = plan_units(repo, paths, spec_paths, overrides, targets, config, found, hashes, full, jobs)
            units = [(plan, unit) for plan, unit in [(planned.shared, planned.shared_unit), *planned.models]
                     if unit is not None and plan is not None]
            refuse_conflicts([(repo.root, list(unit.files), unit.manifest_path, MONOREPO) for _, unit in units],
                             lambda index: units[index][1].files, adopted_paths(adopt))
            if not dry_run:  # the model units on several cores: each owns its folder and its callers
                apply_plans([planned.shared] if planned.shared is not None else [],
                            [plan for plan, _ in planned.models], planned.retired, jobs)
            totals = dict.fromkeys(ACTION_LABELS, 0)
            count = 0
            for label, plan in planned.all():
                count += label.startswith("model") and not plan.retired
                _summarise(label, plan, dry_run, verbose, totals)
    except BaseException:
        for directory in created:  # an invalid spec leaves no trace, not even an empty folder
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    suffix = " (dry run: nothing written)" if dry_run else ""
    click.echo(f"mlops-gen generate: {outdir.as_posix()} (monorepo): the shared unit and {count} model"
               f"{'s' if count != 1 else ''}, {_count_text(totals)}{suffix}")
    return 0


# ----- check -----

def run_check(config: ConfigFile, paths: Sequence[str], output: str | None, override_dirs: Sequence[str],
              verbose: bool, jobs: int, config_option: str | None) -> int:
    from mlops_gen.commands.check import _report

    overrides = override_paths(override_dirs)
    shown = shown_overrides(overrides)
    repo = repository(config, output)
    spec_paths = discover_specs(paths)
    stale: list[str] = []
    total = files = seeded = 0
    with output_lock(repo.outdir, shared=True):
        hashes = template_hashes(overrides)
        found = triage_units(repo, spec_paths, overrides, hashes, jobs, config.raw)
        plans: list[tuple[str, FolderPlan]]
        if not found.slow and found.shared_up_to_date() and len(found.up_to_date()) == len(found.fast):
            assert found.shared is not None
            found.shared.spec_path = paths[0] if paths else "."
            plans = [("shared", found.shared), *((f"model {unit_name(p)}", p) for p in found.fast.values())]
            models = {plan.spec_path: unit_name(plan) for plan in found.fast.values()}
            plans += [(f"model {unit_name(p)}" if unit_name(p) != SHARED else "shared", p) for p in
                      retired_folders(repo.outdir, models, scanned_dirs(paths), found.manifests, layout=MONOREPO)]
        else:  # only now pay for pydantic and jinja2
            from mlops_gen.registry import TARGETS

            planned = plan_units(repo, paths, spec_paths, overrides, TARGETS, config, found, hashes, True, jobs)
            plans = list(planned.all())
        for label, plan in plans:
            total, files = total + 1, files + plan.size
            seeded += sum(1 for c in plan.changes if c.reason in ("seeded", "seeded-orphan"))
            if not _report(plan, repo.out, shown, verbose, config_option):
                stale.append(label)
    units = f"{total} unit{'s' if total != 1 else ''}"
    if stale:
        click.echo(f"mlops-gen check: {len(stale)} of {units} out of date: {', '.join(stale)}")
        return EXIT_DIFFERENCES
    yours = f"; {seeded} seeded files are user-owned and not checked (-v lists them)" if seeded else ""
    click.echo(f"mlops-gen check: {units} up to date (the shared unit and {total - 1} model"
               f"{'s' if total != 2 else ''}; {files - seeded} generated files){yours}")
    return 0


# ----- diff -----

def diff_entries(plan: FolderPlan) -> list[tuple[str, Change]]:
    """The unit's changes as (path relative to the repository root, change), its manifest's last."""
    from mlops_gen.commands.diff import unit_entries

    return unit_entries(plan, lambda root, path: (root / path).as_posix())


def run_diff(config: ConfigFile, paths: Sequence[str], output: str | None, stat: bool,
             override_dirs: Sequence[str], base: str = "HEAD", jobs: int = 0) -> int:
    """A unified diff with paths relative to the repository root (apply with `git apply` there); with --stat,
    the changed files grouped by unit: shared first, then each model."""
    from mlops_gen.commands.diff import _counts as line_counts
    from mlops_gen.commands.diff import file_diff, summaries
    from mlops_gen.registry import TARGETS

    overrides = override_paths(override_dirs)
    repo = repository(config, output)
    spec_paths = discover_specs(paths)
    groups: list[tuple[str, list[tuple[str, int, int]]]] = []
    changed = 0
    with output_lock(repo.outdir, shared=True):
        hashes = template_hashes(overrides)
        planned = plan_units(repo, paths, spec_paths, overrides, TARGETS, config, None, hashes, True, jobs)
        summaries([unit.spec_file for _, unit in planned.models if unit is not None and unit.spec_file is not None],
                  config, base)
        for label, plan in planned.all():
            entries = diff_entries(plan)
            if plan.retired:
                click.echo(f"# {label}: no longer generated ({plan.retired})")
            changed += len(entries)
            if stat:
                if entries:
                    groups.append((label, [(name, *line_counts(change)) for name, change in entries]))
                continue
            for name, change in entries:
                for line in file_diff(name, change):
                    click.echo(line)
    if groups:
        _grouped_stat(groups)
    return EXIT_DIFFERENCES if changed else 0


def _grouped_stat(groups: Sequence[tuple[str, Sequence[tuple[str, int, int]]]]) -> None:
    width = max(len(name) for _, rows in groups for name, _, _ in rows)
    files = added = removed = 0
    for label, rows in groups:
        plus, minus = sum(r[1] for r in rows), sum(r[2] for r in rows)
        click.echo(f"{label}: {len(rows)} file{'s' if len(rows) != 1 else ''} changed, {plus} insertions(+), "
                   f"{minus} deletions(-)")
        for name, up, down in rows:
            bar = "+" * min(up, 30) + "-" * min(down, 30)
            click.echo(f" {name:<{width}} | {up + down:>5} {bar}")
        files, added, removed = files + len(rows), added + plus, removed + minus
    click.echo(f" {files} files changed, {added} insertions(+), {removed} deletions(-) in {len(groups)} unit"
               f"{'s' if len(groups) != 1 else ''}: {', '.join(label for label, _ in groups)}")
