"""The one list of what mlops-gen renders: the pipeline platforms and the other targets, in planning order.

Planners are named here (module `mlops_gen.targets.<name>`, function `outputs`), never imported, so the registry
imports no plug-in and no plug-in import cycle can form; everything else (the spec's `platforms` values, `--target`
choices, planning order, the README's platform names) is derived from this list.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    platform: bool  # a CI/CD platform: rendered only for the spec's `platforms`

    def planner(self) -> Callable[[Any], list[Any]]:
        planner: Callable[[Any], list[Any]] = importlib.import_module(f"mlops_gen.targets.{self.name}").outputs
        return planner


REGISTRY: tuple[Target, ...] = (
    Target("azure_devops", "Azure DevOps", platform=True),
    Target("github_actions", "GitHub Actions", platform=True),
    Target("scripts", "Stage scripts", platform=False),
    Target("docker", "Serving image", platform=False),
    Target("k8s", "Kubernetes manifests", platform=False),
    Target("docs", "Model README", platform=False),
)
TARGETS: tuple[str, ...] = tuple(target.name for target in REGISTRY)
PLATFORMS: tuple[str, ...] = tuple(target.name for target in REGISTRY if target.platform)
PLATFORM_LABELS: dict[str, str] = {target.name: target.label for target in REGISTRY if target.platform}

if TYPE_CHECKING:
    Platform = str
else:  # the spec's `platforms` values: a Literal built from the registry, so the JSON Schema lists them
    Platform = Literal[PLATFORMS]
