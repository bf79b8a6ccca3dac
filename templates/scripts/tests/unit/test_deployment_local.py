"""The deployment scripts on the local backend: pre-deployment checks, export, deploy (a real scoring server per
deployment on 127.0.0.1), canary monitoring, rollback and promotion, against MLflow on sqlite in a temporary
folder. The model is a tiny scikit-learn model with the input schema of tests/data/smoke_test_data.json."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from common.paths import CODE_ROOT, model_file

SMOKE_DATA = model_file("tests/data/smoke_test_data.json")
NAME = "unit-deploy-model"


def _records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(SMOKE_DATA.read_text(encoding="utf-8"))["records"]
    return records


def _log_version(mlflow: Any, metrics: dict[str, float], tags: dict[str, str]) -> str:
    """Log and register one model version; returns its number."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.dummy import DummyRegressor

    frame = pd.DataFrame.from_records(_records())
    model = DummyRegressor().fit(frame, [float(n) for n in range(len(frame))])
    with mlflow.start_run() as run:
        mlflow.log_metrics(metrics)
        mlflow.sklearn.log_model(model, name="model", signature=infer_signature(frame, model.predict(frame)))
    version = mlflow.register_model(f"runs:/{run.info.run_id}/model", NAME)
    client = mlflow.MlflowClient()
    for key, value in tags.items():
        client.set_model_version_tag(NAME, version.version, key, value)
    return str(version.version)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory, pipeline: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Two good versions (1, 2) and one without metrics, tags or lineage checks passing (3)."""
    import mlflow

    work = tmp_path_factory.mktemp("deploy")
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{(work / 'mlflow.db').as_posix()}")
    patch.delenv("MLFLOW_RUN_ID", raising=False)
    patch.delenv("ENDPOINT_URL", raising=False)
    patch.delenv("ENDPOINT_IN_CLUSTER", raising=False)
    mlflow.set_tracking_uri(f"sqlite:///{(work / 'mlflow.db').as_posix()}")
    mlflow.set_registry_uri(f"sqlite:///{(work / 'mlflow.db').as_posix()}")
    # Artifacts under the temporary folder, not ./mlruns of the repository.
    mlflow.set_experiment(experiment_id=mlflow.create_experiment("unit-deploy",
                                                                 artifact_location=(work / "artifacts").as_uri()))
    gates = {metric: bound.get("min", bound.get("max")) for metric, bound in pipeline["quality_gates"].items()}
    tags = {str(key): str(value) for key, value in (pipeline["registry"].get("tags") or {}).items()}
    versions = [_log_version(mlflow, gates, tags), _log_version(mlflow, gates, tags), _log_version(mlflow, {}, {})]
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(NAME, "staging", versions[0])
    client.set_registered_model_alias(NAME, "broken", versions[2])
    files = {}
    for version in versions:
        files[version] = work / f"version-{version}.json"
        files[version].write_text(json.dumps({"version": version}), encoding="utf-8")
    yield {"work": work, "versions": versions, "files": files, "gates": gates}
    patch.undo()


@pytest.fixture(scope="module")
def common(registry: dict[str, Any]) -> list[str]:
    return ["--backend", "local", "--workdir", str(registry["work"])]


@pytest.fixture(scope="module")
def deployment(scripts: Callable[[str], Any]) -> Callable[[str], Any]:
    """The deployment scripts import their siblings (support, local_target) as top-level modules."""
    import sys

    folder = str(CODE_ROOT / "src" / "deployment")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return lambda name: scripts(f"deployment/{name}.py")


def test_pre_deployment_checks(deployment: Callable[[str], Any], common: list[str], registry: dict[str, Any],
                               capsys: pytest.CaptureFixture[str]) -> None:
    checks = deployment("pre_deployment_checks")
    config = ["--pipeline-config", str(model_file("config/pipeline.yaml")), "--model-name", NAME]
    assert checks.main([*config, "--alias", "staging", *common]) == 0
    assert checks.main([*config, "--alias", "broken", *common]) == 1
    errors = capsys.readouterr().err
    assert all(f"metric {metric} was not logged" in errors for metric in registry["gates"])
    assert checks.main([*config, "--alias", "absent", *common]) == 1
    assert "no version with alias 'absent'" in capsys.readouterr().err
    assert checks.gate_failures({"a": 0.5, "b": 2.0}, {"a": {"min": 0.6}, "b": {"max": 1.0}}) == [
        "a 0.5000 < min 0.6", "b 2.0000 > max 1.0"]


def test_export_model(deployment: Callable[[str], Any], common: list[str], tmp_path: Path) -> None:
    export = deployment("export_model")
    target, record = tmp_path / "model", tmp_path / "export.json"
    assert export.main(["--model-name", NAME, "--alias", "staging", "--output-dir", str(target),
                        "--output", str(record), *common]) == 0
    assert (target / "MLmodel").is_file()
    assert json.loads(record.read_text(encoding="utf-8"))["uri"] == f"models:/{NAME}/1"
    assert export.main(["--model-name", NAME, "--output-dir", str(target), *common]) == 1  # no alias, no file


def test_traffic_percentage_parsing(deployment: Callable[[str], Any]) -> None:
    support = deployment("support")
    assert support.percentage_of(None) == 100 and support.percentage_of("12.5") == 12
    for bad in ("abc", "101", "-1"):
        with pytest.raises(support.DeployError):
            support.percentage_of(bad)


def _served_by(url: str, count: int) -> dict[str, int]:
    """Which deployment answered each of `count` requests, by the router's azureml-model-deployment header."""
    import urllib.request

    seen: dict[str, int] = {}
    body = json.dumps({"records": _records()[:1]}).encode()
    for _ in range(count):
        request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310  # nosec B310
            name = reply.headers["azureml-model-deployment"]
        seen[name] = seen.get(name, 0) + 1
    return seen


def test_local_canary_monitor_rollback_and_promotion(deployment: Callable[[str], Any], common: list[str],
                                                      registry: dict[str, Any], tmp_path: Path) -> None:
    from serving.client import open_endpoint

    deploy, local_target = deployment("deploy"), deployment("local_target")
    work, files = registry["work"], registry["files"]
    endpoint = "unit-endpoint"
    base = ["--target", "aks", "--environment", "unit", "--model-name", NAME, "--endpoint-name", endpoint,
            *common]
    stable_file, canary_file = tmp_path / "stable.json", tmp_path / "canary.json"
    try:
        assert deploy.main([*base, "--version-file", str(files["1"]), "--output", str(stable_file)]) == 0
        first = json.loads(stable_file.read_text(encoding="utf-8"))
        assert first["first_release"] and first["traffic"] == {"stable": 100} and first["previous"] is None
        assert deploy.main([*base, "--version-file", str(files["2"]), "--deployment-name", "canary",
                            "--traffic-percentage", "10", "--output", str(canary_file)]) == 0
        info = json.loads(canary_file.read_text(encoding="utf-8"))
        assert info["target"] == "local" and info["traffic"] == {"stable": 90, "canary": 10}
        assert set(info["deployments"]) == {"stable", "canary"} and info["model"]["version"] == "2"
        assert not info["first_release"]
        # The endpoint's router splits by the weights: exactly one request in ten reaches the canary.
        assert _served_by(info["url"], 50) == {"stable": 45, "canary": 5}
        with open_endpoint(str(canary_file)) as opened:
            reply = opened.predict(_records())
        assert reply.ok and len(reply.body) == len(_records())

        monitor = deployment("monitor_deployment")
        report = tmp_path / "monitor.json"
        watch = ["--endpoint-file", str(canary_file), "--duration-seconds", "1", "--interval-seconds", "1",
                 "--max-error-rate", "0", "--max-latency-ms", "60000", "--output", str(report), *common]
        assert monitor.main([*watch, "--baseline-deployment", "stable"]) == 0
        result = json.loads(report.read_text(encoding="utf-8"))
        assert result["passed"] and result["candidate"]["requests"] == monitor.BURST and result["baseline"]

        rollback = deployment("rollback")
        release = ["--target", "aks", "--endpoint-name", endpoint, "--stable-deployment", "stable", *common]
        assert rollback.main([*release, "--candidate-deployment", "canary", "--endpoint-file",
                              str(canary_file)]) == 0
        assert local_target.recorded(str(work), endpoint, "canary") is None
        assert local_target.traffic(str(work), endpoint) == {"stable": 100}
        assert _served_by(info["url"], 5) == {"stable": 5}
        # The rolled-back canary no longer answers: the monitor fails it on errors.
        assert monitor.main(watch) == 1
        failed = json.loads(report.read_text(encoding="utf-8"))
        assert not failed["passed"] and failed["candidate"]["errors"] > 0

        # An in-place release records what it replaced; its rollback puts that back.
        assert deploy.main([*base, "--version-file", str(files["2"]), "--output", str(stable_file)]) == 0
        in_place = json.loads(stable_file.read_text(encoding="utf-8"))
        assert in_place["previous"]["version"] == "1" and not in_place["first_release"]
        assert rollback.main([*release, "--candidate-deployment", "stable", "--endpoint-file",
                              str(stable_file)]) == 0
        assert local_target.recorded(str(work), endpoint, "stable")["version"] == "1"
        # Without an endpoint file the release failed before deploying: nothing to undo.
        assert rollback.main([*release, "--candidate-deployment", "stable"]) == 0
        assert local_target.recorded(str(work), endpoint, "stable")["version"] == "1"

        assert deploy.main([*base, "--version-file", str(files["2"]), "--deployment-name", "canary",
                            "--traffic-percentage", "50", "--output", str(canary_file)]) == 0
        promote = deployment("promote")
        promotion = [*release, "--candidate-deployment", "canary", "--model-name", NAME, "--alias", "production"]
        assert promote.main(promotion) == 0
        stable = local_target.recorded(str(work), endpoint, "stable")
        assert stable is not None and stable["version"] == "2"
        assert local_target.recorded(str(work), endpoint, "canary") is None
        assert local_target.traffic(str(work), endpoint) == {"stable": 100}
        import mlflow

        assert str(mlflow.MlflowClient().get_model_version_by_alias(NAME, "production").version) == "2"
        # A version file naming another version than the one served is refused.
        assert promote.main([*promotion, "--version-file", str(files["1"])]) == 1
        assert local_target.main(["list", "--workdir", str(work)]) == 0
    finally:
        assert local_target.stop_all(str(work)) >= 0
    assert all(not item["deployments"] for item in local_target.status(str(work)).values())


def test_a_first_release_rolled_back_leaves_nothing_serving(deployment: Callable[[str], Any], common: list[str],
                                                             registry: dict[str, Any], tmp_path: Path) -> None:
    """A canary with nothing stable beside it takes all traffic, so the monitor watches it; its rollback
    removes it instead of sending traffic to a deployment that does not exist."""
    deploy, local_target, rollback = deployment("deploy"), deployment("local_target"), deployment("rollback")
    work, files = registry["work"], registry["files"]
    endpoint = "unit-first"
    out = tmp_path / "first.json"
    try:
        assert deploy.main(["--target", "aks", "--environment", "unit", "--model-name", NAME, "--endpoint-name",
                            endpoint, "--version-file", str(files["1"]), "--deployment-name", "canary",
                            "--traffic-percentage", "10", "--output", str(out), *common]) == 0
        info = json.loads(out.read_text(encoding="utf-8"))
        assert info["first_release"] and info["traffic"] == {"canary": 100} and info["deployment"] == "canary"
        assert rollback.main(["--target", "aks", "--endpoint-name", endpoint, "--stable-deployment", "stable",
                              "--candidate-deployment", "canary", "--endpoint-file", str(out), *common]) == 0
        assert local_target.status(str(work))[endpoint] == {"weights": {}, "deployments": {}}
    finally:
        local_target.stop_all(str(work))


def test_deploy_refuses_bad_input(deployment: Callable[[str], Any], common: list[str], tmp_path: Path) -> None:
    deploy = deployment("deploy")
    base = ["--target", "aks", "--environment", "unit", "--model-name", NAME, "--endpoint-name", "e",
            "--output", str(tmp_path / "e.json")]
    assert deploy.main([*base, *common]) == 1  # neither --alias nor --version-file
    assert deploy.main([*base, "--alias", "staging", "--backend", "azure", "--workdir", str(tmp_path),
                        "--version-file", str(tmp_path / "absent.json")]) != 0
    version = tmp_path / "version.json"
    version.write_text('{"version": "1"}', encoding="utf-8")
    azure = ["--backend", "azure", "--workdir", str(tmp_path), "--version-file", str(version)]
    assert deploy.main([*base, *azure]) == 1  # Azure targets deploy an image: --image is required
    assert not (tmp_path / "e.json").exists()
