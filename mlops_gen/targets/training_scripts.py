"""Planner for the training_scripts part of the scripts target."""

from __future__ import annotations

from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return []
