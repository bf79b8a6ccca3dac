"""The template context: the spec plus every derived value, computed once so templates stay declarative."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from mlops_gen import __version__
from mlops_gen.memo import per_spec
from mlops_gen.spec.model import (
    LOWER_IS_BETTER,
    Azure,
    Environment,
    ProjectSpec,
    champion_metric,
    endpoint_name,
    environment_azure,
    experiment_name,
    fairness_enabled,
    is_production,
    metric_gates,
    served_apart,
)


@dataclass(frozen=True)
class Gate:
    metric: str
    min: float | None
    max: float | None


@dataclass(frozen=True)
class EnvView:
    """An environment with everything templates need about it."""

    env: Environment
    index: int
    name: str
    ident: str  # PascalCase, for Azure DevOps stage/job names
    job_id: str  # snake_case, for GitHub job ids
    production: bool
    endpoint_name: str
    strategy: str  # the spec's rollout strategy for production-like environments, 'direct' before them
    previous: str | None  # ident of the environment deployed before this one
    azure: Azure  # where it is served: its own coordinates, else the spec's (spec.model.environment_azure)
    # Served outside the training workspace (another workspace, resource group or subscription): its release's
    # scripts are told where the model registry is (--registry-*), and its README setup lists its own roles.
    separate: bool
    # Its own Azure DevOps service connection, when it names one other than the spec's: its tasks log in with it.
    own_connection: str | None
    # The subscription it names for itself: its jobs select it, and the registry's is passed apart.
    own_subscription: str | None
    # Serving deployment names: Azure ML online deployments, Kubernetes Deployments, ACI container groups.
    # Fixed per environment: promotion moves the verified candidate's image onto the stable deployment.
    stable_deployment: str = "stable"
    candidate_deployment: str = "canary"

    @property
    def side_by_side(self) -> bool:
        """Canary and blue-green serve the candidate beside the stable deployment; rolling and direct update the
        stable deployment in place."""
        return self.strategy in ("canary", "blue_green")

    @property
    def tracks(self) -> tuple[tuple[str, str], ...]:
        """(track label, deployment) of each deployment the rollout runs: stable, and the candidate beside it."""
        stable = (("stable", self.stable_deployment),)
        return (*stable, ("canary", self.candidate_deployment)) if self.side_by_side else stable


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def deployment_names(spec: ProjectSpec, env: Environment) -> dict[str, str]:
    """Stable and candidate (canary) deployment names, the ones deploy/monitor/rollback/promote are passed."""
    if env.target == "aks":
        name = spec.model.name
        return {"stable_deployment": f"{name}-stable", "candidate_deployment": f"{name}-canary"}
    if env.target == "aci":
        name = endpoint_name(spec, env)
        return {"stable_deployment": name, "candidate_deployment": f"{name}-canary"}
    return {"stable_deployment": "stable", "candidate_deployment": "canary"}


def _quantity(value: str, unit: str) -> float:
    """A Kubernetes quantity (spec.types.Quantity) as CPU cores ('250m' -> 0.25) or GiB ('512Mi' -> 0.5)."""
    if value.endswith("m"):
        return float(value[:-1]) / 1000 if unit == "cpu" else float(value[:-1]) / 1000 / 2**30
    factors = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}
    for suffix, factor in factors.items():
        if value.endswith(suffix):
            return float(value[:-2]) * factor / (1 if unit == "cpu" else 2**30)
    return float(value) if unit == "cpu" else float(value) / 2**30


def container_size(env: Environment) -> dict[str, float]:
    """CPU cores and memory (GB) of an ACI container group: the environment's limits, rounded up to ACI's steps
    (0.25 core, 0.1 GB)."""
    cpu = max(0.25, round(_quantity(env.resources.cpu_limit, "cpu") * 4 + 0.4999) / 4)
    memory = max(0.5, round(_quantity(env.resources.memory_limit, "memory") * 10 + 0.4999) / 10)
    return {"cpu": cpu, "memory_gb": memory}


def environments(spec: ProjectSpec) -> list[EnvView]:
    """One view per environment, in the spec's order (a new list: callers may change it)."""
    return list(_environments(spec))


@per_spec  # every planner and template of a model asks, dozens of times per spec
def _environments(spec: ProjectSpec) -> tuple[EnvView, ...]:
    views = []
    previous: str | None = None
    for index, env in enumerate(spec.environments):
        production = is_production(env)
        view = EnvView(env=env, index=index, name=env.name, ident=_pascal(env.name),
                       job_id=env.name.replace("-", "_"), production=production,
                       endpoint_name=endpoint_name(spec, env),
                       strategy=spec.rollout.strategy if production else "direct", previous=previous,
                       azure=environment_azure(spec, env), separate=served_apart(spec, env),
                       own_connection=(env.azure.service_connection
                                       if env.azure.service_connection != spec.azure.service_connection else None),
                       own_subscription=env.azure.subscription_id,
                       **deployment_names(spec, env))
        views.append(view)
        previous = view.ident
    return tuple(views)


def azure_pipelines(spec: ProjectSpec) -> dict[str, str]:
    """Names under which the README tells users to create the Azure DevOps pipelines; the deployment pipeline's
    `resources.pipelines` trigger refers to the training pipeline by this name."""
    return {
        "training_file": "azure-pipelines/training.yml",
        "deployment_file": "azure-pipelines/deployment.yml",
        "training_name": f"{spec.model.name}-training",
        "deployment_name": f"{spec.model.name}-deployment",
        "drift_file": "azure-pipelines/drift-monitor.yml",  # rendered when monitoring.drift.enabled
        "drift_name": f"{spec.model.name}-drift-monitor",
    }


def spec_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def build_context(spec: ProjectSpec, spec_shown: str, raw: bytes) -> dict[str, Any]:
    gates = [Gate(metric, bound.min, bound.max) for metric, bound in metric_gates(spec).items()]
    metric = champion_metric(spec)
    return {
        "spec": spec,
        "model": spec.model,
        "spec_path": spec_shown,
        "spec_hash": spec_hash(raw),
        "generator_version": __version__,
        "gates": gates,
        "experiment": experiment_name(spec),
        "champion_metric": metric,
        "champion_direction": "lower" if metric in LOWER_IS_BETTER else "higher",
        "fairness": spec.fairness if fairness_enabled(spec) else None,
        "environments": environments(spec),
        "image_repository": f"{spec.azure.registry}.azurecr.io/{spec.model.name}",
        "azure_pipelines": azure_pipelines(spec),
    }
