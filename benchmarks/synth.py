"""A synthetic monorepo: N valid spec files derived from the example specs, each with its own model name.

Variants rotate through the examples and vary what changes the rendered output (platforms, rollout strategy,
gate thresholds, Python version, environments), so the benchmark renders realistically different trees rather
than one tree N times.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = (("customer-churn.yaml", "churn"), ("house-prices.yaml", "houses"), ("fraud-minimal.yaml", "fraud"))
PLATFORMS = (["azure_devops", "github_actions"], ["azure_devops"], ["github_actions"])
STRATEGIES = ("canary", "blue_green", "rolling", "direct")
PYTHONS = ("3.11", "3.12", "3.13")
HEADER = "# yaml-language-server: $schema=./mlops-gen.schema.json\n# Synthetic benchmark variant of {source}.\n"


def _examples() -> list[tuple[str, str, dict[str, Any]]]:
    loaded = []
    for file, prefix in EXAMPLES:
        data = yaml.safe_load((REPO / "specs" / file).read_text(encoding="utf-8"))
        loaded.append((file, prefix, data))
    return loaded


def _shift_gates(data: dict[str, Any], step: int) -> None:
    metrics = (data.get("quality_gates") or {}).get("metrics") or {}
    for bound in metrics.values():
        if bound.get("min") is not None:
            bound["min"] = round(max(0.0, float(bound["min"]) - step * 0.01), 4)
        if bound.get("max") is not None:
            bound["max"] = round(float(bound["max"]) * (1 + step / 10), 4)


def variant(index: int, width: int = 4, tweak: int = 0) -> tuple[str, str]:
    """(model name, spec text) of variant `index`; `tweak` changes one threshold, as a user edit would."""
    source, prefix, base = _examples()[index % len(EXAMPLES)]
    data = copy.deepcopy(base)
    name = f"{prefix}-{index:0{width}d}"  # a DNS label well under 32 characters, endpoints included
    data["model"]["name"] = name
    turn = index // len(EXAMPLES)
    if prefix != "fraud":
        data["platforms"] = PLATFORMS[turn % len(PLATFORMS)]
        rollout = data.setdefault("rollout", {})
        rollout["strategy"] = STRATEGIES[turn % len(STRATEGIES)]
        if rollout["strategy"] != "canary":  # increments are canary-only: validation refuses them elsewhere
            rollout.pop("increments", None)
    elif turn % 2:  # half of the minimal specs gain an approved production environment
        data["environments"].append({"name": "prod", "approval": "required"})
    data["python_version"] = PYTHONS[turn % len(PYTHONS)]
    if data.get("training", {}).get("experiment"):
        data["training"]["experiment"] = f"{name.replace('-', '_')}_experiment"
    _shift_gates(data, turn % 10)
    if tweak:
        section = data.setdefault("quality_gates", {})
        gates = section["metrics"] = section.get("metrics") or {}
        first = next(iter(gates), None)
        if first is None:
            metric = "accuracy" if data["model"].get("task", "classification") == "classification" else "r2"
            gates[metric] = {"min": round(0.5 + tweak / 100, 4)}
        else:
            key = "min" if gates[first].get("min") is not None else "max"
            gates[first][key] = round(float(gates[first][key]) * (1 - tweak / 1000), 6)
    return name, HEADER.format(source=source) + yaml.safe_dump(data, sort_keys=False, width=110)


def build_monorepo(root: Path, n: int) -> list[Path]:
    """Write N specs to root/specs/<model>.yaml; return their paths."""
    specs = root / "specs"
    specs.mkdir(parents=True, exist_ok=True)
    width = max(4, len(str(max(n - 1, 0))))
    paths = []
    for index in range(n):
        name, text = variant(index, width)
        path = specs / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
