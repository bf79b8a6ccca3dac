"""Planner for the k8s target: manifests per AKS environment under k8s/<environment>/.

Deployment (stable) with probes, resources and a locked-down securityContext, Services, HorizontalPodAutoscaler and
PodDisruptionBudget; for canary and blue-green rollouts also the canary Deployment (with its own autoscaler and
disruption budget: at 100 % it serves everything) and one Service per track; with a gateway, the HTTPRoute that
carries the requests and splits a canary's share by weight (see src/deployment/aks_target.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlops_gen.render.context import EnvView, environments
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets.docker import SERVING_PORT, SERVING_UID

if TYPE_CHECKING:
    from mlops_gen.layout.paths import Monorepo

TARGET = "k8s"
MONOREPO_FILE = "manifests.yaml"  # the monorepo layout's one multi-document file per AKS environment


def _manifests(spec: ProjectSpec) -> list[tuple[EnvView, dict[str, Any], list[str]]]:
    """Per AKS environment: its view, the templates' context and the manifest names (one kind each)."""
    found = []
    for view in environments(spec):
        if view.env.target != "aks":
            continue
        extra = {"view": view, "env": view.env, "port": SERVING_PORT, "uid": SERVING_UID}
        names = ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]
        if view.side_by_side:
            names.append("deployment-canary.yaml")
        if view.env.gateway is not None:
            names.append("httproute.yaml")
        found.append((view, extra, names))
    return found


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return [OutputFile(f"k8s/{view.name}/{name}", f"k8s/{name}", TARGET, extra=extra)
            for view, extra, names in _manifests(spec) for name in names]


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    """One multi-document file per AKS environment, `O/<model>/k8s/<env>/manifests.yaml`: the per-model layout's
    documents, in the order of their file names there (sorted), which is the order load_manifests reads them."""
    return [OutputFile(repo.model(spec.model.name, f"k8s/{view.name}/{MONOREPO_FILE}"), f"k8s/{MONOREPO_FILE}",
                       TARGET, extra={**extra, "documents": sorted(names)})
            for view, extra, names in _manifests(spec)]
