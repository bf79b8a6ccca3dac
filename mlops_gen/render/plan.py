"""What to render for one spec: a list of output files, contributed by one planner per target."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops_gen.errors import UserError
from mlops_gen.memo import per_spec
from mlops_gen.registry import PLATFORMS, REGISTRY
from mlops_gen.registry import TARGETS as REGISTRY_TARGETS
from mlops_gen.spec.model import ProjectSpec

Mode = Literal["owned", "seeded"]
TARGETS = REGISTRY_TARGETS
ALWAYS_ON = ("repo_files",)  # planned whatever the --target selection: files about the folder itself


@dataclass(frozen=True)
class OutputFile:
    """One file of the model folder: where it goes, which template makes it, and who owns it afterwards.

    `owned` files are regenerated and drift-checked; `seeded` ones are written once and then belong to the user.
    """

    path: str
    template: str
    target: str
    mode: Mode = "owned"
    executable: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # per-file context, e.g. the environment it deploys


Planner = Callable[[ProjectSpec], list[OutputFile]]


Finisher = Callable[[ProjectSpec, Sequence[OutputFile]], list[OutputFile]]


def _planners() -> dict[str, Planner]:
    return {target.name: target.planner() for target in REGISTRY}


def _finishers() -> dict[str, Finisher]:
    """ALWAYS_ON planners: they describe the whole folder, so they get every file the targets plan."""
    from mlops_gen.targets import repo_files

    return {"repo_files": repo_files.outputs}


# Planning is pure (a frozen spec in, frozen OutputFiles out) but not cheap (config/pipeline.yaml is dumped while
# planning), and each spec is planned by validation and again by rendering: remembered per spec object.
@per_spec
def _remembered(spec: ProjectSpec, targets: tuple[str, ...]) -> tuple[OutputFile, ...]:
    return tuple(_plan_targets(spec, targets))


def _planned(spec: ProjectSpec, targets: Sequence[str]) -> list[OutputFile]:
    return list(_remembered(spec, tuple(targets)))  # a new list: callers extend it


def cached_plan(spec: ProjectSpec) -> tuple[OutputFile, ...] | None:
    """The remembered full plan of `spec` (all targets), if any: lets a worker process hand it back with the spec."""
    return _remembered.peek(spec, tuple(TARGETS))


def remember_plan(spec: ProjectSpec, files: Sequence[OutputFile]) -> None:
    """Remember `files` as the full plan of `spec` (as _planned would have computed it)."""
    _remembered.remember(spec, tuple(files), tuple(TARGETS))


def _plan_targets(spec: ProjectSpec, targets: Sequence[str]) -> list[OutputFile]:
    files: list[OutputFile] = []
    for name, planner in _planners().items():
        if name not in targets:
            continue
        if name in PLATFORMS and name not in spec.platforms:
            continue
        files.extend(planner(spec))
    return files


def planned_paths(spec: ProjectSpec) -> list[str]:
    """Every path the targets plan, duplicates included: lets spec validation spot user-chosen paths that clash."""
    return [f.path for f in _planned(spec, TARGETS)]


def plan(spec: ProjectSpec, targets: Sequence[str] = TARGETS, *, always_on: bool = True) -> list[OutputFile]:
    """Every file to render for `spec`, sorted by path; pipeline targets only for the spec's platforms."""
    files = _planned(spec, targets)
    if always_on:
        everything = files if set(TARGETS) <= set(targets) else plan(spec, TARGETS, always_on=False)
        for finisher in _finishers().values():
            files.extend(finisher(spec, everything))
    refuse_duplicates(files, spec.model.name)
    return sorted(files, key=lambda f: f.path)


def refuse_duplicates(files: Sequence[OutputFile], what: str) -> None:
    """A path planned twice would be written twice. Seeded files may sit at paths the spec chooses
    (training.config, data.expectations): a clash there is the user's to fix (`what` names the model or unit).
    Any other clash is a planner bug."""
    paths = [f.path for f in files]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if not duplicates:
        return
    chosen = [p for p in duplicates if any(f.path == p and f.mode == "seeded" for f in files)]
    if chosen:
        raise UserError(f"{what}: {', '.join(chosen)}: a path set in the spec (such as training.config or "
                        "data.expectations) is also a file mlops-gen generates; choose another path")
    raise RuntimeError(f"two templates plan the same output file of {what}: {', '.join(duplicates)}")
