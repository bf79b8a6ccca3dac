"""Where the monorepo layout puts files, relative to the repository root (the folder of mlops-gen.yaml).

The one home of these paths: planners, the runner's callers, the writer and `diff --stat` grouping derive from it.
"""

from __future__ import annotations

from dataclasses import dataclass

SHARED = "_shared"  # the shared part's folder under the output folder: a model name (DNS-1123) cannot start with _
WORKFLOWS = ".github/workflows"  # GitHub runs workflows from the repository root's folder only
SHARED_WORKFLOW_PREFIX = "mlops-shared-"  # reusable workflows; a caller is mlops-<model>.yml


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
        return f"{WORKFLOWS}/{SHARED_WORKFLOW_PREFIX}{name}"

    @staticmethod
    def caller(model: str, suffix: str = "") -> str:
        return f"{WORKFLOWS}/mlops-{model}{suffix}.yml"
