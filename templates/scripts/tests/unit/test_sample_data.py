"""Unit tests of the sample data generator used by run-local and the data/model tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from common.paths import model_file


@pytest.fixture(scope="module")
def sample(scripts: Any) -> Any:
    return scripts("data/make_sample_data.py")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_same_seed_same_table(sample: Any, task: str) -> None:
    first = sample.generate(task, "label", ["region"], rows=200, seed=3)
    assert first.equals(sample.generate(task, "label", ["region"], rows=200, seed=3))
    assert not first.equals(sample.generate(task, "label", ["region"], rows=200, seed=4))
    assert list(first.columns)[-1] == "label" and "region" in first.columns
    assert first["label"].notna().all()


def test_main_writes_the_pipeline_config_table(sample: Any, pipeline: dict[str, Any], tmp_path: Path) -> None:
    import pandas as pd

    config = model_file("config/pipeline.yaml")
    output = tmp_path / "sample.csv"
    assert sample.main(["--pipeline-config", str(config), "--output", str(output), "--rows", "120"]) == 0
    table = pd.read_csv(output)
    assert len(table) == 120 and pipeline["data"]["target"] in table.columns
    assert sample.main(["--pipeline-config", str(config), "--output", str(output), "--rows", "10"]) == 2
