"""`mlops-gen generate SPEC_OR_DIR...`: render every spec into OUTDIR/<model.name>/, safely.

Every spec is validated, and every model folder's manifest and its paths checked, before the first byte is
written; the run holds the output directory's lock throughout. Folders whose manifest records the current inputs
and whose files are intact are not rendered again. The rest are rendered (on several cores for many specs) and
planned and written one model at a time, so memory stays flat however many specs there are.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import os
import re
import shlex
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import jinja2

from mlops_gen import __version__
from mlops_gen.errors import MlopsGenError, Problem, SpecError, UserError
from mlops_gen.output.changes import REASONS, Action, FolderPlan, Inputs, plan_folder, retired_folders
from mlops_gen.output.conflicts import adopted_paths, refuse_conflicts
from mlops_gen.output.fastpath import Triage, triage
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_fingerprint
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import manifest_file, read_manifest
from mlops_gen.output.options import discover_specs, override_paths, scanned_dirs, shown_overrides
from mlops_gen.output.paths import from_shown, safe_target, shown_path
from mlops_gen.output.writer import apply_plan, build_folder, is_new_folder, place_folder, remove_leftovers
from mlops_gen.parallel import few_collections, process_pool, slice_size, workers
from mlops_gen.render.environment import build_env
from mlops_gen.render.plan import ALWAYS_ON, TARGETS, cached_plan, remember_plan
from mlops_gen.render.plan import plan as planned_files
from mlops_gen.render.render import DEFAULT_OUTPUT_DIR, RenderedFile, render_spec
from mlops_gen.repo_config.find import ConfigFile, find_config, output_folder
from mlops_gen.spec.validate import SpecFile, collect_specs, config_settings, duplicate_models, load_specs

COLLECT_EVERY = 64  # model folders between two collections of cyclic garbage (see few_collections)


_written_since_collection = 0


def _collect_now_and_then() -> None:
    global _written_since_collection
    _written_since_collection += 1
    if _written_since_collection >= COLLECT_EVERY:
        _written_since_collection = 0
        gc.collect(0)


def unique_models(specs: Sequence[SpecFile], known: Mapping[str, str] | None = None) -> None:
    """Two specs for one model would overwrite each other's folder: refuse, naming both files (see
    duplicate_models)."""
    problems = duplicate_models(specs, known)
    if problems:
        raise SpecError(problems)


def render_all(paths: Sequence[str], targets: Sequence[str] = TARGETS,
               override_dirs: Sequence[Path] = ()) -> list[tuple[SpecFile, dict[str, RenderedFile]]]:
    """Validate and render every spec under `paths`, in memory (for tests and small runs)."""
    specs = load_specs(paths)
    unique_models(specs)
    env = build_env(override_dirs)
    return [(spec_file, render_spec(spec_file, targets, env)) for spec_file in specs]


# ----- rendering, on several processes when there are many specs -----

_worker_env: Any = None


def _start_worker(override_dirs: tuple[Path, ...]) -> None:
    global _worker_env
    _worker_env = build_env(override_dirs)


def _render_in_worker(specs: list[SpecFile], targets: tuple[str, ...], output_dir: str
                      ) -> list[dict[str, RenderedFile]]:
    return [render_spec(spec_file, targets, _worker_env, output_dir) for spec_file in specs]


def iter_rendered(specs: Sequence[SpecFile], targets: Sequence[str] = TARGETS, override_dirs: Sequence[Path] = (),
                  jobs: int = 0, outdir: Path = Path(DEFAULT_OUTPUT_DIR)
                  ) -> Generator[tuple[SpecFile, dict[str, RenderedFile]], None, None]:
    """Rendered files of each spec, in order, produced as they are needed."""
    with _blame_overrides(override_dirs):
        yield from _rendered(specs, targets, override_dirs, jobs, shown_path(outdir))


@contextlib.contextmanager
def _blame_overrides(override_dirs: Sequence[Path]) -> Iterator[None]:
    """A failure inside an --override-dir template is the user's to fix: exit 2 naming it, not an internal error."""
    try:
        yield
    except MlopsGenError:
        raise
    except Exception as exc:
        template = _override_in(exc, override_dirs)
        if template is None:
            raise
        raise UserError(f"{template}: this override template fails to render: {type(exc).__name__}: {exc}"
                        ) from exc


def _override_in(exc: BaseException, override_dirs: Sequence[Path]) -> str | None:
    """The override template an exception came from, if any: jinja names template files in tracebacks."""
    roots = [os.path.abspath(d) + os.sep for d in override_dirs]
    if not roots:
        return None
    candidates: list[tuple[str, int]] = []
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        candidates.append((exc.filename, exc.lineno))
    trace = exc.__traceback__
    while trace is not None:  # jinja maps template frames to the template's file and line
        candidates.append((trace.tb_frame.f_code.co_filename, trace.tb_lineno))
        trace = trace.tb_next
    for name, line in candidates:
        if any(os.path.abspath(name).startswith(root) for root in roots):
            return f"{name}:{line}"
    remote = str(exc.__cause__ or "")  # a worker's traceback, as text
    candidates = [(name, int(line)) for name, line in re.findall(r'File "([^"]+)", line (\d+)', remote)]
    for name, line in candidates:
        if any(os.path.abspath(name).startswith(root) for root in roots):
            return f"{name}:{line}"
    if isinstance(exc, RuntimeError) and str(exc).startswith("rendered "):  # render.verify: output does not parse
        return f"a template in --override-dir {', '.join(map(str, override_dirs))}"
    return None


def _rendered(specs: Sequence[SpecFile], targets: Sequence[str], override_dirs: Sequence[Path],
              jobs: int, output_dir: str) -> Generator[tuple[SpecFile, dict[str, RenderedFile]], None, None]:
    count = workers(jobs, len(specs))
    pool = _pool(count, override_dirs) if count > 1 else None
    if pool is None:
        env = build_env(override_dirs)
        for spec_file in specs:
            yield spec_file, render_spec(spec_file, targets, env, output_dir)
        return
    size = slice_size(len(specs), count)
    chunks = [list(specs[start:start + size]) for start in range(0, len(specs), size)]
    pending: collections.deque[Any] = collections.deque()
    try:
        # A bounded window of chunks in flight: rendered trees never pile up in memory ahead of the writer.
        for chunk in chunks:
            pending.append((chunk, pool.submit(_render_in_worker, chunk, tuple(targets), output_dir)))
            if len(pending) > 2 * count:
                done, future = pending.popleft()
                yield from zip(done, future.result(), strict=True)
        while pending:
            done, future = pending.popleft()
            yield from zip(done, future.result(), strict=True)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # also when the caller stops early


def _pool(count: int, override_dirs: Sequence[Path], initializer: Any = None, initargs: tuple[Any, ...] = ()
          ) -> Any:
    """A process pool whose workers render with `override_dirs` unless another initializer is given."""
    if initializer is None:
        initializer, initargs = _start_worker, (tuple(override_dirs),)
    return process_pool(count, initializer, initargs)


# ----- generate: render, plan and write each model folder, in worker processes for many specs -----

@dataclass(frozen=True)
class _Job:
    targets: tuple[str, ...]
    outdir: Path
    overrides: tuple[Path, ...]
    dry_run: bool
    fingerprint: str


def _write_model(spec_file: SpecFile, job: _Job, env: jinja2.Environment) -> FolderSummary:
    """Render, plan and (unless a dry run) write one model folder; only the summary leaves this function.

    Safe in a worker process: the parent holds the output directory's exclusive lock for the whole run (workers are
    stopped before it is released), every spec was validated and every folder's manifest checked before the first
    worker started, and each model folder is written by exactly one process (model names are unique).
    """
    plan = _rendered_plan(spec_file, job, env)
    if not job.dry_run:
        apply_plan(plan)
    _collect_now_and_then()
    return FolderSummary.of(plan)


def _rendered_plan(spec_file: SpecFile, job: _Job, env: jinja2.Environment) -> FolderPlan:
    files = render_spec(spec_file, job.targets, env, shown_path(job.outdir))
    return plan_model(spec_file, files, job.outdir, job.targets, job.overrides,
                      job.fingerprint)


_writer: tuple[list[SpecFile], _Job, Any] | None = None  # a worker's specs, job and jinja Environment


def _start_writer(specs: list[SpecFile], job: _Job) -> None:
    global _writer
    _writer = (specs, job, build_env(job.overrides))  # with fork, `specs` is inherited, not pickled


def _write_in_worker(indices: list[int]) -> list[FolderSummary]:
    assert _writer is not None
    specs, job, env = _writer
    return [_write_model(specs[index], job, env) for index in indices]


def iter_written(specs: Sequence[SpecFile], job: _Job, jobs: int = 0) -> Generator[FolderSummary, None, None]:
    """Write every spec's model folder; the summaries come back in spec order."""
    with _blame_overrides(job.overrides):
        yield from _written(specs, job, jobs)


def _written(specs: Sequence[SpecFile], job: _Job, jobs: int) -> Generator[FolderSummary, None, None]:
    count = workers(jobs, len(specs))
    pool = _pool(count, job.overrides, _start_writer, (list(specs), job)) if count > 1 else None
    if pool is None:
        env = build_env(job.overrides)
        for spec_file in specs:
            yield _write_model(spec_file, job, env)
        return
    size = slice_size(len(specs), count)
    chunks = [list(range(start, min(start + size, len(specs)))) for start in range(0, len(specs), size)]
    pending: collections.deque[Any] = collections.deque()
    try:
        for chunk in chunks:  # a bounded window in flight, so an early failure stops the rest
            pending.append(pool.submit(_write_in_worker, chunk))
            if len(pending) > 2 * count:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # before the caller releases the lock


# ----- planning -----

def selected_targets(targets: Sequence[str]) -> set[str] | None:
    """None for a full run; else the targets whose files this run may delete."""
    return None if set(TARGETS) <= set(targets) else {*targets, *ALWAYS_ON}


def plan_model(spec_file: SpecFile, files: Mapping[str, RenderedFile], outdir: Path,
               targets: Sequence[str] = TARGETS, override_dirs: Sequence[Path] = (),
               fingerprint: str | None = None) -> FolderPlan:
    """What generate would change in the spec's model folder (read-only).

    `fingerprint`: template_fingerprint(override_dirs), when the caller computed it once for the whole run.
    """
    model = spec_file.spec.model.name
    inputs = Inputs(model=model, spec_path=shown_path(spec_file.path), spec_sha256=sha256(spec_file.inputs),
                    generator_version=__version__, generator_fingerprint=generator_fingerprint(),
                    template_fingerprint=fingerprint or template_fingerprint(override_dirs),
                    override_dirs=shown_overrides(override_dirs))
    return plan_folder(outdir / model, files, inputs, selected_targets(targets))


def check_folders(specs: Sequence[SpecFile], outdir: Path) -> None:
    """Before anything is written: every model folder, its manifest and every path it lists must be safe."""
    problems = []
    for spec_file in specs:
        root = outdir / spec_file.spec.model.name
        manifest = read_manifest(root)
        if manifest is not None:
            where = str(manifest_file(root))
            for path in manifest.files:
                safe_target(root, path, where)
            other, name = manifest.spec_path, spec_file.spec.model.name
            if other != shown_path(spec_file.path) and _defines_model(from_shown(other, outdir), name):
                problems.append(Problem(spec_file.shown_as, *spec_file.name_at, "model.name",
                                        f"model {spec_file.spec.model.name!r} is also defined in {other}, which "
                                        f"generated {root}; each spec needs its own model name"))
    if problems:
        raise SpecError(problems)


def _defines_model(path: Path, name: str) -> bool:
    """Whether the spec file at `path` (another spec, perhaps invalid) still names model `name`."""
    from mlops_gen.spec.loader import LoadedSpec, load_file

    if not path.is_file():
        return False
    loaded = load_file(path)
    model = loaded.data.get("model") if isinstance(loaded, LoadedSpec) else None
    return isinstance(model, dict) and model.get("name") == name


def check_user_files(specs: Sequence[SpecFile], outdir: Path, targets: Sequence[str], overrides: Sequence[Path],
                     adopt: Sequence[str]) -> None:
    """Before anything is written: refuse to overwrite a file the user put where a generated file is now planned."""
    envs: list[jinja2.Environment] = []
    # A folder that is not there holds no file of the user's: its spec is not planned again here (a new folder's
    # plan stayed in the worker that built it, and planning 500 specs in this process took 1.7 s).
    present = [s for s in specs if os.path.isdir(outdir / s.spec.model.name)]

    def render(index: int) -> dict[str, RenderedFile]:
        if not envs:
            envs.append(build_env(overrides))
        return render_spec(present[index], targets, envs[0], shown_path(outdir))

    roots = [(outdir / s.spec.model.name, [f.path for f in planned_files(s.spec, targets)]) for s in present]
    refuse_conflicts(roots, render, adopted_paths(adopt))


Built = dict[int, tuple[str, "FolderSummary"]]  # spec index -> (hidden temporary folder, its summary)


def load_slow(spec_paths: Sequence[Path], up_to_date: Mapping[Path, FolderPlan], jobs: int = 1,
              build: _Job | None = None, config: ConfigFile | None = None) -> tuple[list[SpecFile], Built]:
    """Validate, in order, every spec that must be rendered; model names must stay unique across all specs.

    With `build` (a full run that writes), worker processes also build the model folders that do not exist yet,
    hidden (see load_parallel); the caller places them once everything is validated, or removes them."""
    slow = [path for path in spec_paths if path not in up_to_date]
    specs, built = load_parallel(slow, jobs, build, config) if slow else ([], {})
    unique_models(specs, {plan.root.name: plan.spec_path for plan in up_to_date.values()})
    return specs, built


_builder_env: jinja2.Environment | None = None  # a validating worker's, made when it first builds a folder


_Prebuilt = tuple[str, "FolderSummary"] | None  # a hidden new folder and its summary, or None


def _validate_chunk(paths: list[str], build: _Job | None, config: ConfigFile | None
                    ) -> tuple[list[SpecFile], list[Problem], list[tuple[Any, ...] | None], list[_Prebuilt]]:
    """load_specs on a slice, in a worker: the valid specs (with the plan validation made of each), the problems,
    and, when the slice is valid and `build` is given, each new model folder built hidden beside its place."""
    global _builder_env
    specs, problems = collect_specs(paths, config)
    built: list[_Prebuilt] = [None] * len(specs)
    if build is not None and not problems:
        for index, spec_file in enumerate(specs):
            if os.path.lexists(build.outdir / spec_file.spec.model.name):
                continue  # an existing folder: compared and written after every spec is validated
            if _builder_env is None:
                _builder_env = build_env(build.overrides)
            plan = _rendered_plan(spec_file, build, _builder_env)
            if is_new_folder(plan):
                built[index] = (build_folder(plan), FolderSummary.of(plan))
            _collect_now_and_then()
    # The plan goes back only for specs still to be written: sending a plan costs more than making it again.
    plans = [None if folder is not None else cached_plan(spec_file.spec)
             for spec_file, folder in zip(specs, built, strict=True)]
    return specs, problems, plans, built


def _no_setup() -> None:
    pass


def load_parallel(paths: Sequence[Path], jobs: int, build: _Job | None = None, config: ConfigFile | None = None
                  ) -> tuple[list[SpecFile], Built]:
    """load_specs (every spec validated, all problems raised at once) on several cores when there are many specs.

    The parent still has every spec, valid, before anything is written in place; the plan each worker made while
    validating comes back with the spec, so the writing workers do not plan it again. With `build`, the workers
    go on to render the specs whose model folder does not exist yet into hidden temporary folders (validation and
    rendering overlap instead of one waiting for the other); on any problem they are removed here, unplaced.
    """
    if config is not None:
        config_settings(config)  # its problems are raised here, once, not by every worker
    count = workers(jobs, len(paths))
    pool = _pool(count, (), _no_setup, ()) if count > 1 else None
    if pool is None:
        return load_specs([str(path) for path in paths], config), {}
    size = slice_size(len(paths), count)
    built: Built = {}
    try:
        futures = [pool.submit(_validate_chunk, [str(p) for p in paths[start:start + size]], build, config)
                   for start in range(0, len(paths), size)]
        results = [future.result() for future in futures]
        specs: list[SpecFile] = []
        problems: list[Problem] = []
        for chunk_specs, chunk_problems, plans, chunk_built in results:
            for spec_file, planned, folder in zip(chunk_specs, plans, chunk_built, strict=True):
                if planned is not None:
                    remember_plan(spec_file.spec, planned)
                if folder is not None:
                    built[len(specs)] = folder
                specs.append(spec_file)
            problems.extend(chunk_problems)
        if problems:
            raise SpecError(problems)
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return specs, built


ACTION_LABELS: dict[Action, str] = {"create": "created", "update": "updated", "unchanged": "unchanged",
                                    "delete": "deleted", "keep": "kept"}


@dataclass(frozen=True)
class FolderSummary:
    """What the summary needs of a folder plan: small, so worker processes send this back, not the files."""

    root: Path
    counts: dict[str, int]
    changes: tuple[tuple[Action, str, str], ...]  # (action, path, reason), in path order
    differs: bool
    retired: str
    renamed_to: str = ""
    switched: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())  # a layout switch's lines: (real run, dry run)

    @classmethod
    def of(cls, plan: FolderPlan) -> FolderSummary:
        counts: dict[str, int] = {action: plan.count(action) for action in ACTION_LABELS}
        before = plan.before.changes if plan.before is not None else []
        for change in before:  # the previous layout's files outside the folder (see output.changes.plan_folder)
            counts[change.action] += 1
        switched: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
        if before or any(c.reason.startswith("other-layout") for c in plan.changes):
            from mlops_gen.layout.units import switch_lines

            switched = (tuple(switch_lines(plan, False)), tuple(switch_lines(plan, True)))
        return cls(root=plan.folder, counts=counts,
                   changes=tuple((c.action, c.path, c.reason) for c in plan.all_changes()),
                   differs=bool(plan.differences) or any(c.is_difference for c in before), retired=plan.retired,
                   renamed_to=plan.renamed_to, switched=switched)


def rename_hint(folder: FolderSummary, dry_run: bool) -> list[str]:
    """After a model rename: the user's files stay in the old folder; say so, and which to move where."""
    seeded = [path for action, path, reason in folder.changes if action == "keep" and reason == "seeded-orphan"]
    edited = [path for action, path, reason in folder.changes if action == "keep" and reason == "edited-orphan"]
    if not folder.renamed_to or not (seeded or edited):
        return []
    new_root = folder.root.parent / folder.renamed_to
    stay = "would stay" if dry_run else "stay"
    lines = [f"  model {folder.root.name!r} was renamed to {folder.renamed_to!r}: {len(seeded) + len(edited)} "
             f"file(s) of yours {stay} in {folder.root} (mlops-gen never moves them) and {new_root} gets "
             "fresh defaults."]
    if seeded:
        lines.append("  To keep your changes, move each over its fresh default:")
        lines.extend(f"    mv {shlex.quote(str(folder.root / path))} {shlex.quote(str(new_root / path))}"
                     for path in seeded)
    if edited:
        lines.append("  Generated files you edited by hand (regenerated in the new folder; carry your edits over "
                     "with an --override-dir template): " + ", ".join(edited))
    return lines


class _Summary:
    """One line per model folder that changed (every folder with -v), then one line of totals."""

    def __init__(self, dry_run: bool, verbose: bool) -> None:
        self.dry_run, self.verbose = dry_run, verbose
        self.folders = 0
        self.totals: dict[str, int] = dict.fromkeys(ACTION_LABELS, 0)

    @staticmethod
    def counts(numbers: Mapping[str, int]) -> str:
        text = (f"{numbers['create']} created, {numbers['update']} updated, {numbers['unchanged']} unchanged, "
                f"{numbers['delete']} deleted")
        return text + (f", {numbers['keep']} kept (yours)" if numbers["keep"] else "")

    def add(self, plan: FolderPlan | FolderSummary) -> None:
        folder = plan if isinstance(plan, FolderSummary) else FolderSummary.of(plan)
        self.folders += 1
        numbers = folder.counts
        for action, number in numbers.items():
            self.totals[action] += number
        if not (self.verbose or folder.differs or folder.retired):
            return
        retired = f"; model folder retired: {folder.retired}" if folder.retired else ""
        click.echo(f"{folder.root}: {self.counts(numbers)}{retired}")
        for line in rename_hint(folder, self.dry_run):
            click.echo(line)
        for line in folder.switched[self.dry_run]:
            click.echo(line)
        if self.verbose:
            for action, path, reason in folder.changes:
                click.echo(f"  {ACTION_LABELS[action]:<9} {path}: {REASONS[reason]}")

    def finish(self, outdir: Path) -> None:
        folders = f"{self.folders} model folder{'s' if self.folders != 1 else ''}"
        suffix = " (dry run: nothing written)" if self.dry_run else ""
        click.echo(f"mlops-gen generate: {outdir}: {folders}, {self.counts(self.totals)}{suffix}")


def run_generate(paths: Sequence[str], output: str | None, targets: Sequence[str] = TARGETS, dry_run: bool = False,
                 verbose: bool = False, override_dirs: Sequence[str] = (), jobs: int = 0,
                 adopt: Sequence[str] = (), config_option: str | None = None) -> int:
    config = find_config(config_option)
    from mlops_gen.layout.units import layout_of

    if config is not None and layout_of(config) == "monorepo":
        from mlops_gen.layout import units

        return units.run_generate(config, paths, output, targets, dry_run, verbose, override_dirs, jobs, adopt)
    overrides = override_paths(override_dirs)
    output = output_folder(output, config)
    outdir = Path(output)
    if outdir.exists() and not outdir.is_dir():
        raise UserError(f"{output}: exists and is not a directory")
    spec_paths = discover_specs(paths)
    created = [] if dry_run else [d for d in [outdir, *outdir.parents] if not d.exists()]
    if not dry_run:
        outdir.mkdir(parents=True, exist_ok=True)  # the lock lives on it
    try:
        with few_collections():
            _generate(paths, spec_paths, outdir, targets, dry_run, verbose, overrides, jobs, adopt, config)
    except BaseException:
        for directory in created:  # an invalid spec leaves no trace, not even an empty folder
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise
    return 0


def _generate(paths: Sequence[str], spec_paths: Sequence[Path], outdir: Path, targets: Sequence[str],
              dry_run: bool, verbose: bool, overrides: Sequence[Path], jobs: int, adopt: Sequence[str],
              config: ConfigFile | None = None) -> None:
    full = selected_targets(targets) is None
    with output_lock(outdir, shared=dry_run):
        if not dry_run:
            remove_leftovers(outdir)  # of a killed run: model folders are built beside their place, then renamed
        fingerprint = template_fingerprint(overrides)  # once per run: hashing every template costs ~2 ms
        found = (triage(spec_paths, outdir, overrides, fingerprint, jobs, config.raw if config else b"") if full
                 else Triage(slow=list(spec_paths)))
        up_to_date = found.up_to_date()
        job = _Job(tuple(targets), outdir, tuple(overrides), dry_run, fingerprint)
        try:
            with _blame_overrides(overrides):  # new folders are rendered while validating, hidden until placed
                specs, built = load_slow(spec_paths, up_to_date, jobs, job if full and not dry_run else None, config)
            check_folders(specs, outdir)  # every spec validated, every manifest checked, before the first write
            check_user_files(specs, outdir, targets, overrides, adopt)
            models = {plan.spec_path: plan.root.name for plan in up_to_date.values()}
            models.update((shown_path(spec_file.path), spec_file.spec.model.name) for spec_file in specs)
            # paths checked here too; the manifests triage read (under this lock, nothing written since) are reused
            retired = retired_folders(outdir, models, scanned_dirs(paths), found.manifests) if full else []
            placed = {index: summary for index, (building, summary) in built.items()
                      if place_folder(building, outdir / specs[index].spec.model.name)}
        except BaseException:
            if not dry_run:
                remove_leftovers(outdir)  # the hidden new folders not placed yet: none of them stays
            raise
        written = iter_written([s for index, s in enumerate(specs) if index not in placed], job, jobs)
        summary = _Summary(dry_run, verbose)
        slow = iter(range(len(specs)))
        try:
            for path in spec_paths:
                if path in up_to_date:
                    summary.add(up_to_date[path])
                    continue
                index = next(slow)
                summary.add(placed[index] if index in placed else next(written))
        finally:
            written.close()  # stops the worker processes, if any
        for plan in retired:
            if not dry_run:
                apply_plan(plan)
            summary.add(plan)
        summary.finish(outdir)
