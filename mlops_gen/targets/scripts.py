"""Planner for the scripts target: the stage scripts the pipelines call, their config, tests and requirements."""

from __future__ import annotations

from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets import deployment_scripts, training_scripts


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return [*training_scripts.outputs(spec), *deployment_scripts.outputs(spec)]
