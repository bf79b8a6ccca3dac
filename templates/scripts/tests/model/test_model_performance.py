"""Model tests of the ML test framework: the training code and config reach the spec's metric gates (and its
fairness threshold) on the training table, and training is reproducible."""

from __future__ import annotations

from typing import Any

import pytest

from common.paths import model_file


@pytest.fixture(scope="module")
def train(scripts: Any) -> Any:
    return scripts("training/train.py")


@pytest.fixture(scope="module")
def config(train: Any, pipeline: dict[str, Any]) -> dict[str, Any]:
    return train.load_config(str(model_file(pipeline["training"]["config"])), pipeline["model"]["task"])


@pytest.fixture(scope="module")
def trained(train: Any, training_table: Any, pipeline: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    return train.train(training_table, pipeline["data"]["target"], pipeline["model"]["task"], config,
                       pipeline["data"]["test_size"])


def test_metric_gates(trained: dict[str, Any], pipeline: dict[str, Any]) -> None:
    failures = []
    for metric, bound in pipeline["quality_gates"].items():
        value = trained["metrics"].get(metric)
        assert value is not None, f"training reports no {metric}"
        if "min" in bound and value < bound["min"]:
            failures.append(f"{metric} {value:.4f} < {bound['min']}")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{metric} {value:.4f} > {bound['max']}")
    assert not failures, "; ".join(failures)


def test_predictions_cover_test_rows(trained: dict[str, Any], pipeline: dict[str, Any]) -> None:
    features = trained["test"].drop(columns=[pipeline["data"]["target"]])
    assert len(trained["model"].predict(features)) == len(features) == trained["test_rows"]


def test_training_is_reproducible(train: Any, training_table: Any, pipeline: dict[str, Any],
                                  config: dict[str, Any], trained: dict[str, Any]) -> None:
    again = train.train(training_table, pipeline["data"]["target"], pipeline["model"]["task"], config,
                        pipeline["data"]["test_size"])
    assert again["metrics"] == trained["metrics"]


def test_fairness_threshold(scripts: Any, trained: dict[str, Any], pipeline: dict[str, Any]) -> None:
    fairness = pipeline.get("fairness")
    if not fairness or pipeline["model"]["task"] != "classification":
        pytest.skip("no fairness gate in the spec")
    report = scripts("validation/fairness_assessment.py").assess(
        trained["model"], trained["test"], pipeline["data"]["target"], fairness["sensitive_features"],
        fairness["metric"], fairness["threshold"])
    assert report["passed"], {name: item["value"] for name, item in report["features"].items()}
