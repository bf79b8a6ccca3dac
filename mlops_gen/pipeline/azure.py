"""What the pipeline model says about Azure for every platform: the coordinates a step acts on, and where a long
step makes the next one log in again. Each platform spells the job's subscription (SUBSCRIPTION) its own way."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlops_gen.memo import per_spec
from mlops_gen.pipeline.model import Ref, Step, Value
from mlops_gen.pipeline.release import NOTIFY_SCRIPT
from mlops_gen.render.context import EnvView, environments
from mlops_gen.spec.model import ProjectSpec

# The subscription the job logged in to.
SUBSCRIPTION = Ref("subscription")
# Steps that can outlive an Azure login, and so make the next step needing Azure log in again first: GitHub's OIDC
# token and the federated token an Azure DevOps task gets are short-lived, and `az login --federated-token` cannot
# renew them (AADSTS700024, "client assertion is not within its valid time range").
LONG_KINDS = frozenset({"deploy", "route", "monitor"})
LONG_IDS = frozenset({"wait"})
NO_AZURE = frozenset({NOTIFY_SCRIPT})


TRAINING = "training"  # the name of the training workspace's coordinates, beside "serving:<environment>" ones


def coordinates_name(spec: ProjectSpec, step: Step) -> str:
    """Which coordinates the step acts on: TRAINING, or "serving:<env>" for an environment served apart (an
    environment name has no colon)."""
    env = step.serving_env(environments(spec))
    return TRAINING if env is None or not env.separate else f"serving:{env.name}"


@per_spec  # azure_flags asks for every step; the result is only read
def coordinates(spec: ProjectSpec) -> Mapping[str, tuple[tuple[str, Value], ...]]:
    """Every set of coordinates a step of the spec's pipeline may act on, by coordinates_name."""
    sets = {TRAINING: _coordinates(spec, None)}
    for env in environments(spec):
        if env.separate:
            sets[f"serving:{env.name}"] = _coordinates(spec, env)
    return sets


def azure_flags(spec: ProjectSpec, step: Step) -> tuple[tuple[str, Value], ...]:
    """The coordinates a step's scripts act on: the training workspace's, or those of the environment it serves
    in, with the training workspace as --registry-* (model versions, aliases and training data stay there)."""
    return coordinates(spec)[coordinates_name(spec, step)]


def _coordinates(spec: ProjectSpec, env: EnvView | None) -> tuple[tuple[str, Value], ...]:
    if env is None:
        return (("--workspace", spec.azure.workspace), ("--resource-group", spec.azure.resource_group),
                ("--subscription-id", SUBSCRIPTION))
    own = env.own_subscription
    flags: list[tuple[str, Value]] = [
        ("--workspace", env.azure.workspace), ("--resource-group", env.azure.resource_group),
        ("--subscription-id", own or SUBSCRIPTION), ("--registry-workspace", spec.azure.workspace),
        ("--registry-resource-group", spec.azure.resource_group)]
    if own:  # spec.semantic makes sure the training subscription is named then
        flags.append(("--registry-subscription-id", spec.azure.subscription_id or SUBSCRIPTION))
    return tuple(flags)


def relogins(steps: Sequence[Step], late: bool = False) -> list[bool]:
    """For each step, whether it logs in again first: the first step needing Azure after a long one (at once when
    the steps run `late`, such as a rollback after a failed observation window)."""
    marks = []
    stale = late
    for step in steps:
        mark = stale and step.script not in NO_AZURE
        if mark:
            stale = False
        stale = stale or step.kind in LONG_KINDS or step.id in LONG_IDS
        marks.append(mark)
    return marks
