"""Where the monorepo layout puts files, relative to the repository root (the folder of mlops-gen.yaml).

The one home of these paths: planners, the runner's callers, the writer and `diff --stat` grouping derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass

SHARED = "_shared"  # the shared part's folder under the output folder: a model name (DNS-1123) cannot start with _
WORKFLOWS = ".github/workflows"  # GitHub runs workflows from the repository root's folder only
# Reusable workflows are mlops.<name>.yml, a model's callers mlops-<model>.yml and mlops-<model>.<suffix>.yml: model
# names have no dots, so no caller can take a shared workflow's name or another model's.
SHARED_WORKFLOW_PREFIX = "mlops."


@dataclass(frozen=True)
class Monorepo:
    """`out`: the output folder relative to the repository root, POSIX spelling (normally "generated")."""

    out: str

    def shared(self, relative: str = "") -> str:
        return f"{self.out}/{SHARED}/{relative}".rstrip("/")

    def model(self, name: str, relative: str = "") -> str:
        return f"{self.out}/{name}/{relative}".rstrip("/")

    @staticmethod
    def shared_workflow(name: str) -> str:
        """name: e.g. "pipeline.yml"."""
        return f"{WORKFLOWS}/{SHARED_WORKFLOW_PREFIX}{name}"

    @staticmethod
    def caller(model: str, suffix: str = "") -> str:
        """suffix: "" for the model's pipeline, e.g. "drift" for another workflow of the model."""
        return f"{WORKFLOWS}/mlops-{model}{'.' + suffix if suffix else ''}.yml"

# The run folder in a model's folder: files the steps of one CI run hand to each other, carried from job to job as
# artifacts. The runner's RUN_DIR (templates/scripts/src/pipeline/run_plan.py; tests/test_run_plan.py keeps the two
# equal). Not a dot-folder: upload-artifact (v4.4.0 on) silently leaves hidden folders out.
RUN_FOLDER = "mlops-run"
