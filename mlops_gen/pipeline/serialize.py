"""The pipeline model as data: `config/plan.json` of a model in the monorepo layout.

The shared CI files of the monorepo layout hold no model-specific literal, so what a model's pipeline runs (its
steps, their flags, gates, rollout phases and rollback) reaches the CI job as this file, and the shared runner
(src/pipeline/run_plan.py) executes one part of it. Values only the platform knows at run time stay symbolic
({"ref": kind, "arg": arg}) and the runner resolves them for its platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_gen.pipeline.azure import coordinates, coordinates_name, relogins
from mlops_gen.pipeline.build import build_pipeline, cloud_drift
from mlops_gen.pipeline.model import EXTENSION, PYTEST, Pipeline, Ref, Release, Step, Value
from mlops_gen.render.context import EnvView
from mlops_gen.render.filters import number
from mlops_gen.spec.model import ProjectSpec

FORMAT = "mlops-gen/plan-v1"
# A deployment to Azure Container Instances pulls with this identity (a repository or pipeline variable).
ACI_IDENTITY = "ACI_ACR_IDENTITY"


def _value(value: Value) -> Any:
    if isinstance(value, Ref):
        return {"ref": value.kind, **({"arg": value.arg} if value.arg else {})}
    return number(value) if isinstance(value, float) else value


def _args(flags: Sequence[tuple[str, Value]]) -> list[dict[str, Any]]:
    return [{flag: _value(value)} for flag, value in flags]


def _steps(spec: ProjectSpec, steps: tuple[Step, ...], late: bool = False) -> list[dict[str, Any]]:
    """Steps as data; `relogin` as pipeline.azure.relogins marks them."""
    out = []
    for step, relogin in zip(steps, relogins(steps, late), strict=True):
        item: dict[str, Any] = {
            "id": step.id, "name": step.name, "script": step.script, "kind": step.kind, "when": step.when.value,
            "gate": step.gate, "args": _args(step.flags)}
        if step.azure and step.script not in (PYTEST, EXTENSION):
            item["azure"] = coordinates_name(spec, step)  # its flags follow the step's own: the plan's "azure"
        item["relogin"] = relogin
        if step.script == EXTENSION:
            item["path"] = step.path
        if step.served_in:
            item["served_in"] = step.served_in
        out.append(item)
    return out


def _release(spec: ProjectSpec, release: Release) -> dict[str, Any]:
    env: EnvView = release.env
    steps = iter(_steps(spec, tuple(release.steps())))  # one pass: a login goes stale across phases too
    return {
        "environment": env.name, "target": env.env.target, "strategy": release.strategy,
        "approval": release.approval, "production": env.production, "timeout_minutes": release.timeout_minutes,
        "subscription": env.own_subscription, "endpoint_file": _value(release.endpoint_file),
        "phases": [{"kind": phase.kind, "traffic": phase.traffic, "steps": [next(steps) for _ in phase.steps]}
                   for phase in release.phases],
        "rollback": _steps(spec, release.rollback, late=True)}


def _variables(pipeline: Pipeline, drift: tuple[Step, ...]) -> list[str]:
    """Repository or pipeline variables the steps read: the CI job maps each into its environment."""
    names = {value.arg for step in (*_all_steps(pipeline), *drift) for _, value in step.flags
             if isinstance(value, Ref) and value.kind == "variable"}
    if any(step.kind in ("deploy", "route") and step.value("--target") == "aci" for step in _all_steps(pipeline)):
        names.add(ACI_IDENTITY)
    return sorted(names)


def _all_steps(pipeline: Pipeline) -> list[Step]:
    steps = [step for stage in pipeline.training for step in stage.steps]
    for release in pipeline.releases:
        steps += [*release.steps(), *release.rollback]
    return [*steps, *pipeline.post_release, *pipeline.notifications.values()]


def plan_data(spec: ProjectSpec, spec_hash: str, comment: list[str] | None = None) -> dict[str, Any]:
    """The model's pipeline as plan.json holds it, `comment` (what the file is) first when given. A step's args
    are one-key mappings, in order (a flag may repeat; '' is a positional argument)."""
    pipeline = build_pipeline(spec)
    drift = cloud_drift(spec, pipeline)
    notifications = spec.notifications
    return {
        **({"comment": comment} if comment else {}),  # JSON has no comments
        "format": FORMAT,
        "model": spec.model.name,
        "spec_hash": spec_hash,
        "branch": spec.triggers.branches[0],
        "secrets": [notifications.webhook_secret] if notifications.channel != "none" else [],
        "variables": _variables(pipeline, drift),
        # The Azure coordinates steps act on, once: a step's "azure" names the set whose flags follow its own.
        "azure": {name: _args(flags) for name, flags in coordinates(spec).items()},
        "stages": [{"id": stage.id, "name": stage.name, "steps": _steps(spec, stage.steps)}
                   for stage in pipeline.training],
        "releases": [_release(spec, release) for release in pipeline.releases],
        "post_release": _steps(spec, pipeline.post_release),
        "drift": _steps(spec, drift),
        # The stand-alone notices by event (the runner's part notify:<event>): each platform's CI files send
        # those its per-model pipelines send, when it happens.
        "notifications": {event: _steps(spec, (step,))[0] for event, step in pipeline.notifications.items()},
    }
