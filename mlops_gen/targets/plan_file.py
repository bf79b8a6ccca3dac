"""Planner of config/plan.json, the model's pipeline as data (mlops_gen.pipeline.serialize), in the monorepo layout.

Not a registry target: the per-model layout renders the steps into each platform's own files, so only the monorepo
composer asks for this file (its shared CI files run the plan through src/pipeline/run_plan.py).
"""

from __future__ import annotations

from functools import partial

from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline.serialize import plan_data
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec

TARGET = "plan_file"
PLAN = "config/plan.json"  # relative to the model folder; the runner's --model-dir default location


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [OutputFile(repo.model(spec.model.name, PLAN), "plan/plan.json.j2", TARGET,
                       extra={"plan": partial(plan_data, spec)})]
