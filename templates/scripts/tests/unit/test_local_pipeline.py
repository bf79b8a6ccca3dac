"""The training stages end to end on the local backend (MLflow on sqlite in a temporary folder): data
validation, training in a subprocess, gates, registration with lineage, aliases, archiving, model card."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.paths import model_file


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, scripts: Any, pipeline: dict[str, Any]) -> Any:
    work = tmp_path_factory.mktemp("work")
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    common = ["--backend", "local", "--workdir", str(work)]

    def stage(script: str, *args: str) -> int:
        return int(scripts(script).main([*args, *common]))

    fairness = pipeline.get("fairness") or {}
    table = scripts("data/make_sample_data.py").generate(pipeline["model"]["task"], pipeline["data"]["target"],
                                                          fairness.get("sensitive_features") or [], rows=1500)
    table.to_csv(work / "data.csv", index=False)
    stage.work = work  # type: ignore[attr-defined]
    yield stage
    monkeypatch.undo()


def test_training_stages(run: Any, pipeline: dict[str, Any]) -> None:
    work: Path = run.work
    data, model = pipeline["data"], pipeline["model"]
    name = f"{model['name']}-unit"
    job = str(work / "job.json")
    assert run("data_validation/validate_data.py", "--data-path", str(work / "data.csv"), "--expectations",
               str(model_file(data["expectations"])), "--junit-output", str(work / "data.xml")) == 0
    for attempt in (1, 2):  # two versions, so promotion, comparison and archiving have something to do
        assert run("training/submit_training.py", "--experiment", "unit", "--data-path", str(work / "data.csv"),
                   "--target", data["target"], "--task", model["task"], "--config",
                   str(model_file(pipeline["training"]["config"])), "--job-file", job,
                   "--tag", f"attempt={attempt}") == 0
        assert run("training/wait_for_completion.py", "--job-file", job, "--timeout-minutes", "5") == 0
        assert run("training/get_metrics.py", "--job-file", job, "--output", str(work / "metrics.json")) == 0
        assert run("validation/champion_challenger.py", "--metrics-file", str(work / "metrics.json"),
                   "--model-name", name, "--alias", "production", "--metric", pipeline["champion_challenger"]["metric"],
                   "--direction", pipeline["champion_challenger"]["direction"], "--min-improvement", "-1",
                   "--junit-output", str(work / "cc.xml")) == 0
        assert run("registration/register_model.py", "--job-file", job, "--model-name", name, "--metrics-file",
                   str(work / "metrics.json"), "--tag", "build_id=42", "--tag", "commit=abc",
                   "--output", str(work / "version.json")) == 0
        assert run("registration/promote_model.py", "--model-name", name, "--version-file",
                   str(work / "version.json"), "--alias", "production") == 0
    version = json.loads((work / "version.json").read_text(encoding="utf-8"))
    assert version["version"] == "2" and version["tags"]["build_id"] == "42"
    assert run("registration/compare_models.py", "--model-name", name, "--version-a", "1", "--version-b", "2",
               "--output", str(work / "compare.json")) == 0
    assert run("registration/promote_model.py", "--model-name", name, "--from-alias", "production",
               "--alias", "staging") == 0
    assert run("registration/archive_versions.py", "--model-name", name, "--keep", "1", "--dry-run") == 0
    assert run("registration/archive_versions.py", "--model-name", name, "--keep", "1") == 0
    explain = str(work / "explain.json")
    assert run("validation/explainability_analysis.py", "--job-file", job, "--target", data["target"],
               "--method", "shap", "--top-features", "3", "--output", explain) == 0
    assert len(json.loads(Path(explain).read_text(encoding="utf-8"))["top_features"]) == 3
    fairness_file = work / "fairness.json"
    if pipeline.get("fairness"):
        code = run("validation/fairness_assessment.py", "--job-file", job, "--target", data["target"],
                   *[f"--sensitive-feature={f}" for f in pipeline["fairness"]["sensitive_features"]],
                   "--metric", pipeline["fairness"]["metric"], "--threshold", "0",
                   "--junit-output", str(work / "fair.xml"), "--output", str(fairness_file))
        assert code == 0
    assert run("documentation/generate_model_card.py", "--model-name", name, "--version-file",
               str(work / "version.json"), "--metrics-file", str(work / "metrics.json"), "--fairness-file",
               str(fairness_file), "--explainability-file", explain, "--pipeline-config",
               str(model_file("config/pipeline.yaml")), "--output", str(work / "card.md")) == 0
    card = (work / "card.md").read_text(encoding="utf-8")
    assert f"# Model card: {name} version 2" in card and "build_id=42" in card


def test_failed_metric_gate_exit_code(run: Any, tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text('{"accuracy": 0.5}', encoding="utf-8")
    assert run("validation/validate_metrics.py", "--metrics-file", str(tmp_path / "m.json"), "--min",
               "accuracy=0.999", "--junit-output", str(tmp_path / "j.xml")) == 1


def test_monitoring_config_local(run: Any) -> None:
    assert run("monitoring/configure_monitoring.py", "--endpoint-name", "ep", "--model-name", "m", "--method",
               "psi", "--threshold", "0.2", "--schedule", "0 6 * * *", "--reference-data", "azureml:train:1") == 0
    assert (run.work / "monitoring" / "ep-drift.json").exists()
