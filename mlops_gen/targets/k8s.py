"""Planner for the k8s target: manifests per AKS environment under k8s/<environment>/.

Deployment (stable) with probes, resources and a locked-down securityContext, Services, HorizontalPodAutoscaler and
PodDisruptionBudget; for canary and blue-green rollouts also the canary Deployment (with its own autoscaler and
disruption budget: at 100 % it serves everything) and one Service per track; with a gateway, the HTTPRoute that
carries the requests and splits a canary's share by weight (see src/deployment/aks_target.py).
"""

from __future__ import annotations

from mlops_gen.render.context import environments
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets.docker import SERVING_PORT, SERVING_UID

TARGET = "k8s"


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    files = []
    for view in environments(spec):
        if view.env.target != "aks":
            continue
        extra = {"view": view, "env": view.env, "port": SERVING_PORT, "uid": SERVING_UID}
        names = ["deployment.yaml", "service.yaml", "hpa.yaml", "pdb.yaml"]
        if view.side_by_side:
            names.append("deployment-canary.yaml")
        if view.env.gateway is not None:
            names.append("httproute.yaml")
        files += [OutputFile(f"k8s/{view.name}/{name}", f"k8s/{name}", TARGET, extra=extra) for name in names]
    return files
