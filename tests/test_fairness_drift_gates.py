"""The fairness gate (fairness_assessment.py) and the drift check (detect_drift.py) in-process, with the real
pandas, scipy and fairlearn at the scripts' pins (the test extra): the exact values, edges, messages, reports and exit
codes a pipeline acts on. Expected values are worked out by hand in the comments, not read back from the code."""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.template_scripts import load_script

fairness = load_script("validation/fairness_assessment.py")
drift = load_script("monitoring/detect_drift.py")


class ScoreModel:
    """Predicts 1 where the row's `score` is above 0.5: the test chooses every prediction."""

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def predict(self, features: pd.DataFrame) -> Any:
        self.seen.append([str(c) for c in features.columns])
        return (features["score"] > 0.5).astype(int).to_numpy()


def _rows(groups: str, predicted: str, labels: str) -> pd.DataFrame:
    """One row per character: group letter, prediction bit, label bit."""
    return pd.DataFrame({"gender": list(groups), "score": [0.9 if p == "1" else 0.1 for p in predicted],
                         "churned": [int(y) for y in labels]})


# Group A selects 2 of 4 (0.5), group B 1 of 4 (0.25): demographic parity ratio 0.25 / 0.5 = 0.5.
PARITY = _rows("AAAABBBB", "11001000", "10101010")
# A: TPR 2/2, FPR 1/2; B: TPR 1/2, FPR 2/2. Ratios 0.5 and 0.5: equalized odds ratio 0.5.
ODDS = _rows("AAAABBBB", "11101011", "11001100")


# --- fairness_assessment.py ---------------------------------------------------------------------------------------

def test_assess_reports_the_ratio_and_each_groups_selection_rate() -> None:
    model = ScoreModel()
    report = fairness.assess(model, PARITY, "churned", ["gender"], "demographic_parity_ratio", 0.5)
    assert model.seen == [["gender", "score"]]  # the label is not a feature
    assert report == {
        "metric": "demographic_parity_ratio", "threshold": 0.5, "passed": True,
        "features": {"gender": {"value": 0.5, "passed": True,
                                "groups": {"A": {"selection_rate": 0.5, "count": 4},
                                           "B": {"selection_rate": 0.25, "count": 4}}}}}


def test_assess_uses_the_metric_it_is_given() -> None:
    report = fairness.assess(ScoreModel(), ODDS, "churned", ["gender"], "equalized_odds_ratio", 0.6)
    assert report["features"]["gender"]["value"] == 0.5
    assert report["passed"] is False
    # The same predictions are perfectly fair by demographic parity: A and B both select 3 of 4.
    parity = fairness.assess(ScoreModel(), ODDS, "churned", ["gender"], "demographic_parity_ratio", 0.6)
    assert parity["features"]["gender"]["value"] == 1.0 and parity["passed"] is True


def test_a_ratio_equal_to_the_threshold_passes_and_one_ulp_above_fails() -> None:
    at = fairness.assess(ScoreModel(), PARITY, "churned", ["gender"], "demographic_parity_ratio", 0.5)
    above = fairness.assess(ScoreModel(), PARITY, "churned", ["gender"], "demographic_parity_ratio",
                            math.nextafter(0.5, 1.0))
    assert (at["passed"], above["passed"]) == (True, False)
    assert above["features"]["gender"]["passed"] is False


def test_every_feature_must_pass() -> None:
    # Predictions 1,1,0,0,1,0,0,0; region X (rows 0, 2, 3) selects 1/3, Y (rows 1, 4-7) 2/5: ratio 5/6.
    frame = PARITY.assign(region=list("XYXXYYYY"))
    report = fairness.assess(ScoreModel(), frame, "churned", ["region", "gender"], "demographic_parity_ratio",
                             0.6)
    assert list(report["features"]) == ["region", "gender"]
    assert report["features"]["region"]["value"] == pytest.approx(5 / 6)
    assert (report["features"]["region"]["passed"], report["features"]["gender"]["passed"]) == (True, False)
    assert report["passed"] is False
    both = fairness.assess(ScoreModel(), frame, "churned", ["region", "gender"], "demographic_parity_ratio", 0.5)
    assert both["passed"] is True


def test_many_valued_numbers_are_compared_in_quartile_bands() -> None:
    frame = pd.concat([PARITY, PARITY], ignore_index=True).assign(age=range(20, 36))  # 16 distinct ages
    report = fairness.assess(ScoreModel(), frame, "churned", ["age"], "demographic_parity_ratio", 0.0)
    groups = report["features"]["age"]["groups"]
    assert len(groups) == 4 and [g["count"] for g in groups.values()] == [4, 4, 4, 4]


def test_an_unknown_sensitive_feature_is_named() -> None:
    with pytest.raises(fairness.ScriptError, match=r"^sensitive feature 'zip' is not a column of the test data$"):
        fairness.assess(ScoreModel(), PARITY, "churned", ["zip"], "demographic_parity_ratio", 0.5)


def _run_fairness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *argv: str,
                  frame: pd.DataFrame = PARITY) -> tuple[int, dict[str, Any], ET.Element | None]:
    loaded: list[str] = []
    monkeypatch.setattr(fairness, "configure_mlflow", lambda args: loaded.append(f"mlflow {args.job_file}"))
    monkeypatch.setattr(fairness, "load_model", lambda run: loaded.append(f"model {run}") or ScoreModel())
    monkeypatch.setattr(fairness, "load_test_split", lambda run: loaded.append(f"split {run}") or frame)
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"backend": "local", "run_id": "run-42"}), encoding="utf-8")
    report, junit = tmp_path / "fairness.json", tmp_path / "fairness.xml"
    code = fairness.main(["--job-file", str(job), "--target", "churned", "--metric", "demographic_parity_ratio",
                          "--junit-output", str(junit), "--output", str(report), *argv])
    if code != 2:
        assert loaded == [f"mlflow {job}", "model run-42", "split run-42"]
    result = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return code, result, ET.parse(junit).getroot() if junit.exists() else None


def test_main_passes_at_the_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, report, junit = _run_fairness(tmp_path, monkeypatch, "--sensitive-feature", "gender", "--threshold", "0.5")
    assert code == 0
    assert report["run_id"] == "run-42" and report["passed"] is True
    assert junit is not None
    cases = junit.findall("testsuite/testcase")
    assert [(c.get("name"), len(c)) for c in cases] == [("demographic_parity_ratio for gender >= 0.5", 0)]
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "gender: demographic_parity_ratio = 0.5000"
    assert "[PASS] fairness: demographic_parity_ratio for gender >= 0.5" in out


def test_main_fails_below_the_threshold_and_says_by_how_much(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, report, junit = _run_fairness(tmp_path, monkeypatch, "--sensitive-feature", "gender",
                                        "--threshold", "0.8")
    assert code == 1 and report["passed"] is False
    assert junit is not None
    failure = junit.find("testsuite/testcase/failure")
    assert failure is not None
    assert failure.get("message") == "gender: demographic_parity_ratio = 0.5000 is below 0.8"


@pytest.mark.parametrize("threshold", ["0", "1"])
def test_main_accepts_the_thresholds_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threshold: str) -> None:
    code, report, _ = _run_fairness(tmp_path, monkeypatch, "--sensitive-feature", "gender", "--threshold", threshold)
    assert code == (0 if threshold == "0" else 1)
    assert report["threshold"] == float(threshold)


@pytest.mark.parametrize(("argv", "message"), [
    (["--threshold", "0.5"], "error: give at least one --sensitive-feature"),
    (["--sensitive-feature", "gender", "--threshold", "1.0000001"], "error: --threshold must lie within [0, 1]"),
    (["--sensitive-feature", "gender", "--threshold", "-0.1"], "error: --threshold must lie within [0, 1]"),
])
def test_main_refuses_bad_arguments_before_loading_anything(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str],
        message: str) -> None:
    code, report, junit = _run_fairness(tmp_path, monkeypatch, *argv)
    assert (code, report, junit) == (2, {}, None)
    assert capsys.readouterr().err.strip() == message


def test_fairness_parser_choices() -> None:
    parser = fairness.build_parser()
    args = parser.parse_args(["--job-file", "j", "--target", "y", "--metric", "equalized_odds_ratio",
                              "--threshold", "0.8", "--junit-output", "x", "--output", "o"])
    assert args.sensitive_feature == [] and args.threshold == 0.8
    with pytest.raises(SystemExit):
        parser.parse_args(["--job-file", "j", "--target", "y", "--metric", "accuracy", "--threshold", "0.8",
                           "--junit-output", "x", "--output", "o"])


# --- detect_drift.py ----------------------------------------------------------------------------------------------

def test_psi_of_known_shares() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5
    assert drift._psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert drift._psi([0.3, 0.7], [0.3, 0.7]) == 0.0


def test_psi_of_an_empty_bin_is_finite() -> None:
    # Each empty share counts as 1e-4: 2 (1 - 1e-4) ln(1 / 1e-4).
    assert drift._psi([1.0, 0.0], [0.0, 1.0]) == pytest.approx(2 * (1 - 1e-4) * math.log(1e4))


def test_numeric_psi_bins_by_the_references_deciles() -> None:
    reference = pd.Series(range(100), dtype=float).to_numpy()
    assert drift.numeric_psi(reference, reference) == 0.0
    # Every current value in the lowest decile: shares 1 against 0.1, and nine empty bins against 0.1.
    lowest = pd.Series([0.0] * 50).to_numpy()
    expected = (1 - 0.1) * math.log(1 / 0.1) + 9 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert drift.numeric_psi(reference, lowest) == pytest.approx(expected)


def test_numeric_psi_counts_values_beyond_the_references_range() -> None:
    reference = pd.Series(range(100), dtype=float).to_numpy()
    # Far below and far above the reference: the open-ended outer bins take them (1/2 each against 0.1).
    outside = pd.Series([-1000.0, 1000.0]).to_numpy()
    expected = 2 * (0.5 - 0.1) * math.log(0.5 / 0.1) + 8 * (1e-4 - 0.1) * math.log(1e-4 / 0.1)
    assert drift.numeric_psi(reference, outside) == pytest.approx(expected)


def test_numeric_psi_of_a_constant_reference() -> None:
    """One bin for the value, one for everything else; finite, as the JSON report needs (json.dumps writes
    `Infinity`, which strict JSON readers refuse)."""
    constant = pd.Series([3.0] * 10).to_numpy()
    assert drift.numeric_psi(constant, pd.Series([3.0, 3.0]).to_numpy()) == 0.0
    # Shares 0.5 / 0.5 against 1 / 0 (counted as 1e-4).
    expected = (0.5 - 1) * math.log(0.5 / 1) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert drift.numeric_psi(constant, pd.Series([3.0, 4.0]).to_numpy()) == pytest.approx(expected)


def test_numeric_psi_sees_a_rare_value_become_common() -> None:
    """Found by mutation testing: 95 % zeros and 5 % ones gave the decile edges 0 and 1, one bin, PSI 0 whatever
    the current data held. A reference with at most ten values gets one bin per value."""
    reference = np.array([0.0] * 95 + [1.0] * 5)
    expected = (1e-4 - 0.95) * math.log(1e-4 / 0.95) + (1 - 0.05) * math.log(1 / 0.05)
    assert drift.numeric_psi(reference, np.array([1.0] * 100)) == pytest.approx(expected)
    assert drift.numeric_psi(reference, reference) == 0.0


def test_numeric_psi_bins_by_value_up_to_ten_values_and_by_decile_beyond() -> None:
    # Ten values, 91 % zeros: by value, the nines are 1 % of the reference (deciles would give one bin and 0).
    ten = np.array([0.0] * 91 + [float(v) for v in range(1, 10)])
    nines = np.array([9.0] * 10)
    expected = (1e-4 - 0.91) * math.log(1e-4 / 0.91) + 8 * (1e-4 - 0.01) * math.log(1e-4 / 0.01) + (
        (1 - 0.01) * math.log(1 / 0.01))
    assert drift.numeric_psi(ten, nines) == pytest.approx(expected)
    # Eleven values, 90 % zeros: every interior decile is 0, so the bins are x <= 0 and x > 0 (0.9 and 0.1).
    eleven = np.array([0.0] * 90 + [float(v) for v in range(1, 11)])
    tens = np.array([10.0] * 10)
    expected = (1e-4 - 0.9) * math.log(1e-4 / 0.9) + (1 - 0.1) * math.log(1 / 0.1)
    assert drift.numeric_psi(eleven, tens) == pytest.approx(expected)


def test_numeric_psi_counts_values_the_reference_never_had_together() -> None:
    reference = np.array([1.0, 2.0] * 50)
    # 1/4 each of 1 and 2, and half unseen values (5 and 7) sharing the "other" bin.
    current = np.array([1.0, 2.0, 5.0, 7.0])
    expected = 2 * (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4)
    assert drift.numeric_psi(reference, current) == pytest.approx(expected)


def test_category_shares_cover_both_sides() -> None:
    assert drift._shares(pd.Series(["a", "a", "b", "b"]), pd.Series(["a", "c"])) == ([0.5, 0.5, 0.0],
                                                                                      [0.5, 0.0, 0.5])
    assert drift._shares(pd.Series([1, 1]), pd.Series(["1"])) == ([1.0], [1.0])  # compared as text


# Shares after dropping the missing value: a 0.5 / 0.5, b 0.5 / 0 (counted as 1e-4), c 0 (1e-4) / 0.5.
@pytest.mark.parametrize(("method", "statistic", "value"), [
    ("psi", "psi", 2 * (0.5 - 1e-4) * math.log(0.5 / 1e-4)),
    ("ks", "total_variation", 0.5),  # (0 + 0.5 + 0.5) / 2; KS is for numbers, categories get total variation
])
def test_categorical_drift(method: str, statistic: str, value: float) -> None:
    found = drift.feature_drift(pd.Series(["a", "b", None, "a", "b"], name="plan"), pd.Series(["a", "c"]), method,
                                True)
    assert found[0] == statistic and found[1] == pytest.approx(value)


def test_numeric_drift_by_ks_and_psi() -> None:
    reference = pd.Series([1.0, 2.0, 3.0, None], name="tenure")
    assert drift.feature_drift(reference, pd.Series([4.0, 5.0, 6.0]), "ks", False) == ("ks", 1.0)
    assert drift.feature_drift(reference, pd.Series([1.0, 2.0, 3.0]), "ks", False) == ("ks", 0.0)
    assert drift.feature_drift(reference, pd.Series([1.0, 2.0, 3.0]), "psi", False) == ("psi", 0.0)


@pytest.mark.parametrize("empty", ["reference", "current"])
def test_a_column_with_no_values_is_an_error_not_drift(empty: str) -> None:
    values, nothing = pd.Series([1.0, 2.0], name="tenure"), pd.Series([None, None], dtype=float, name="tenure")
    reference, current = (nothing, values) if empty == "reference" else (values, nothing)
    with pytest.raises(drift.ScriptError, match=r"^column tenure: no values to compare$"):
        drift.feature_drift(reference, current, "ks", False)


REFERENCE = pd.DataFrame({"tenure": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "a", "b", "b"], "churned": [0, 1, 0, 1]})


def test_detect_reports_each_feature_and_leaves_out_the_label() -> None:
    current = pd.DataFrame({"tenure": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "c", "c", "c"], "extra": [0, 0, 0, 0]})
    report = drift.detect(REFERENCE, current, "ks", 0.5, "churned")
    # plan: shares a 0.5 / 0.25, b 0.5 / 0, c 0 / 0.75: total variation (0.25 + 0.5 + 0.75) / 2 = 0.75.
    assert report == {
        "result": "drift", "method": "ks", "threshold": 0.5, "reference_rows": 4, "current_rows": 4,
        "drift_detected": True, "drifted_features": ["plan"],
        "features": {"tenure": {"statistic": "ks", "value": 0.0, "drifted": False},
                     "plan": {"statistic": "total_variation", "value": 0.75, "drifted": True}}}


def test_detect_with_psi_uses_it_for_every_feature() -> None:
    current = pd.DataFrame({"tenure": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "c", "c", "c"]})
    report = drift.detect(REFERENCE, current, "psi", 0.2, "churned")
    # plan: a 0.5 -> 0.25, b 0.5 -> 0 (1e-4), c 0 (1e-4) -> 0.75.
    plan = (0.25 - 0.5) * math.log(0.25 / 0.5) + (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (
        (0.75 - 1e-4) * math.log(0.75 / 1e-4))
    assert report["features"] == {"tenure": {"statistic": "psi", "value": 0.0, "drifted": False},
                                  "plan": {"statistic": "psi", "value": pytest.approx(plan), "drifted": True}}


def test_a_value_equal_to_the_threshold_is_not_drift() -> None:
    current = pd.DataFrame({"tenure": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "c", "c", "c"]})
    at = drift.detect(REFERENCE, current, "ks", 0.75, "churned")
    assert at["result"] == "no_drift" and at["drift_detected"] is False and at["drifted_features"] == []
    below = drift.detect(REFERENCE, current, "ks", math.nextafter(0.75, 0.0), "churned")
    assert below["drifted_features"] == ["plan"]


def test_drifted_features_are_listed_in_name_order() -> None:
    reference = pd.DataFrame({"zeta": ["a", "a"], "alpha": ["a", "a"]})
    report = drift.detect(reference, pd.DataFrame({"zeta": ["b"], "alpha": ["b"]}), "ks", 0.1, None)
    assert list(report["features"]) == ["zeta", "alpha"] and report["drifted_features"] == ["alpha", "zeta"]


def test_missing_current_columns_are_named() -> None:
    with pytest.raises(drift.ScriptError, match=r"^current data lacks columns: tenure, plan$"):
        drift.detect(REFERENCE, pd.DataFrame({"churned": [1]}), "ks", 0.1, "churned")


def _run_drift(tmp_path: Path, current: pd.DataFrame, *argv: str) -> tuple[int, dict[str, Any]]:
    REFERENCE.to_csv(tmp_path / "reference.csv", index=False)
    current.to_csv(tmp_path / "current.csv", index=False)
    code = drift.main(["--backend", "local", "--reference", str(tmp_path / "reference.csv"), "--current",
                       str(tmp_path / "current.csv"), "--output", str(tmp_path / "drift.json"), *argv])
    out = tmp_path / "drift.json"
    return code, json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}


def test_main_reports_drift_and_still_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current = pd.DataFrame({"tenure": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "c", "c", "c"], "churned": [1, 1, 1, 1]})
    code, report = _run_drift(tmp_path, current, "--method", "ks", "--threshold", "0.5", "--target", "churned")
    assert code == 0 and report["drifted_features"] == ["plan"]
    assert capsys.readouterr().out.splitlines() == [
        "ok    tenure: ks = 0.0000",
        "DRIFT plan: total_variation = 0.7500",
        "result: drift above 0.5 in: plan",
    ]


def test_main_reports_no_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _run_drift(tmp_path, REFERENCE, "--method", "psi", "--threshold", "0.2")
    assert code == 0 and report["result"] == "no_drift" and "churned" in report["features"]
    assert report["method"] == "psi" and report["features"]["tenure"]["statistic"] == "psi"
    assert capsys.readouterr().out.splitlines()[-1] == "result: no drift above 0.2"


def test_main_reads_both_tables_through_the_backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The training data is read where the model registry is (--registry-*), what production sent where the
    watched environment is served (--workspace): they differ when it is served apart from training."""
    asked: list[tuple[str, bool, bool]] = []
    REFERENCE.to_csv(tmp_path / "table.csv", index=False)

    def located(args: Any, location: str, scratch: Path, registry: bool = True) -> str:
        asked.append((location, scratch.is_dir() and scratch.name.startswith("mlops-drift-"), registry))
        return str(tmp_path / "table.csv")

    monkeypatch.setattr(drift, "table_location", located)
    assert drift.main(["--reference", "azureml:churn:latest", "--current", "azureml:inputs:3", "--method", "psi",
                       "--threshold", "0.1", "--output", str(tmp_path / "d.json")]) == 0
    assert asked == [("azureml:churn:latest", True, True), ("azureml:inputs:3", True, False)]


def test_main_fails_when_a_table_cannot_be_read(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = drift.main(["--backend", "local", "--reference", str(tmp_path / "none.csv"), "--current",
                       str(tmp_path / "none.csv"), "--method", "ks", "--threshold", "0.1",
                       "--output", str(tmp_path / "d.json")])
    assert code == 2 and not (tmp_path / "d.json").exists()
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'none.csv'}: file not found"


def test_drift_parser_choices() -> None:
    with pytest.raises(SystemExit):
        drift.build_parser().parse_args(["--reference", "r", "--current", "c", "--method", "chi2", "--threshold",
                                         "1", "--output", "o"])


@pytest.mark.parametrize("flag", ["--reference", "--current"])
def test_an_empty_table_name_is_refused_before_anything_is_read(tmp_path: Path, flag: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """An unset pipeline variable (DRIFT_CURRENT_DATA) reaches the script as an empty or blank argument."""
    REFERENCE.to_csv(tmp_path / "ref.csv", index=False)
    tables = {"--reference": str(tmp_path / "ref.csv"), "--current": str(tmp_path / "ref.csv"), flag: " "}
    argv = [*(item for pair in tables.items() for item in pair), "--method", "psi", "--threshold", "0.2",
            "--output", str(tmp_path / "report.json")]
    assert drift.main(argv) == 2
    assert capsys.readouterr().err == (f"error: {flag} is empty: name a table (CSV/Parquet path) or a data asset "
                                       "azureml:<name>:<version|latest>\n")
    assert not (tmp_path / "report.json").exists()


def test_main_lists_every_drifted_feature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    current = pd.DataFrame({"tenure": [9.0, 9.0, 9.0, 9.0], "plan": ["c", "c", "c", "c"], "churned": [1, 1, 1, 1]})
    code, report = _run_drift(tmp_path, current, "--method", "psi", "--threshold", "0.2", "--target", "churned")
    assert code == 0 and report["drifted_features"] == ["plan", "tenure"]
    assert capsys.readouterr().out.splitlines()[-1] == "result: drift above 0.2 in: plan, tenure"


@pytest.mark.parametrize("flag", ["--reference", "--current"])
def test_main_refuses_a_data_asset_without_the_azure_backend(tmp_path: Path, flag: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    REFERENCE.to_csv(tmp_path / "ref.csv", index=False)
    tables = {"--reference": str(tmp_path / "ref.csv"), "--current": str(tmp_path / "ref.csv"), flag: "azureml:x:1"}
    argv = ["--backend", "local", *(item for pair in tables.items() for item in pair), "--method", "psi",
            "--threshold", "0.2", "--output", str(tmp_path / "report.json")]
    assert drift.main(argv) == 2
    assert capsys.readouterr().err == "error: azureml:x:1 is an Azure ML data asset: it needs the azure backend\n"
