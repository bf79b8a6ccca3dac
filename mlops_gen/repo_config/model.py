"""The repository configuration's model (`apiVersion: mlops-gen/v1`, `kind: RepositoryConfig`).

`defaults` is a partial spec: it is checked field by field against the spec model when the file is loaded (see
mlops_gen.repo_config.load), so here it is only a mapping. Policies are rules every resolved spec must satisfy;
each is optional and off when absent.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from mlops_gen.spec.model import LOWER_IS_BETTER, RATIO_METRICS, Bound, DeployTarget, MetricName, Section
from mlops_gen.spec.types import Location, OutputFolder

Layout = Literal["per-model", "monorepo"]


def _sound_gates(gates: dict[str, Bound]) -> dict[str, Bound]:
    """The floors must be gates a spec could have: the spec's rules for bounds (mlops_gen.spec.semantic)."""
    for metric, bound in gates.items():
        values = [value for value in (bound.min, bound.max) if value is not None]
        if not values:
            raise ValueError(f"{metric}: a gate needs 'min' and/or 'max'")
        if metric in RATIO_METRICS and any(not 0 <= value <= 1 for value in values):
            raise ValueError(f"{metric}: a ratio metric's bounds lie within [0, 1]")
        if metric not in RATIO_METRICS and any(value < 0 for value in values):
            raise ValueError(f"{metric}: bounds must not be negative")
        wrong = "min" if metric in LOWER_IS_BETTER else "max"
        if getattr(bound, wrong) is not None:  # a floor under an error metric would ask for worse models
            right = "max" if wrong == "min" else "min"
            raise ValueError(f"{metric}: {'lower' if wrong == 'min' else 'higher'} is better, so a policy sets "
                             f"its '{right}', not its '{wrong}'")
        if bound.min is not None and bound.max is not None and bound.min > bound.max:
            raise ValueError(f"{metric}: min ({bound.min:g}) is greater than max ({bound.max:g})")
    return gates


class Policies(Section):
    production_approval: bool = Field(
        False, description="Every production-like environment has approval: required (no waiver accepted).")
    minimum_gates: Annotated[dict[MetricName, Bound], AfterValidator(_sound_gates)] = Field(
        default={}, max_length=20,
        description="Gates every spec of a task the metric applies to must have, at least this strict: a spec's "
                    "min may not be lower than min here, its max not higher than max here.")
    allowed_targets: list[DeployTarget] | None = Field(
        None, min_length=1, description="Deployment targets environments may use; absent means all.")
    allowed_regions: list[Location] | None = Field(
        None, min_length=1, max_length=100, description="Azure regions (azure.location) specs may use.")
    required_owners: int = Field(0, ge=0, le=50, description="Fewest entries model.owners must have.")


class RepositoryConfig(Section):
    """One repository's settings for every spec in it."""

    api_version: Literal["mlops-gen/v1"] = Field(alias="apiVersion", description="Configuration format version.")
    kind: Literal["RepositoryConfig"] = Field(description="Document kind.")
    layout: Layout = Field(
        "per-model",
        description="Output layout: 'per-model' renders each model folder as the root of its own repository; "
                    "'monorepo' renders the shared part once (OUTPUT/_shared/: stage scripts, serving app, "
                    "Dockerfile, Azure DevOps templates; GitHub reusable workflows in the root "
                    ".github/workflows/) and per model only thin callers (root .github/workflows/mlops-<model>.yml), "
                    "its config, Kubernetes manifests and README in OUTPUT/<model>/. Changing it moves ownership: "
                    "the next generate removes the old layout's generated files and keeps seeded and your files.")
    output: OutputFolder = Field("generated", description="Output folder, relative to this file; the -o option "
                                                          "overrides it.")
    defaults: dict[str, Any] = Field(
        default={}, description="A partial spec every spec inherits: mappings merge key by key and the spec's "
                                "value wins; lists, values and quality_gates.metrics are replaced whole by the "
                                "spec's. apiVersion, kind and model.name cannot be inherited.")
    policies: Policies = Field(default=Policies(), description="Rules every resolved spec must satisfy.")
