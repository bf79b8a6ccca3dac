"""Champion and challenger are scored on the same held-out rows (issue 12 item 8).

Each training run logs its own test split (train.py, TEST_SPLIT_ARTIFACT); the champion's logged metric comes from
its own, older split. With --job-file, champion_challenger.py loads both models and scores them on the
challenger's split with the evaluation train.py uses (common/evaluation.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

SRC = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src"


@pytest.fixture()
def gate(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    for name in [name for name in sys.modules if name == "common" or name.startswith("common.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.syspath_prepend(str(SRC))
    spec = importlib.util.spec_from_file_location("split_champion", SRC / "validation" / "champion_challenger.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Split:
    """The held-out rows of one run: drop(columns=[target]) gives features, [target] the labels."""

    def __init__(self, run: str) -> None:
        self.run = run

    def drop(self, columns: list[str]) -> tuple[str, str]:
        return ("features", self.run)

    def __getitem__(self, column: str) -> tuple[str, str]:
        return ("labels", self.run)

    def __len__(self) -> int:
        return 100


def test_both_models_are_scored_on_the_challengers_split(gate: ModuleType, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scored: list[tuple[str, Any, Any]] = []
    # A model's accuracy depends on the data it is scored on: the champion scores 0.95 on its own old split and
    # 0.70 on the challenger's.
    accuracy = {("champion-run", "champion-run"): 0.95, ("champion-run", "challenger-run"): 0.70,
                ("challenger-run", "challenger-run"): 0.80}

    def evaluate(model: str, task: str, features: Any, labels: Any) -> dict[str, float]:
        scored.append((model, features, labels))
        return {"accuracy": accuracy[(model, features[1])]}

    monkeypatch.setitem(sys.modules, "common.evaluation", SimpleNamespace(evaluate=evaluate))
    monkeypatch.setattr(gate, "load_model", lambda run: run)
    monkeypatch.setattr(gate, "load_test_split", lambda run: Split(run))
    job = tmp_path / "training-job.json"
    job.write_text(json.dumps({"backend": "local", "run_id": "challenger-run", "job_name": "j"}), encoding="utf-8")
    args = argparse.Namespace(job_file=str(job), target="churned", task="classification", metric="accuracy")
    challenger, champion = gate.same_split_scores(args, "champion-run")
    assert (challenger, champion) == (0.80, 0.70)
    assert [(model, features[1], labels[1]) for model, features, labels in scored] == [
        ("challenger-run", "challenger-run", "challenger-run"), ("champion-run", "challenger-run", "challenger-run")]
    # The decision then compares models, not splits: the challenger wins here, where the logged metrics
    # (0.80 against the champion's 0.95 on its own split) would have refused it.
    assert gate.decide(challenger, champion, "higher", 0.0)["passed"] is True


def test_job_file_needs_target_and_task(gate: ModuleType, tmp_path: Path) -> None:
    args = argparse.Namespace(job_file=str(tmp_path / "job.json"), target=None, task=None, metric="accuracy")
    with pytest.raises(gate.ScriptError, match="needs --target and --task"):
        gate.same_split_scores(args, "champion-run")
