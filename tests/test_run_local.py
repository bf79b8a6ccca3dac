"""End to end on this machine: `mlops-gen run-local` of the example churn spec passes every stage; the same spec
with an unreachable accuracy minimum stops at the metric gate and registers nothing. The two runs (and the
generated test suite run) share one cached virtual environment."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlops_gen.cli import run
from mlops_gen.local import venv
from tests.conftest import SPECS

pytestmark = pytest.mark.slow
CHURN = SPECS / "customer-churn.yaml"



def _versions(state: Path, model: str) -> list[tuple[str, dict[str, str]]]:
    """Registered versions and their tags, read straight from MLflow's sqlite store."""
    db = state / "mlflow.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        if not connection.execute("SELECT name FROM sqlite_master WHERE name = 'model_versions'").fetchall():
            return []
        versions = [str(row[0]) for row in
                    connection.execute("SELECT version FROM model_versions WHERE name = ?", (model,))]
        return [(v, dict(connection.execute("SELECT key, value FROM model_version_tags WHERE name = ? AND "
                                            "version = ?", (model, v)).fetchall())) for v in versions]


def _junit(path: Path) -> tuple[int, int]:
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    return int(suite.get("tests", "0")), int(suite.get("failures", "0")) + int(suite.get("errors", "0"))


def test_churn_pipeline_passes_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["run-local", str(CHURN), "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "run-local: every stage passed" in out and "Metric gates" in out and "PASSED" in out
    model = tmp_path / "customer-churn"
    results = model / ".mlops" / "results"
    metrics = json.loads((results / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["accuracy"] >= 0.85 and metrics["precision"] >= 0.8 and metrics["recall"] >= 0.8
    for report in ("data-validation.xml", "metric-gates.xml", "fairness.xml", "champion-challenger.xml"):
        tests, failures = _junit(results / report)
        assert tests > 0 and failures == 0, report
    tests, failures = _junit(results / "endpoint-tests-staging-tests.xml")
    assert tests >= 4 and failures == 0
    card = (results / "model_card.md").read_text(encoding="utf-8")
    assert "# Model card: customer-churn version 1" in card and "demographic_parity_ratio" in card
    versions = _versions(model / ".mlops" / "state", "customer-churn")
    assert [v for v, _ in versions] == ["1"]
    tags = versions[0][1]
    assert {"build_id", "build_number", "branch", "commit", "spec_hash", "use_case", "team"} <= set(tags)
    assert tags["use_case"] == "churn_prediction"
    summary = json.loads((results / "run-local.json").read_text(encoding="utf-8"))
    assert summary["passed"] and all(stage["status"] == "passed" for stage in summary["stages"])
    # Every local scoring server ran under gunicorn, as in the image (issue 13 item 12), not the fallback server.
    logs = sorted((model / ".mlops" / "state" / "serving").glob("*/deployments/*.log"))
    assert logs
    for log in logs:
        assert "(gunicorn, " in log.read_text(encoding="utf-8", errors="replace"), log


def test_unreachable_accuracy_fails_at_the_metric_gate_and_registers_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CHURN.read_text(encoding="utf-8")
    assert "accuracy: {min: 0.85}" in text
    strict = tmp_path / "strict-churn.yaml"
    strict.write_text(text.replace("accuracy: {min: 0.85}", "accuracy: {min: 0.999}"), encoding="utf-8")
    assert run(["run-local", str(strict), "--workdir", str(tmp_path / "work")]) == 1
    captured = capsys.readouterr()
    assert "FAILED at gate 'Metric gates'" in captured.err
    assert "no model version was registered" in captured.err
    assert "accuracy" in captured.err
    model = tmp_path / "work" / "customer-churn"
    results = model / ".mlops" / "results"
    tests, failures = _junit(results / "metric-gates.xml")
    assert (tests, failures) == (3, 1)
    assert not (results / "version.json").exists()
    assert _versions(model / ".mlops" / "state", "customer-churn") == []
    stages = {s["name"]: s["status"] for s in json.loads((results / "run-local.json").read_text("utf-8"))["stages"]}
    assert stages["Metric gates"] == "failed"
    assert stages["Register the model version with lineage tags"] == "skipped"


def test_generated_test_suite_passes_for_a_regression_spec(tmp_path: Path) -> None:
    """The generated data, model and unit tests (what the generated CI runs) pass in the generated venv."""
    assert run(["generate", str(SPECS / "house-prices.yaml"), "-o", str(tmp_path)]) == 0
    folder = tmp_path / "house-prices"
    python = venv.ensure_venv([folder / "requirements.txt", folder / "requirements-dev.txt"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_"))}
    result = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/unit",
                             "tests/data", "tests/model"], cwd=folder, env=env, capture_output=True, text=True,
                            check=False, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
