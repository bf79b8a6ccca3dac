"""The monorepo layout's composer: which files each unit holds, rendered.

A repository R (the folder of mlops-gen.yaml) gets one *shared* unit, rendered ONCE from no spec, and one unit per
model. A target module (mlops_gen/targets/<name>.py, listed in mlops_gen/registry.py) takes part by defining

    def monorepo_shared(repo: Monorepo) -> list[OutputFile]: ...                  # rendered once, from no spec
    def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]: ... # per model

with OutputFile.path relative to R (see mlops_gen.layout.paths.Monorepo). The modules of MONOREPO_ONLY are not
in the registry and are asked for `monorepo_model` too. Shared files are rendered with the context
{"repo": repo, "layout": "monorepo"} plus OutputFile.extra and `output_path` (no spec value exists there: the
environment's StrictUndefined makes a slip fail); model files get the per-model context (render.context.
build_context, plus `output_dir`) and "repo" and "layout". Platform targets take part in a model's unit only for the
spec's `platforms`; every target's `monorepo_shared` is rendered.

Each unit also gets a `.gitattributes` in its folder (O/_shared/ or O/<model>/) marking its owned files there as
generated, from the per-model layout's template (target `repo_files`, always on).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from mlops_gen.layout.paths import SHARED, SHARED_WORKFLOW_PREFIX, WORKFLOWS, Monorepo
from mlops_gen.memo import per_spec
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.paths import shown_path
from mlops_gen.registry import PLATFORMS, REGISTRY, TARGETS
from mlops_gen.render.context import build_context
from mlops_gen.render.plan import ALWAYS_ON, OutputFile, refuse_duplicates
from mlops_gen.render.render import RenderedFile, render_outputs
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.validate import SpecFile

MONOREPO_ONLY = ("plan_file",)  # target modules outside the registry that plan files of a model's unit
LAYOUT = "monorepo"
GITATTRIBUTES_TEMPLATE = "repo_files/gitattributes.j2"
REPO_FILES = ALWAYS_ON[0]  # the target of files about the unit itself


@dataclass(frozen=True)
class Unit:
    """One unit of output: `files` (paths relative to the repository root) and where its manifest lies (relative
    to the repository root too). `name`: the model, or "_shared"."""

    name: str
    manifest_path: str
    files: dict[str, RenderedFile]
    spec_file: SpecFile | None = None
    templates: tuple[str, ...] = ()  # every template its render loaded (includes and imports too), sorted


def manifest_path(repo: Monorepo, name: str) -> str:
    """`O/<name>/.mlops-gen/manifest.json`; `name`: a model or SHARED."""
    return repo.model(name, MANIFEST_PATH)


def _module(name: str) -> Any | None:
    """mlops_gen.targets.<name>, None when it does not exist (yet)."""
    full = f"mlops_gen.targets.{name}"
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def _hooks(hook: str, names: Sequence[str]) -> list[tuple[str, Callable[..., list[OutputFile]]]]:
    found = []
    for name in names:
        module = _module(name)
        function = getattr(module, hook, None) if module is not None else None
        if function is not None:
            found.append((name, function))
    return found


def shared_outputs(repo: Monorepo, targets: Sequence[str] = TARGETS) -> list[OutputFile]:
    """Every file of the shared unit, sorted by path; each path checked to lie in the shared part."""
    files: list[OutputFile] = []
    for _, hook in _hooks("monorepo_shared", [t.name for t in REGISTRY if t.name in targets]):
        files.extend(hook(repo))
    for file in files:
        name = file.path.removeprefix(f"{WORKFLOWS}/")
        inside = file.path.startswith(repo.shared() + "/") or (
            name != file.path and "/" not in name and name.startswith(SHARED_WORKFLOW_PREFIX))
        if not inside:
            raise RuntimeError(f"a shared file must lie under {repo.shared()}/ or be "
                               f"{WORKFLOWS}/{SHARED_WORKFLOW_PREFIX}<name>: {file.path}")
    return _finished(files, repo.shared(), "the shared part")


def model_targets(spec: ProjectSpec, targets: Sequence[str] = TARGETS) -> tuple[str, ...]:
    """The targets that take part in the model's unit: the selected ones (platforms only for the spec's), then
    MONOREPO_ONLY."""
    names = [t.name for t in REGISTRY if t.name in targets and (t.name not in PLATFORMS or t.name in spec.platforms)]
    return (*names, *MONOREPO_ONLY)


@per_spec
def target_files(spec: ProjectSpec, repo: Monorepo, name: str) -> tuple[OutputFile, ...]:
    """What target `name` plans for the model's unit (its `monorepo_model` hook; nothing without one). Validation
    (the paths a spec may choose), the README (the pipeline files it names) and the composer all ask: planned once."""
    found = _hooks("monorepo_model", [name])
    return tuple(found[0][1](spec, repo)) if found else ()


def model_outputs(spec: ProjectSpec, repo: Monorepo, targets: Sequence[str] = TARGETS) -> list[OutputFile]:
    """Every file of the model's unit, sorted by path; each path checked to lie in the model's part."""
    model = spec.model.name
    files = [file for name in model_targets(spec, targets) for file in target_files(spec, repo, name)]
    caller = repo.caller(model)  # .github/workflows/mlops-<model>.yml, and mlops-<model>.<suffix>.yml
    for file in files:
        if not (file.path.startswith(repo.model(model) + "/") or file.path == caller
                or (file.path.startswith(caller.removesuffix(".yml") + ".") and file.path.endswith(".yml")
                    and "/" not in file.path.removeprefix(f"{WORKFLOWS}/"))):
            raise RuntimeError(f"a file of model {model!r} must lie under {repo.model(model)}/ or be its caller "
                               f"workflow {caller} (or {caller.removesuffix('.yml')}.<suffix>.yml): {file.path}")
    return _finished(files, repo.model(model), f"model {model!r}")


def _finished(files: list[OutputFile], folder: str, what: str) -> list[OutputFile]:
    """The unit's files plus its .gitattributes; a path planned twice is refused (a seeded one the spec chose is
    the user's to fix)."""
    refuse_duplicates(files, what)
    attributes = f"{folder}/.gitattributes"
    if any(f.path == attributes for f in files):
        raise RuntimeError(f"{attributes} is planned by the composer itself")
    owned = sorted({f.path.removeprefix(folder + "/") for f in files
                    if f.mode == "owned" and f.path.startswith(folder + "/")} | {".gitattributes", MANIFEST_PATH})
    files = [*files, OutputFile(attributes, GITATTRIBUTES_TEMPLATE, REPO_FILES, extra={"generated_paths": owned})]
    return sorted(files, key=lambda f: f.path)


def shared_context(repo: Monorepo) -> dict[str, Any]:
    """Everything a shared template sees besides its file's `extra` and `output_path`: no spec, no model."""
    return {"repo": repo, "layout": LAYOUT}


@contextlib.contextmanager
def recording(env: jinja2.Environment) -> Iterator[set[str]]:
    """The names of the templates `env` loads within the block, includes and imports included (they all go
    through Environment._load_template, cached or not)."""
    used: set[str] = set()
    load = env._load_template

    def recorded(name: str, globals: Any) -> Any:
        used.add(name)
        return load(name, globals)

    env._load_template = recorded  # type: ignore[method-assign]
    try:
        yield used
    finally:
        del env._load_template  # the class's method again


def shared_unit(repo: Monorepo, env: jinja2.Environment, targets: Sequence[str] = TARGETS) -> Unit:
    with recording(env) as used:
        files = render_outputs(shared_outputs(repo, targets), shared_context(repo), env, shared_by=repo.out)
    return Unit(SHARED, manifest_path(repo, SHARED), files, templates=tuple(sorted(used)))


def model_context(spec_file: SpecFile, repo: Monorepo) -> dict[str, Any]:
    shown = shown_path(spec_file.path)
    return {**build_context(spec_file.spec, shown, spec_file.inputs), "output_dir": repo.out, "repo": repo,
            "layout": LAYOUT}


def model_unit(spec_file: SpecFile, repo: Monorepo, env: jinja2.Environment, targets: Sequence[str] = TARGETS
               ) -> Unit:
    with recording(env) as used:
        files = render_outputs(model_outputs(spec_file.spec, repo, targets), model_context(spec_file, repo), env,
                               spec_shown=shown_path(spec_file.path))
    return Unit(spec_file.spec.model.name, manifest_path(repo, spec_file.spec.model.name), files, spec_file,
                tuple(sorted(used)))


def compose(repo: Monorepo, specs: Sequence[SpecFile], env: jinja2.Environment, targets: Sequence[str] = TARGETS
            ) -> list[Unit]:
    """The shared unit, then one unit per spec, in the specs' order (the writer's input)."""
    return [shared_unit(repo, env, targets), *(model_unit(spec_file, repo, env, targets) for spec_file in specs)]


def unit_folder(root: Path, unit: Unit) -> Path:
    """The folder holding the unit's `.mlops-gen/`."""
    return (root / unit.manifest_path).parent.parent
