"""Types of the pipeline model: steps (stage-script calls with typed flags), phases and releases.

A step's flags are checked against the script contract (mlops_gen.stages) when the step is built, so a call that
a script's parser would refuse cannot reach any platform, nor run-local.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Union

from mlops_gen.pipeline.dispatch import Dispatch
from mlops_gen.render.context import EnvView
from mlops_gen.stages import COMMON, flags_of


class When(str, Enum):
    """When a step runs, relative to the steps before it in its job or phase."""

    SUCCESS = "success"  # every earlier step succeeded
    FAILURE = "failure"  # an earlier step failed (or the job was cancelled mid-way): rollback
    ALWAYS = "always"


@dataclass(frozen=True)
class Ref:
    """A value only the platform knows (a file between jobs, the image of this run, the run's URL): each platform
    resolves `kind` (and `arg`) to its own spelling, run-local to a path under its results folder."""

    kind: str
    arg: str = ""


Value = Union[str, int, float, Ref]  # noqa: UP007  (a runtime alias: `|` of a class and str needs 3.10 types)
Flags = tuple[tuple[str, Value], ...]

# Extra commands a step may run instead of a stage script (their flags are not the stage-script contract's).
PYTEST = "-m pytest"
EXTENSION = "extension"


@dataclass(frozen=True)
class Step:
    """One call: a stage script with flags, the endpoint tests (`pytest`), or a user's extension script."""

    id: str  # unique within its release or stage; platforms derive step ids and report names from it
    name: str
    script: str  # a stage script path, PYTEST or EXTENSION
    flags: Flags = ()
    kind: str = "run"  # deploy | route | test | monitor | promote | rollback | check | gate | run
    when: When = When.SUCCESS
    gate: bool = False  # a failure is the model's verdict (a gate), not a broken run
    azure: bool = True  # takes the Azure coordinates (--workspace, ...) on the cloud backend
    path: str = ""  # EXTENSION: the user's script
    # The environment whose endpoint, cluster or monitor the step acts on ('': the training workspace). Platforms
    # give it that environment's coordinates, and the model registry's as --registry-* when they differ.
    served_in: str = ""

    def __post_init__(self) -> None:
        if self.script in (PYTEST, EXTENSION):
            return
        declared = flags_of(self.script)
        seen: set[str] = set()
        for flag, _ in self.flags:
            if flag not in declared:
                raise ValueError(f"{self.script} declares no flag {flag}")
            if flag in seen and not declared[flag].repeat:
                raise ValueError(f"{self.script}: {flag} given twice but is not repeatable")
            if flag in {common.name for common in COMMON}:
                raise ValueError(f"{self.script}: {flag} is added by each platform, not by the model")
            seen.add(flag)
        missing = [flag.name for flag in declared.values() if flag.required and flag.name not in seen]
        if missing:
            raise ValueError(f"{self.script}: required flags missing: {', '.join(missing)}")

    def serving(self, env: str) -> Step:
        return replace(self, served_in=env)

    def serving_env(self, envs: Iterable[EnvView]) -> EnvView | None:
        """The environment among `envs` this step serves in; None for a step of the training workspace."""
        return next((env for env in envs if env.name == self.served_in), None) if self.served_in else None

    def value(self, flag: str) -> Value | None:
        return next((value for name, value in self.flags if name == flag), None)


@dataclass(frozen=True)
class Phase:
    """Steps that belong together in a rollout: before any traffic moves (`predeploy`), one traffic increment
    (`increment`, with the candidate's share), the checks at full traffic (`verify`), `promote`, and `after`."""

    kind: str  # predeploy | increment | verify | promote | after
    steps: tuple[Step, ...]
    traffic: int | None = None  # increment: the candidate's share of traffic after its deploy step


@dataclass(frozen=True)
class Release:
    """The rollout to one environment: phases in order, and the rollback that runs when any of them fails."""

    env: EnvView
    strategy: str  # canary | blue_green | rolling | direct
    phases: tuple[Phase, ...]
    rollback: tuple[Step, ...]  # empty when auto_rollback is off
    approval: bool  # the environment asks for one approval per release
    timeout_minutes: int
    endpoint_file: Ref = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint_file", Ref("endpoint_file", self.env.name))

    def steps(self) -> Iterator[Step]:
        """Every step on the success path, in order."""
        for phase in self.phases:
            yield from phase.steps

    def phase(self, kind: str) -> tuple[Phase, ...]:
        return tuple(phase for phase in self.phases if phase.kind == kind)


@dataclass(frozen=True)
class Stage:
    """A stage of the training pipeline: steps in order; a failing gate stops the pipeline."""

    id: str
    name: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Pipeline:
    training: tuple[Stage, ...]
    releases: tuple[Release, ...]
    post_release: tuple[Step, ...]
    # The scheduled drift check: its report's "result" (drift | no_drift) decides on retraining; a failing step is
    # an error, never drift.
    drift: tuple[Step, ...] = ()
    # The manual operations (deploy a version to one environment, roll one back) and which parts run for each.
    dispatch: Dispatch | None = None
    # The team's notices that stand alone, by what happened (build.PIPELINE_FAILED, MODEL_REGISTERED,
    # DRIFT_DETECTED): each platform sends those its pipelines send, when it happens. A release's rollback steps
    # and the post-release steps send their own (rollout failed, deployed).
    notifications: Mapping[str, Step] = field(default_factory=dict)

    def release(self, env_name: str) -> Release:
        return next(release for release in self.releases if release.env.name == env_name)

    @property
    def monitored(self) -> Release:
        return monitored_release(self.releases)


def monitored_release(releases: tuple[Release, ...]) -> Release:
    """The environment whose traffic the drift monitor watches: the first production-like one, else the last."""
    return next((release for release in releases if release.env.production), releases[-1])
