"""The configuration's policies, checked on each resolved spec: (path, policy, message) for every breach.

The path is the spec field that breaks the policy (or the nearest one the spec has), so the error is shown where
the author can fix it.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlops_gen.repo_config.model import Policies
from mlops_gen.spec.loader import Path_
from mlops_gen.spec.model import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    ProjectSpec,
    is_production,
    metric_gates,
)

Breach = tuple[Path_, str, str]
TASK_METRICS = {"classification": CLASSIFICATION_METRICS, "regression": REGRESSION_METRICS}


def breaches(spec: ProjectSpec, policies: Policies) -> Iterator[Breach]:
    yield from _approval(spec, policies)
    yield from _gates(spec, policies)
    yield from _targets(spec, policies)
    yield from _regions(spec, policies)
    if len(spec.model.owners) < policies.required_owners:
        yield (("model", "owners"), "required_owners",
               f"{len(spec.model.owners)} owner(s); at least {policies.required_owners} required")


def _approval(spec: ProjectSpec, policies: Policies) -> Iterator[Breach]:
    if not policies.production_approval:
        return
    for index, env in enumerate(spec.environments):
        if is_production(env) and env.approval != "required":
            yield (("environments", index, "approval"), "production_approval",
                   f"production-like environment {env.name!r} must have approval: required (a waiver is not "
                   "accepted)")


def _gates(spec: ProjectSpec, policies: Policies) -> Iterator[Breach]:
    gates = metric_gates(spec)
    for metric, floor in policies.minimum_gates.items():
        if metric not in TASK_METRICS[spec.model.task]:
            continue  # a regression metric says nothing about a classifier
        where: Path_ = ("quality_gates", "metrics", metric)
        gate = gates.get(metric)
        for side, limit in (("min", floor.min), ("max", floor.max)):
            if limit is None:
                continue
            have = getattr(gate, side) if gate is not None else None
            too_loose = have is None or (have < limit if side == "min" else have > limit)
            if too_loose:
                shown = "none" if have is None else f"{have:g}"
                relation = ">=" if side == "min" else "<="
                yield ((*where, side), "minimum_gates",
                       f"{metric} needs a gate with {side} {relation} {limit:g} (this spec: {shown})")


def _regions(spec: ProjectSpec, policies: Policies) -> Iterator[Breach]:
    """The spec's region, and each environment's own (environments[].azure.location decides where it serves)."""
    allowed = policies.allowed_regions
    if allowed is None:
        return
    places: list[tuple[Path_, str]] = [(("azure", "location"), spec.azure.location)]
    places += [(("environments", index, "azure", "location"), env.azure.location)
               for index, env in enumerate(spec.environments) if env.azure.location is not None]
    for path, region in places:
        if region not in allowed:
            yield path, "allowed_regions", f"region {region!r} is not allowed; allowed: {', '.join(allowed)}"


def _targets(spec: ProjectSpec, policies: Policies) -> Iterator[Breach]:
    if policies.allowed_targets is None:
        return
    for index, env in enumerate(spec.environments):
        if env.target not in policies.allowed_targets:
            yield (("environments", index, "target"), "allowed_targets",
                   f"target {env.target!r} is not allowed; allowed: {', '.join(policies.allowed_targets)}")
