"""Every threshold a user writes, at its edges: exactly 0 and 1 for ratios, min == max, a metric equal to its limit
(passes) and one ulp beyond (fails), in the spec validator and in the generated gate scripts (imported from the
templates, so these run in the fast suite without rendering), and canary increments at their edges."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mlops_gen.spec.model import ProjectSpec
from tests.template_scripts import load_script
from tests.test_spec_rules import check, messages

validate_metrics = load_script("validation/validate_metrics.py")
champion_challenger = load_script("validation/champion_challenger.py")


# --- the validator --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0.0, 1.0, 0.5])
def test_ratio_gate_accepts_the_closed_unit_interval(value: float) -> None:
    assert isinstance(check({"quality_gates.metrics.accuracy": {"min": value}}), ProjectSpec)
    assert isinstance(check({"quality_gates.metrics.accuracy": {"max": value}}), ProjectSpec)


@pytest.mark.parametrize("value", [math.nextafter(1.0, 2.0), math.nextafter(0.0, -1.0)])
def test_ratio_gate_rejects_one_ulp_outside(value: float) -> None:
    found = messages(check({"quality_gates.metrics.accuracy": {"min": value}}))
    assert any("quality_gates.metrics.accuracy.min" in m and "within [0, 1]" in m for m in found), found


def test_min_equal_to_max_is_accepted_and_one_ulp_below_is_not() -> None:
    assert isinstance(check({"quality_gates.metrics.accuracy": {"min": 0.9, "max": 0.9}}), ProjectSpec)
    found = messages(check({"quality_gates.metrics.accuracy": {"min": 0.9, "max": math.nextafter(0.9, 0.0)}}))
    assert any("min (0.9) is greater than max" in m for m in found), found


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_fairness_threshold_edges(value: float) -> None:
    spec = {"model": {"name": "churn-model", "task": "classification"}}
    ok = check({"fairness": {"sensitive_features": ["age"], "threshold": value}}, **spec)
    assert isinstance(ok, ProjectSpec), ok
    beyond = math.nextafter(value, 2.0 if value else -1.0)
    found = messages(check({"fairness": {"sensitive_features": ["age"], "threshold": beyond}}, **spec))
    assert any("fairness.threshold" in m and "within [0, 1]" in m for m in found), found


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_max_error_rate_edges(value: float) -> None:
    assert isinstance(check({"rollout.monitor.max_error_rate": value}), ProjectSpec)
    beyond = math.nextafter(value, 2.0 if value else -1.0)
    found = messages(check({"rollout.monitor.max_error_rate": beyond}))
    assert any("max_error_rate" in m and "within [0, 1]" in m for m in found), found


@pytest.mark.parametrize("increments", [[100], [1, 100], [99, 100], [1, 2, 3, 100]])
def test_increments_at_their_edges_are_accepted(increments: list[int]) -> None:
    assert isinstance(check({"rollout.strategy": "canary", "rollout.increments": increments}), ProjectSpec)


@pytest.mark.parametrize(("increments", "needle"), [
    ([0, 100], "increments"),            # below 1
    ([10, 101], "increments"),           # above 100
    ([10, 99], "must be 100"),           # does not end at 100
    ([50, 50, 100], "does not increase"),  # equal neighbours
])
def test_increments_one_beyond_their_edges_are_rejected(increments: list[int], needle: str) -> None:
    found = messages(check({"rollout.strategy": "canary", "rollout.increments": increments}))
    assert any(needle in m for m in found), found


# --- the generated gate scripts -------------------------------------------------------------------------------

def _failed(cases: list) -> list[str]:
    return [c.name for c in cases if c.failure]


def test_metric_equal_to_its_minimum_passes_and_one_ulp_below_fails() -> None:
    assert _failed(validate_metrics.check({"accuracy": 0.85}, {"accuracy": 0.85}, {})) == []
    below = math.nextafter(0.85, 0.0)
    assert _failed(validate_metrics.check({"accuracy": below}, {"accuracy": 0.85}, {})) == ["accuracy >= 0.85"]


def test_metric_equal_to_its_maximum_passes_and_one_ulp_above_fails() -> None:
    assert _failed(validate_metrics.check({"rmse": 3.0}, {}, {"rmse": 3.0})) == []
    above = math.nextafter(3.0, 4.0)
    assert _failed(validate_metrics.check({"rmse": above}, {}, {"rmse": 3.0})) == ["rmse <= 3"]


@pytest.mark.parametrize("limit", [0.0, 1.0])
def test_metric_gate_at_ratio_edges(limit: float) -> None:
    assert _failed(validate_metrics.check({"recall": limit}, {"recall": limit}, {"recall": limit})) == []


def test_min_equal_to_max_pins_the_metric() -> None:
    gate = ({"f1": 0.9}, {"f1": 0.9})
    assert _failed(validate_metrics.check({"f1": 0.9}, *gate)) == []
    assert _failed(validate_metrics.check({"f1": math.nextafter(0.9, 1.0)}, *gate)) == ["f1 <= 0.9"]


def test_missing_metric_fails_its_gate() -> None:
    assert _failed(validate_metrics.check({}, {"accuracy": 0.0}, {})) == ["accuracy min"]


def test_validate_metrics_main_exit_codes_at_the_limit(tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"accuracy": 0.85}')
    argv = ["--metrics-file", str(metrics), "--junit-output", str(tmp_path / "j.xml")]
    assert validate_metrics.main([*argv, "--min", "accuracy=0.85"]) == 0
    assert validate_metrics.main([*argv, "--min", f"accuracy={math.nextafter(0.85, 1.0)!r}"]) == 1


@pytest.mark.parametrize("direction", ["higher", "lower"])
def test_champion_challenger_improvement_equal_to_the_minimum_passes(direction: str) -> None:
    # integers in binary floating point, so the improvement is exactly 1.0
    challenger, champion = (3.0, 2.0) if direction == "higher" else (2.0, 3.0)
    assert champion_challenger.decide(challenger, champion, direction, 1.0)["passed"] is True
    assert champion_challenger.decide(challenger, champion, direction, math.nextafter(1.0, 2.0))["passed"] is False


def test_champion_challenger_tie_with_zero_minimum_passes_and_any_loss_fails() -> None:
    assert champion_challenger.decide(0.9, 0.9, "higher", 0.0)["passed"] is True
    assert champion_challenger.decide(math.nextafter(0.9, 0.0), 0.9, "higher", 0.0)["passed"] is False
    assert champion_challenger.decide(0.5, None, "higher", 0.1)["passed"] is True
