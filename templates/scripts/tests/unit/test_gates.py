"""Unit tests of the gate logic: metric bounds, champion/challenger, archiving choice, comparisons, model card."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest


def test_metric_bounds_name_each_failure(scripts: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vm = scripts("validation/validate_metrics.py")
    (tmp_path / "m.json").write_text(json.dumps({"accuracy": 0.9, "recall": 0.7, "log_loss": 0.4}), "utf-8")
    argv = ["--metrics-file", str(tmp_path / "m.json"), "--junit-output", str(tmp_path / "j.xml"),
            "--min", "accuracy=0.85", "--min", "recall=0.8", "--max", "log_loss=0.3", "--min", "f1=0.5"]
    assert vm.main(argv) == 1
    err = capsys.readouterr().err
    assert "f1, log_loss, recall" in err
    assert "accuracy" not in err
    assert vm.main(argv[:4] + ["--min", "accuracy=0.85"]) == 0
    assert vm.main(argv[:4]) == 2  # no gates at all is a usage error


@pytest.mark.parametrize(("challenger", "champion", "direction", "gain", "passed"), [
    (0.90, None, "higher", 0.0, True),
    (0.90, 0.88, "higher", 0.0, True),
    (0.90, 0.88, "higher", 0.05, False),
    (0.30, 0.35, "lower", 0.0, True),
    (0.40, 0.35, "lower", 0.0, False),
    (0.87, 0.88, "higher", -0.02, True),
])
def test_champion_challenger_decision(scripts: Any, challenger: float, champion: float | None, direction: str,
                                      gain: float, passed: bool) -> None:
    cc = scripts("validation/champion_challenger.py")
    assert cc.decide(challenger, champion, direction, gain)["passed"] is passed


def test_archive_keeps_newest_and_aliased(scripts: Any) -> None:
    av = scripts("registration/archive_versions.py")
    versions = [SimpleNamespace(version=str(n), tags={"archived": "true"} if n == 2 else {}) for n in range(1, 9)]
    chosen = [v.version for v in av.to_archive(versions, aliased={"3"}, keep=3)]
    assert chosen == ["1", "4", "5"]  # 6-8 newest, 3 aliased, 2 already archived


def test_compare_lists_shared_metrics(scripts: Any) -> None:
    cm = scripts("registration/compare_models.py")
    rows = cm.compare({"accuracy": 0.8, "f1": 0.7}, {"accuracy": 0.9, "r2": 1.0}, [])
    assert rows == [{"metric": "accuracy", "a": 0.8, "b": 0.9, "difference": pytest.approx(0.1)}]
    assert cm.compare({"a": 1.0}, {}, ["a"])[0]["difference"] is None


def test_model_card_marks_gates(scripts: Any, pipeline: dict[str, Any]) -> None:
    card = scripts("documentation/generate_model_card.py")
    gates = pipeline["quality_gates"]
    metric = next(iter(gates))
    bound = gates[metric]
    failing = bound["min"] - 0.1 if "min" in bound else bound["max"] + 1
    text = card.render("m", pipeline, {metric: failing}, None, None, None)
    assert f"| {metric} |" in text and "FAIL" in text
    assert "No explainability report" in text


def test_deployment_record_lists_endpoint_and_lineage(scripts: Any) -> None:
    docs = scripts("documentation/update_deployment_docs.py")
    endpoint = {"target": "aks", "url": "http://x/predict", "traffic": {"blue": 90, "green": 10}}
    version = {"version": "3", "model_uri": "models:/m/3", "tags": {"commit": "abc"}}
    text = docs.render("m", "staging", endpoint, version)
    assert "| Scoring URL | http://x/predict |" in text
    assert "blue: 90%, green: 10%" in text and "| Commit | abc |" in text and "| Model version | 3 |" in text


class _Registry:
    """A registry that refuses alias calls, as some hosted MLflow registries do."""

    def __init__(self) -> None:
        self.tags: dict[str, dict[str, str]] = {"1": {}, "2": {}}

    def _refuse(self, *args: Any) -> None:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import ENDPOINT_NOT_FOUND

        raise MlflowException("aliases are not supported", error_code=ENDPOINT_NOT_FOUND)

    set_registered_model_alias = _refuse
    get_model_version_by_alias = _refuse

    def search_model_versions(self, query: str) -> list[Any]:
        return [SimpleNamespace(version=v, tags=dict(t)) for v, t in self.tags.items()]

    def set_model_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        self.tags[str(version)][key] = value

    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        del self.tags[str(version)][key]

    def get_registered_model(self, name: str) -> Any:
        return SimpleNamespace(aliases={})


def test_alias_falls_back_to_a_version_tag(scripts: Any) -> None:
    pytest.importorskip("mlflow")
    from common import registry

    fake = _Registry()
    assert registry.set_alias(fake, "m", "production", "1") is False
    assert registry.set_alias(fake, "m", "production", "2") is False
    assert registry.version_by_alias(fake, "m", "production").version == "2"
    assert fake.tags["1"] == {}
    assert registry.version_by_alias(fake, "m", "staging") is None
    assert registry.aliased_versions(fake, "m") == {"2"}


def test_deployment_record_main_reads_endpoint_and_version_files(scripts: Any, tmp_path: Path) -> None:
    docs = scripts("documentation/update_deployment_docs.py")
    (tmp_path / "endpoint.json").write_text(json.dumps({"target": "local", "url": "http://127.0.0.1:1/predict"}),
                                            "utf-8")
    (tmp_path / "version.json").write_text(json.dumps({"version": "4", "tags": {"branch": "main"}}), "utf-8")
    assert docs.main(["--model-name", "m", "--environment", "dev", "--endpoint-file", str(tmp_path / "endpoint.json"),
                      "--version-file", str(tmp_path / "version.json"), "--output", str(tmp_path / "d.md")]) == 0
    text = (tmp_path / "d.md").read_text(encoding="utf-8")
    assert "# Deployment: m in dev" in text and "| Branch | main |" in text
