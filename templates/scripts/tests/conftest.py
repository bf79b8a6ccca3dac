"""Shared fixtures: the stage scripts as modules, the pipeline settings, the training table and expectations.

Tests run from the model folder: `pytest tests/data tests/model tests/unit`. The training table is the spec's
data.local_path when present, otherwise the deterministic sample from src/data/make_sample_data.py.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))  # the scripts' shared `common` helpers

from common.paths import model_dir  # noqa: E402

ROOT = model_dir()  # the model's files: this folder, or MLOPS_MODEL_DIR (the monorepo layout's shared tests)


def load_script(relative: str) -> ModuleType:
    """Import src/<relative> as a module (scripts live in plain folders, not packages)."""
    name = "script_" + relative.removesuffix(".py").replace("/", "_")
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SRC / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def scripts() -> Callable[[str], ModuleType]:
    return load_script


@pytest.fixture(scope="session")
def pipeline() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "config" / "pipeline.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def expectations(pipeline: dict[str, Any]) -> dict[str, Any]:
    return json.loads((ROOT / pipeline["data"]["expectations"]).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def training_table(pipeline: dict[str, Any]) -> Any:
    import pandas as pd

    local = ROOT / pipeline["data"]["local_path"]
    if local.exists():
        return pd.read_csv(local)
    fairness = pipeline.get("fairness") or {}
    return load_script("data/make_sample_data.py").generate(
        pipeline["model"]["task"], pipeline["data"]["target"], fairness.get("sensitive_features") or [])
