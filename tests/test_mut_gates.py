"""Tests written to kill mutmut's survivors in the generated gate scripts (validate_metrics.py,
champion_challenger.py): the exact cases, messages, JUnit reports and exit codes a pipeline acts on. The scripts are
imported from the templates in-process (see tests/test_boundaries.py), so these run in the fast suite."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.test_boundaries import champion_challenger, validate_metrics


def _cases(cases: list[Any]) -> list[tuple[str, str | None]]:
    return [(case.name, case.failure) for case in cases]


# --- validate_metrics.py --------------------------------------------------------------------------------------

def test_check_names_every_bound_and_explains_every_failure() -> None:
    metrics = {"accuracy": 0.8, "f1": 0.95, "rmse": 2.5, "latency": 0.1}
    cases = validate_metrics.check(metrics, {"accuracy": 0.85, "f1": 0.9, "recall": 0.5},
                                   {"rmse": 2.0, "latency": 0.25})
    assert _cases(cases) == [
        ("accuracy >= 0.85", "accuracy = 0.8000 is below the minimum 0.85"),
        ("f1 >= 0.9", None),
        ("recall min", "recall: not in the metrics file"),
        ("rmse <= 2", "rmse = 2.5000 is above the maximum 2"),
        ("latency <= 0.25", None),
    ]


def test_a_missing_metric_fails_its_max_gate_too() -> None:
    assert _cases(validate_metrics.check({}, {}, {"rmse": 1.0})) == [("rmse max", "rmse: not in the metrics file")]


def test_a_zero_metric_is_a_value_not_a_missing_one() -> None:
    assert _cases(validate_metrics.check({"fpr": 0.0}, {}, {"fpr": 0.0})) == [("fpr <= 0", None)]
    assert _cases(validate_metrics.check({"acc": 0.0}, {"acc": 0.0}, {})) == [("acc >= 0", None)]


def _run_validate(tmp_path: Path, metrics: dict[str, Any], *gates: str) -> tuple[int, ET.Element]:
    (tmp_path / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    junit = tmp_path / "junit.xml"
    code = validate_metrics.main(["--metrics-file", str(tmp_path / "metrics.json"), "--junit-output", str(junit),
                                  *gates])
    return code, ET.parse(junit).getroot()


def test_main_passes_reports_and_counts_the_bounds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit = _run_validate(tmp_path, {"accuracy": 0.9, "rmse": 1.0}, "--min", "accuracy=0.85",
                                "--max", "rmse=1.5", "--max", "accuracy=1")
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "metric gate passed: 3 bounds hold"
    assert "[PASS] metric_gates: rmse <= 1.5" in out
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("name") == "metric_gates"
    assert (suite.get("tests"), suite.get("failures")) == ("3", "0")
    assert [c.get("name") for c in suite] == ["accuracy >= 0.85", "rmse <= 1.5", "accuracy <= 1"]


def test_main_fails_naming_each_failed_metric_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, junit = _run_validate(tmp_path, {"accuracy": 0.5, "rmse": 9.0, "note": "text", "f1": 1},
                                "--min", "accuracy=0.85", "--max", "accuracy=0.4", "--max", "rmse=1.5",
                                "--min", "f1=1", "--min", "note=0")
    assert code == 1
    err = capsys.readouterr().err
    assert err.strip() == "metric gate FAILED: accuracy, note, rmse"  # a non-number is not a metric
    suite = junit.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("5", "4")


def test_main_refuses_no_gates_and_bad_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "m.json").write_text('{"a": 1}', encoding="utf-8")
    base = ["--metrics-file", str(tmp_path / "m.json"), "--junit-output", str(tmp_path / "j.xml")]
    assert validate_metrics.main(base) == 2
    assert capsys.readouterr().err == "error: no gates: give at least one --min or --max\n"
    assert validate_metrics.main([*base, "--max", "a=high"]) == 2
    assert "--max a=high: not a number" in capsys.readouterr().err
    assert validate_metrics.main([*base, "--min", "a=low"]) == 2
    assert "--min a=low: not a number" in capsys.readouterr().err
    assert not (tmp_path / "j.xml").exists()


@pytest.mark.parametrize("missing", ["--metrics-file", "--junit-output"])
def test_main_requires_its_files(tmp_path: Path, missing: str) -> None:
    argv = {"--metrics-file": "m.json", "--junit-output": "j.xml"}
    argv.pop(missing)
    with pytest.raises(SystemExit) as stop:
        validate_metrics.main([*(x for pair in argv.items() for x in pair), "--min", "a=1"])
    assert stop.value.code == 2


def test_min_and_max_repeat_and_default_to_none_given() -> None:
    parser = validate_metrics.build_parser()
    args = parser.parse_args(["--metrics-file", "m", "--junit-output", "j"])
    assert (args.min, args.max) == ([], [])
    args = parser.parse_args(["--metrics-file", "m", "--junit-output", "j", "--min", "a=1", "--min", "b=2",
                              "--max", "c=3", "--max", "d=4"])
    assert (args.min, args.max) == (["a=1", "b=2"], ["c=3", "d=4"])


def test_validate_metrics_help_shows_the_bound_syntax(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        validate_metrics.build_parser().parse_args(["--help"])
    usage = capsys.readouterr().out
    assert "--min METRIC=VALUE" in usage and "--max METRIC=VALUE" in usage
    assert usage.count("inclusive (repeatable)") == 2


# --- champion_challenger.py -----------------------------------------------------------------------------------

def test_decide_explains_a_win_and_a_loss() -> None:
    win = champion_challenger.decide(0.9, 0.8, "higher", 0.05)
    assert win["passed"] is True and math.isclose(win["improvement"], 0.1)
    assert win["reason"] == ("challenger 0.9000 beats champion 0.8000 by the required 0.05 "
                             "(higher is better; improvement +0.1000)")
    loss = champion_challenger.decide(3.0, 2.0, "lower", 0.0)
    assert loss == {"passed": False, "improvement": -1.0,
                    "reason": "challenger 3.0000 does not beat champion 2.0000 by the required 0 "
                              "(lower is better; improvement -1.0000)"}


def test_decide_without_a_champion() -> None:
    assert champion_challenger.decide(0.1, None, "lower", 5.0) == {
        "passed": True, "improvement": None, "reason": "no champion: the first version wins"}


def test_a_negative_minimum_tolerates_a_bounded_regression() -> None:
    assert champion_challenger.decide(0.79, 0.8, "higher", -0.02)["passed"] is True
    assert champion_challenger.decide(0.77, 0.8, "higher", -0.02)["passed"] is False


class _Registry:
    """Stands in for MLflow: the champion's version and its run's metrics."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, champion: dict[str, float] | None) -> None:
        self.calls: list[tuple[str, ...]] = []
        version = None if champion is None else SimpleNamespace(version=7, run_id="run-7")
        monkeypatch.setattr(champion_challenger, "configure_mlflow",
                            lambda args: self.calls.append(("mlflow for", args.model_name)))
        monkeypatch.setattr(champion_challenger, "client", lambda: "client")
        monkeypatch.setattr(champion_challenger, "version_by_alias",
                            lambda c, name, alias: self.calls.append((c, name, alias)) or version)
        monkeypatch.setattr(champion_challenger, "run_metrics",
                            lambda c, run_id: self.calls.append((c, run_id)) or dict(champion or {}))


def _run_cc(tmp_path: Path, metrics: dict[str, float], *extra: str) -> tuple[int, dict[str, Any], ET.Element]:
    (tmp_path / "m.json").write_text(json.dumps(metrics), encoding="utf-8")
    code = champion_challenger.main(["--metrics-file", str(tmp_path / "m.json"), "--model-name", "churn",
                                     "--alias", "production", "--metric", "auc", "--direction", "higher",
                                     "--junit-output", str(tmp_path / "j.xml"), "--output", str(tmp_path / "r.json"),
                                     *extra])
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) if (tmp_path / "r.json").exists() else {}
    return code, result, ET.parse(tmp_path / "j.xml").getroot() if (tmp_path / "j.xml").exists() else ET.Element("x")


def test_main_challenger_beats_champion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    registry = _Registry(monkeypatch, {"auc": 0.8})
    code, result, junit = _run_cc(tmp_path, {"auc": 0.9}, "--min-improvement", "0.05")
    assert code == 0
    assert registry.calls == [("mlflow for", "churn"), ("client", "churn", "production"), ("client", "run-7")]
    assert (result["passed"], result["metric"], result["direction"]) == (True, "auc", "higher")
    assert (result["challenger"], result["champion"], result["champion_version"]) == (0.9, 0.8, "7")
    case = junit.find("testsuite/testcase")
    assert case is not None and case.get("name") == "auc vs churn@production" and len(case) == 0


def test_main_challenger_loses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                               capsys: pytest.CaptureFixture[str]) -> None:
    _Registry(monkeypatch, {"auc": 0.8})
    code, result, junit = _run_cc(tmp_path, {"auc": 0.8})  # a tie needs the default minimum of 0: passes
    assert code == 0 and result["passed"] is True
    code, result, junit = _run_cc(tmp_path, {"auc": 0.79})
    assert code == 1 and result["passed"] is False
    failure = junit.find("testsuite/testcase/failure")
    assert failure is not None and failure.text == result["reason"]
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == result["reason"]
    assert out[-2] == f"[FAIL] champion_challenger: auc vs churn@production: {result['reason']}"


@pytest.mark.parametrize("champion", [None, {"loss": 0.1}])
def test_main_without_a_comparable_champion_passes_and_is_skipped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        champion: dict[str, float] | None) -> None:
    _Registry(monkeypatch, champion)
    code, result, junit = _run_cc(tmp_path, {"auc": 0.1})
    assert code == 0 and result["passed"] is True and result["champion"] is None
    assert result["champion_version"] == (None if champion is None else "7")
    skipped = junit.find("testsuite/testcase/skipped")
    assert skipped is not None and skipped.get("message") == "no champion: the first version wins"
    out = capsys.readouterr().out
    assert ("champion version 7 has no auc; treating it as absent" in out) == (champion is not None)


def test_main_refuses_a_metrics_file_without_the_metric(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _Registry(monkeypatch, {"auc": 0.8})
    code, result, _ = _run_cc(tmp_path, {"f1": 0.9})
    assert code == 2 and result == {}
    assert f"{tmp_path / 'm.json'} has no 'auc' metric" in capsys.readouterr().err


def test_main_without_output_writes_only_the_junit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _Registry(monkeypatch, None)
    (tmp_path / "m.json").write_text('{"auc": 0.5}', encoding="utf-8")
    assert champion_challenger.main(["--metrics-file", str(tmp_path / "m.json"), "--model-name", "m", "--alias", "a",
                                     "--metric", "auc", "--direction", "lower",
                                     "--junit-output", str(tmp_path / "j.xml")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.xml", "m.json"]


def test_champion_challenger_parser_defaults_and_choices() -> None:
    parser = champion_challenger.build_parser()
    args = parser.parse_args(["--metrics-file", "m", "--model-name", "n", "--alias", "a", "--metric", "auc",
                              "--direction", "lower", "--junit-output", "j"])
    assert (args.min_improvement, args.output) == (0.0, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["--metrics-file", "m", "--model-name", "n", "--alias", "a", "--metric", "auc",
                           "--direction", "sideways", "--junit-output", "j"])
