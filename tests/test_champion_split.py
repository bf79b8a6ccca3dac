"""Champion and challenger are scored on the same held-out rows (issue 12 item 8).

Each training run logs its own test split (train.py, TEST_SPLIT_ARTIFACT); the champion's logged metric comes from
its own, older split. With --job-file, champion_challenger.py loads both models and scores them on the
challenger's split with the evaluation train.py uses (common/evaluation.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tests.template_scripts import load_script


@pytest.fixture()
def gate() -> ModuleType:
    return load_script("validation/champion_challenger.py")


class Split:
    """The held-out rows of one run: drop(columns=[target]) gives features, [target] the labels."""

    def __init__(self, run: str) -> None:
        self.run = run

    def drop(self, columns: list[str]) -> tuple[str, str, tuple[str, ...]]:
        return ("features", self.run, tuple(columns))

    def __getitem__(self, column: str) -> tuple[str, str, str]:
        return ("labels", self.run, column)

    def __len__(self) -> int:
        return 100


def test_both_models_are_scored_on_the_challengers_split(gate: ModuleType, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scored: list[tuple[str, str, Any, Any]] = []
    # A model's accuracy depends on the data it is scored on: the champion scores 0.95 on its own old split and
    # 0.70 on the challenger's.
    accuracy = {("champion-run", "champion-run"): 0.95, ("champion-run", "challenger-run"): 0.70,
                ("challenger-run", "challenger-run"): 0.80}

    def evaluate(model: str, task: str, features: Any, labels: Any) -> dict[str, float]:
        scored.append((model, task, features, labels))
        return {"accuracy": accuracy[(model, features[1])]}

    monkeypatch.setitem(sys.modules, "common.evaluation", SimpleNamespace(evaluate=evaluate))
    monkeypatch.setattr(gate, "load_model", lambda run: run)
    monkeypatch.setattr(gate, "load_test_split", lambda run: Split(run))
    job = tmp_path / "training-job.json"
    job.write_text(json.dumps({"backend": "local", "run_id": "challenger-run", "job_name": "j"}), encoding="utf-8")
    args = argparse.Namespace(job_file=str(job), target="churned", task="classification", metric="accuracy")
    challenger, champion = gate.same_split_scores(args, "champion-run")
    assert (challenger, champion) == (0.80, 0.70)
    # Both scored as the run's task, on the challenger's features without the label column, against that column.
    on_the_challengers_rows = (("features", "challenger-run", ("churned",)), ("labels", "challenger-run", "churned"))
    assert scored == [("challenger-run", "classification", *on_the_challengers_rows),
                      ("champion-run", "classification", *on_the_challengers_rows)]
    # The decision then compares models, not splits: the challenger wins here, where the logged metrics
    # (0.80 against the champion's 0.95 on its own split) would have refused it.
    assert gate.decide(challenger, champion, "higher", 0.0)["passed"] is True


def test_job_file_needs_target_and_task(gate: ModuleType, tmp_path: Path) -> None:
    args = argparse.Namespace(job_file=str(tmp_path / "job.json"), target=None, task=None, metric="accuracy")
    with pytest.raises(gate.ScriptError, match="needs --target and --task"):
        gate.same_split_scores(args, "champion-run")


def _scoring(monkeypatch: pytest.MonkeyPatch, gate: ModuleType, scores: dict[str, dict[str, float]]) -> None:
    monkeypatch.setitem(sys.modules, "common.evaluation",
                        SimpleNamespace(evaluate=lambda model, task, features, labels: scores[model]))
    monkeypatch.setattr(gate, "load_model", lambda run: run)
    monkeypatch.setattr(gate, "load_test_split", lambda run: Split(run))


def _job(tmp_path: Path) -> Path:
    job = tmp_path / "training-job.json"
    job.write_text(json.dumps({"backend": "local", "run_id": "challenger-run"}), encoding="utf-8")
    return job


def test_a_metric_the_challenger_lacks_on_its_split_is_an_error(gate: ModuleType, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _scoring(monkeypatch, gate, {"challenger-run": {"rmse": 1.0}, "champion-run": {"auc": 0.7}})
    args = argparse.Namespace(job_file=str(_job(tmp_path)), target="y", task="classification", metric="auc")
    with pytest.raises(gate.ScriptError, match=r"^the challenger has no 'auc' on its test split$"):
        gate.same_split_scores(args, "champion-run")


def test_a_champion_without_the_metric_counts_as_absent(gate: ModuleType, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _scoring(monkeypatch, gate, {"challenger-run": {"auc": 0.8}, "champion-run": {"rmse": 2.0}})
    args = argparse.Namespace(job_file=str(_job(tmp_path)), target="y", task="classification", metric="auc")
    assert gate.same_split_scores(args, "champion-run") == (0.8, None)
    assert capsys.readouterr().out == "both models scored on the challenger's 100 held-out rows\n"


@pytest.mark.parametrize(("target", "task"), [("y", None), (None, "regression")])
def test_job_file_needs_both_target_and_task(gate: ModuleType, tmp_path: Path, target: str | None,
                                             task: str | None) -> None:
    args = argparse.Namespace(job_file=str(tmp_path / "job.json"), target=target, task=task, metric="accuracy")
    with pytest.raises(gate.ScriptError, match=r"^--job-file needs --target and --task$"):
        gate.same_split_scores(args, "champion-run")


def test_main_with_a_job_file_decides_on_the_shared_split(gate: ModuleType, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The logged metrics say the challenger loses (0.80 against 0.95); on the same rows it wins (0.80 > 0.70)."""
    _scoring(monkeypatch, gate, {"challenger-run": {"auc": 0.80}, "champion-run": {"auc": 0.70}})
    monkeypatch.setattr(gate, "configure_mlflow", lambda args: None)
    monkeypatch.setattr(gate, "client", lambda: "client")
    monkeypatch.setattr(gate, "version_by_alias",
                        lambda client, name, alias: SimpleNamespace(version=3, run_id="champion-run"))
    monkeypatch.setattr(gate, "run_metrics", lambda client, run: pytest.fail("logged metrics were compared"))
    (tmp_path / "m.json").write_text('{"auc": 0.80}', encoding="utf-8")
    argv = ["--metrics-file", str(tmp_path / "m.json"), "--model-name", "churn", "--alias", "production",
            "--metric", "auc", "--direction", "higher", "--junit-output", str(tmp_path / "j.xml"),
            "--output", str(tmp_path / "r.json"), "--job-file", str(_job(tmp_path)), "--target", "y",
            "--task", "classification"]
    assert gate.main(argv) == 0
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert (result["challenger"], result["champion"], result["champion_version"]) == (0.80, 0.70, "3")
    with pytest.raises(SystemExit) as refused:  # an unknown task is a usage error, before anything is scored
        gate.main([*argv[:-2], "--task", "sideways"])
    assert refused.value.code == 2
