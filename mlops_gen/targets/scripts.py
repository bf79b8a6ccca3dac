"""Planner for the scripts target: the stage scripts the pipelines call, their config, tests and requirements."""

from __future__ import annotations

from mlops_gen.layout.paths import Monorepo
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets import deployment_scripts, training_scripts


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return [*training_scripts.outputs(spec), *deployment_scripts.outputs(spec)]


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    return [*training_scripts.monorepo_shared(repo), *deployment_scripts.monorepo_shared(repo)]


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [*training_scripts.monorepo_model(spec, repo), *deployment_scripts.monorepo_model(spec, repo)]
