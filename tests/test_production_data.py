"""Production data for Azure ML model monitoring (issue 12 item 9): the scoring app logs each batch's inputs and
predictions to the deployment's data collector, and every Azure ML deployment is created with one.

The app side runs the real azureml-ai-monitoring 1.0.0 (the image's pin) against a fake collector sidecar that
behaves as the SDK's sender expects it to (azureml/ai/monitoring/worker/sender.py: `POST /modeldata/log` on
AZUREML_MDC_HOST:AZUREML_MDC_PORT, one JSON payload per DataFrame, the collection in the `ce-type` header
`azureml.inference.<collection>`, the correlation id in `ce-x-request-id`; the collections come from the JSON file
named by AZUREML_MDC_CONFIG_PATH, config/config.py's loadConfig). The deployment side checks the azure-ai-ml
entities (DataCollector, DeploymentCollection with `enabled="true"`, as the SDK's own docstrings spell it)."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.template_scripts import load_script

app = load_script("serving/app.py")
collection = load_script("serving/collection.py")


class Sidecar:
    """The data collector Azure ML runs beside a deployment, as far as the SDK talks to it."""

    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict[str, str], Any]] = []
        received = self.payloads

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, dict(self.headers), json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sidecar]:
    from azureml.ai.monitoring.init import teardown

    fake = Sidecar()
    config = tmp_path / "mdc-config.json"
    config.write_text(json.dumps({"collections": {"model_inputs": {"enabled": True},
                                                  "model_outputs": {"enabled": True}}}), encoding="utf-8")
    monkeypatch.setenv("AZUREML_MDC_CONFIG_PATH", str(config))
    monkeypatch.setenv("AZUREML_MDC_HOST", "127.0.0.1")
    monkeypatch.setenv("AZUREML_MDC_PORT", str(fake.port))
    yield fake
    teardown(wait_for_flush=False)  # the SDK keeps its configuration and worker in module globals
    fake.close()


class Doubling:
    def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        return [2 * record["x"] for record in records]


def _predict(scoring: Any, records: list[dict[str, Any]]) -> tuple[str, Any]:
    body = json.dumps({"records": records}).encode("utf-8")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/predict", "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body)}
    answer: list[str] = []
    data = b"".join(scoring(environ, lambda status, headers: answer.append(status)))
    return answer[0], json.loads(data)


def _flush(sidecar: Sidecar, count: int) -> None:
    from azureml.ai.monitoring.init import teardown

    teardown(wait_for_flush=True)  # the SDK sends from a worker thread: wait for its queue to drain
    deadline = time.monotonic() + 30
    while len(sidecar.payloads) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_scored_batch_reaches_the_collector_as_inputs_then_correlated_outputs(sidecar: Sidecar) -> None:
    production = collection.production_data()
    assert production is not None
    scoring = app.ScoringApp(Doubling(), production_data=production)
    status, answer = _predict(scoring, [{"x": 1, "city": "Oslo"}, {"x": 4, "city": "Lima"}])
    assert (status, answer) == ("200 OK", [{"prediction": 2}, {"prediction": 8}])
    _flush(sidecar, 2)
    kinds = {headers["ce-type"]: (path, headers, body) for path, headers, body in sidecar.payloads}
    assert sorted(kinds) == ["azureml.inference.model_inputs", "azureml.inference.model_outputs"]
    (in_path, in_headers, inputs), (_, out_headers, outputs) = (kinds["azureml.inference.model_inputs"],
                                                                 kinds["azureml.inference.model_outputs"])
    assert in_path == "/modeldata/log"
    assert inputs == [{"x": 1, "city": "Oslo"}, {"x": 4, "city": "Lima"}]  # the records as scored, one row each
    assert outputs == [{"prediction": 2}, {"prediction": 8}]
    assert in_headers["ce-x-request-id"] == out_headers["ce-x-request-id"]  # joinable by the monitor


def test_nothing_is_collected_or_imported_without_a_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AZUREML_MDC_CONFIG_PATH", "AZUREML_MDC_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    assert collection.production_data() is None
    assert collection.production_data({"AZUREML_MDC_ENABLED": "false"}) is None
    assert collection.configured({"AZUREML_MDC_ENABLED": "TRUE"}) is True
    assert collection.configured({"AZUREML_MDC_CONFIG_PATH": "/var/mdc/config.json"}) is True
    assert collection.configured({"AZUREML_MDC_CONFIG_PATH": ""}) is False


def test_a_collector_failure_never_fails_the_prediction(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def __init__(self, name: str, on_error: Any) -> None:
            self.on_error = on_error

        def collect(self, data: Any, correlation_context: Any = None) -> Any:
            raise ConnectionError("collector unreachable")

    scoring = app.ScoringApp(Doubling(), production_data=collection.ProductionData(Broken))
    for _ in range(3):
        assert _predict(scoring, [{"x": 1}]) == ("200 OK", [{"prediction": 2}])
    warnings = [r.getMessage() for r in caplog.records if "production data not collected" in r.getMessage()]
    assert warnings == ["production data not collected (1 so far): collector unreachable"]  # once, not per request


def test_the_sdk_reporting_a_disabled_collection_is_logged_not_raised(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """A deployment whose collector has only model_inputs on: the SDK calls on_error for model_outputs."""
    from azureml.ai.monitoring.init import teardown

    config = tmp_path / "mdc-config.json"
    config.write_text(json.dumps({"collections": {"model_inputs": {"enabled": True}}}), encoding="utf-8")
    monkeypatch.setenv("AZUREML_MDC_CONFIG_PATH", str(config))
    monkeypatch.setenv("AZUREML_MDC_PORT", "9")  # nothing listens: sends fail in the worker, never in the request
    try:
        production = collection.production_data()
        assert production is not None
        scoring = app.ScoringApp(Doubling(), production_data=production)
        assert _predict(scoring, [{"x": 3}]) == ("200 OK", [{"prediction": 6}])
    finally:
        teardown(wait_for_flush=False)
    assert any("collection model_outputs is not enabled" in r.getMessage() for r in caplog.records)


# --- the deployment side --------------------------------------------------------------------------------------

load_script("deployment/promote.py")  # a deployment script puts src/deployment/ on the path, for `support`
azureml_target = load_script("deployment/azureml_target.py")


class _Entity:
    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


def test_every_collection_the_app_logs_to_is_enabled_on_the_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    from types import ModuleType

    entities = ModuleType("azure.ai.ml.entities")
    entities.DataCollector = _Entity  # type: ignore[attr-defined]
    entities.DeploymentCollection = _Entity  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.ai.ml.entities", entities)
    collector = azureml_target.data_collector()
    assert sorted(collector.collections) == ["model_inputs", "model_outputs"] == sorted(collection.COLLECTIONS)
    assert all(item.enabled == "true" for item in collector.collections.values())
    deployment = _Entity(data_collector=collector)
    assert azureml_target.collects(deployment) is True
    # As the service returns them (DeploymentCollection._from_rest_object: "true"/"false").
    assert azureml_target.collects(_Entity(data_collector=_Entity(collections={
        "model_inputs": _Entity(enabled="true"), "model_outputs": _Entity(enabled="false")}))) is False
    assert azureml_target.collects(_Entity(data_collector=_Entity(collections={
        "model_inputs": _Entity(enabled="true")}))) is False
    assert azureml_target.collects(_Entity(data_collector=None)) is False
    assert azureml_target.collects(_Entity()) is False
