"""Data tests of the ML test framework: the training table against config's expectations (schema, quality,
distribution), with the same checks the data validation stage runs in the pipeline."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def checks(scripts: Any) -> Any:
    return scripts("data_validation/validate_data.py")


def _failures(cases: list[Any]) -> list[str]:
    return [case.failure for case in cases if case.failure]


def test_schema(checks: Any, training_table: Any, expectations: dict[str, Any]) -> None:
    assert not _failures(checks.check_schema(training_table, expectations))


def test_quality(checks: Any, training_table: Any, expectations: dict[str, Any]) -> None:
    assert not _failures(checks.check_quality(training_table, expectations))


def test_distribution(checks: Any, training_table: Any, expectations: dict[str, Any]) -> None:
    assert not _failures(checks.check_distribution(training_table, expectations))


def test_target_present_and_complete(training_table: Any, pipeline: dict[str, Any]) -> None:
    target = pipeline["data"]["target"]
    assert target in training_table.columns
    assert training_table[target].notna().all()


def test_sensitive_features_present(training_table: Any, pipeline: dict[str, Any]) -> None:
    fairness = pipeline.get("fairness") or {}
    missing = [c for c in fairness.get("sensitive_features") or [] if c not in training_table.columns]
    assert not missing, f"sensitive features missing from the data: {missing}"
