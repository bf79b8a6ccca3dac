"""Rules that span several fields, checked after the model validated so every problem is reported at once."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from mlops_gen.registry import PLATFORMS
from mlops_gen.spec.model import (
    CLASSIFICATION_METRICS,
    RATIO_METRICS,
    REGRESSION_METRICS,
    Environment,
    ProjectSpec,
    endpoint_name,
    environment_azure,
    is_production,
)
from mlops_gen.spec.types import quantity_amount

FieldPath = tuple[str | int, ...]
Finding = tuple[FieldPath, str]


def _unit_interval(path: FieldPath, value: float) -> Iterator[Finding]:
    if not 0.0 <= value <= 1.0:
        yield path, f"must be within [0, 1] (got {value})"


def _gates(spec: ProjectSpec) -> Iterator[Finding]:
    allowed = CLASSIFICATION_METRICS if spec.model.task == "classification" else REGRESSION_METRICS
    if spec.quality_gates.metrics == {}:  # no gate at all would let every model through
        yield ("quality_gates", "metrics"), ("needs at least one metric gate; leave 'metrics' out for the task's "
                                             "default gate")
    for metric, bound in (spec.quality_gates.metrics or {}).items():
        path: FieldPath = ("quality_gates", "metrics", metric)
        if metric not in allowed:
            yield path, f"{metric!r} is not a {spec.model.task} metric; use one of {', '.join(allowed)}"
        if bound.min is None and bound.max is None:
            yield path, "a gate needs 'min' and/or 'max'"
        for side in ("min", "max"):
            value = getattr(bound, side)
            if value is None:
                continue
            if metric in RATIO_METRICS:
                yield from _unit_interval((*path, side), value)
            elif value < 0:
                yield (*path, side), f"must not be negative (got {value})"
        if bound.min is not None and bound.max is not None and bound.min > bound.max:
            yield path, f"min ({bound.min}) is greater than max ({bound.max})"
    compared = spec.champion_challenger.metric
    if compared is not None and compared not in allowed:
        yield ("champion_challenger", "metric"), f"{compared!r} is not a {spec.model.task} metric"


def _fairness(spec: ProjectSpec) -> Iterator[Finding]:
    fairness = spec.fairness
    if fairness is None:
        return
    yield from _unit_interval(("fairness", "threshold"), fairness.threshold)
    if fairness.enabled and not fairness.sensitive_features:
        yield ("fairness", "sensitive_features"), "the fairness gate needs at least one sensitive feature"
    if fairness.enabled and spec.model.task != "classification":
        yield ("fairness",), "fairness ratio metrics apply to classification models; remove the section"
    if len(set(fairness.sensitive_features)) != len(fairness.sensitive_features):
        yield ("fairness", "sensitive_features"), "sensitive features must be unique"
    if spec.data.target in fairness.sensitive_features:
        yield ("fairness", "sensitive_features"), f"{spec.data.target!r} is the target column, not a feature"


# The environment settings each deployment target uses; a setting of another target is a mistake, not a no-op.
TARGET_SETTINGS: dict[str, tuple[str, ...]] = {
    "aks": ("cluster", "namespace", "replicas", "resources", "gateway"),
    "azureml_online_endpoint": ("instance_type", "instance_count"),
    "aci": ("resources",),
}
TARGET_ONLY = sorted({name for names in TARGET_SETTINGS.values() for name in names})


def _target_settings(index: int, env: Environment) -> Iterator[Finding]:
    for name in TARGET_ONLY:
        if name in env.model_fields_set and name not in TARGET_SETTINGS[env.target]:
            users = " or ".join(repr(t) for t, names in TARGET_SETTINGS.items() if name in names)
            yield ("environments", index, name), (f"{name!r} is used only by target {users}, and this environment's "
                                                  f"target is {env.target!r}; remove it")


# environments[].azure coordinates a target uses: an Azure ML workspace serves only online endpoints (AKS and ACI
# releases act on their cluster or container groups in the resource group), a region only container groups (an
# endpoint serves in its workspace's region, a cluster where it is).
AZURE_TARGET_ONLY = {"workspace": ("azureml_online_endpoint",), "location": ("aci",)}


def _azure_target_settings(index: int, env: Environment) -> Iterator[Finding]:
    for name, targets in AZURE_TARGET_ONLY.items():
        if name in env.azure.model_fields_set and getattr(env.azure, name) is not None and env.target not in targets:
            users = " or ".join(repr(t) for t in targets)
            yield ("environments", index, "azure", name), (
                f"'azure.{name}' is used only by target {users}, and this environment's target is {env.target!r}; "
                "remove it")


def _resources(index: int, env: Environment) -> Iterator[Finding]:
    resources = env.resources
    for kind in ("cpu", "memory"):
        request, limit = getattr(resources, f"{kind}_request"), getattr(resources, f"{kind}_limit")
        if quantity_amount(request) > quantity_amount(limit):
            yield (("environments", index, "resources", f"{kind}_request"),
                   f"{kind} request {request} is above the limit {limit}; Kubernetes refuses such a pod")


def _gateway(index: int, env: Environment) -> Iterator[Finding]:
    hostnames = env.gateway.hostnames if env.gateway else []
    for position, host in enumerate(hostnames):
        path: FieldPath = ("environments", index, "gateway", "hostnames", position)
        if all(label.isdigit() for label in host.split(".")):
            yield path, f"{host!r} is an IP address; a Gateway API hostname is a DNS name (no IP addresses)"
        if host.casefold() in [other.casefold() for other in hostnames[:position]]:
            yield path, f"{host!r} is listed twice"


def _environments(spec: ProjectSpec) -> Iterator[Finding]:
    seen: dict[str, int] = {}
    endpoints: dict[str, int] = {}
    clusters: dict[tuple[str | None, ...], int] = {}
    for index, env in enumerate(spec.environments):
        path: FieldPath = ("environments", index)
        yield from _gateway(index, env)
        if env.target == "aks" and env.cluster:
            # The manifests name their objects after the model: two environments in one namespace of one cluster
            # would deploy over each other.
            azure = environment_azure(spec, env)  # Azure names compare without case
            azure_names = (azure.subscription_id, azure.resource_group, env.cluster)
            place = (*(str(v).casefold() if v else v for v in azure_names), env.namespace)
            if place in clusters:
                yield (*path, "namespace"), (
                    f"environments[{clusters[place]}] is served in the same namespace {env.namespace!r} of cluster "
                    f"{env.cluster!r}: the model's Kubernetes objects would be shared; give each environment its "
                    "own namespace")
            clusters.setdefault(place, index)
        yield from _target_settings(index, env)
        yield from _azure_target_settings(index, env)
        yield from _resources(index, env)
        endpoint = endpoint_name(spec, env)
        if endpoint in endpoints and env.name not in seen:
            where = "endpoint_name" if env.endpoint_name else "name"
            yield (*path, where), (f"endpoint {endpoint!r} is also environments[{endpoints[endpoint]}]'s endpoint: "
                                   "one would deploy over the other; give each environment its own "
                                   "'endpoint_name'")
        endpoints.setdefault(endpoint, index)
        if env.name in seen:
            yield (*path, "name"), f"environment {env.name!r} is already defined as environments[{seen[env.name]}]"
        seen.setdefault(env.name, index)
        if is_production(env) and env.approval != "required" and not env.approval_waiver:
            yield (*path, "approval"), (f"{env.name!r} is production-like and needs 'approval: required' "
                                        "(or an 'approval_waiver' saying why not)")
        if env.target == "aks" and not env.cluster:
            yield (*path, "cluster"), "target 'aks' needs the AKS cluster name"
        if env.target == "aks" and is_production(env) and spec.rollout.strategy == "canary" and env.gateway is None:
            # Without a router, a Service spreads requests over pods, so a share could only follow pod counts:
            # with an autoscaler's minimum of 2 stable pods, 10 % and 25 % both become about 33 %.
            yield (*path, "gateway"), (f"{env.name!r} takes a canary rollout on AKS, which splits requests by "
                                       "weight through a Gateway API route: name the Gateway ('gateway: {name: "
                                       "..., namespace: ...}'), or choose strategy 'blue_green' or 'rolling'")
        if env.replicas.min > env.replicas.max:
            yield (*path, "replicas"), f"min ({env.replicas.min}) is greater than max ({env.replicas.max})"
        if env.endpoint_name is None and len(endpoint) > 32:
            yield (*path, "name"), (f"endpoint name {endpoint!r} is longer than Azure's 32 characters; "
                                    "set 'endpoint_name'")
        if env.azure.subscription_id and not spec.azure.subscription_id:
            yield (*path, "azure", "subscription_id"), (
                "an environment in a subscription of its own needs the training subscription named too: set "
                "azure.subscription_id (its release moves registry aliases there)")
        if is_production(env) and env.target == "aci":
            # A container group serves on a public IP without authentication: fine for a test environment, not
            # for one that takes production traffic.
            yield (*path, "target"), (f"{env.name!r} is production-like, and target 'aci' serves on a public "
                                      "address without authentication: use 'azureml_online_endpoint' (key or "
                                      "Entra ID auth) or 'aks', or mark the environment 'production: false'")


def _rollout(spec: ProjectSpec) -> Iterator[Finding]:
    rollout = spec.rollout
    yield from _unit_interval(("rollout", "monitor", "max_error_rate"), rollout.monitor.max_error_rate)
    if rollout.monitor.interval_seconds > rollout.monitor.duration_seconds:
        yield ("rollout", "monitor", "interval_seconds"), "must not exceed duration_seconds"
    if rollout.strategy != "canary":
        if "increments" in rollout.model_fields_set:
            yield ("rollout", "increments"), (f"increments are used only by strategy 'canary' (this rollout is "
                                              f"{rollout.strategy!r}); remove them")
        return
    steps = rollout.increments
    path: FieldPath = ("rollout", "increments")
    if not steps:
        yield path, "canary needs at least one increment"
        return
    for index, step in enumerate(steps):
        if not 1 <= step <= 100:
            yield (*path, index), f"{step} is not a percentage from 1 to 100"
        elif index and step <= steps[index - 1]:
            yield (*path, index), f"{step} does not increase on {steps[index - 1]}; increments must strictly increase"
    if steps[-1] != 100:
        yield path, f"the last increment must be 100 so the canary ends with all traffic (got {steps[-1]})"


def _platforms(spec: ProjectSpec) -> Iterator[Finding]:
    if not spec.platforms:
        yield ("platforms",), f"at least one platform is needed: {' and/or '.join(PLATFORMS)}"
    if len(set(spec.platforms)) != len(spec.platforms):
        yield ("platforms",), "platforms must be unique"


def _monitoring(spec: ProjectSpec) -> Iterator[Finding]:
    yield from _unit_interval(("monitoring", "drift", "threshold"), spec.monitoring.drift.threshold)


def _extensions(spec: ProjectSpec) -> Iterator[Finding]:
    for point, steps in spec.extensions:
        for index, step in enumerate(steps):
            if not step.script.endswith((".sh", ".py")):
                yield ("extensions", point, index, "script"), "must end in '.sh' (run with bash) or '.py' (python)"


# Files the spec names, the suffix their content needs, and whether mlops-gen writes a starter file there.
_CHOSEN_PATHS: tuple[tuple[FieldPath, tuple[str, ...]], ...] = (
    (("training", "config"), (".yaml", ".yml")),
    (("data", "expectations"), (".json",)),
    (("data", "local_path"), (".csv",)),
)


def generated_paths(spec: ProjectSpec, layout: str = "per-model", output: str = "generated") -> list[str]:
    """Every path the targets plan in the model's folder, relative to it, duplicates included (a seeded file at a
    path the spec chose is listed, so a second file there shows as a duplicate); as in the per-model layout, not
    the files about the folder itself (.gitattributes, the manifest), which the composer adds.

    The per-model layout's planners decide its files; the monorepo layout's model unit is planned by the targets'
    `monorepo_model` hooks instead, as mlops_gen.layout.monorepo.model_outputs asks them (its shared part and root
    callers lie outside the model's folder, where the spec's paths point). Each layout is checked against the files
    it writes: planning every per-model file in the monorepo layout cost more than the rest of validation, and
    missed the files only that layout writes (config/plan.json, k8s/<env>/manifests.yaml)."""
    if layout != "monorepo":
        from mlops_gen.render.plan import planned_paths  # the planners decide which files are generated

        return planned_paths(spec)
    from mlops_gen.layout.monorepo import model_targets, target_files
    from mlops_gen.layout.paths import Monorepo

    # The output folder does not change paths inside the model's folder; the repository's own (normally
    # "generated") lets the composer reuse the files planned here.
    repo = Monorepo(posixpath.normpath(output))
    folder = repo.model(spec.model.name) + "/"
    files = [file for name in model_targets(spec) for file in target_files(spec, repo, name)]
    return [f.path.removeprefix(folder) for f in files if f.path.startswith(folder)]


def _paths(spec: ProjectSpec, layout: str, output: str) -> Iterator[Finding]:
    planned = generated_paths(spec, layout, output)
    for path, suffixes in _CHOSEN_PATHS:
        section = getattr(spec, str(path[0]))
        value: str = getattr(section, str(path[1]))
        if not value.endswith(suffixes):
            yield path, f"{value!r} must end in {' or '.join(suffixes)}"
        elif planned.count(value) > 1 or (value in planned and path == ("data", "local_path")):
            yield path, f"{value!r} is also a file mlops-gen generates; choose another path"
        else:
            clash = next((p for p in planned if value.startswith(f"{p}/") or p.startswith(f"{value}/")), None)
            if clash is not None:
                inside = value.startswith(f"{clash}/")
                yield path, (f"{value!r} would put a file inside {clash!r}, a file mlops-gen generates; choose "
                             "another path" if inside else
                             f"{value!r} is a folder of files mlops-gen generates ({clash!r}); choose another path")


def semantic_findings(spec: ProjectSpec, layout: str = "per-model", output: str = "generated") -> list[Finding]:
    """Every cross-field rule violated by `spec`, as (field path, message); `layout`: the repository's (its
    mlops-gen.yaml's), which decides the generated files a path the spec chooses must not clash with."""
    rules = (_platforms, _gates, _fairness, _environments, _rollout, _monitoring, _extensions)
    findings = [finding for rule in rules for finding in rule(spec)]
    # Planning assumes an otherwise valid spec (unique environments, ...), so path clashes are checked last.
    return findings or list(_paths(spec, layout, output))
