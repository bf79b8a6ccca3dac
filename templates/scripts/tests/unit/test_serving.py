"""Unit tests of the scoring app (src/serving/app.py) and its client: routes, limits, error mapping, the MLflow
model loader, and the client against the app served on 127.0.0.1."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from serving import app as scoring
from serving import client, healthcheck


class StubModel:
    """Predicts the number of fields of each record; raises what a real model raises for bad input."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error

    def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        if self.error is not None:
            raise self.error
        return [len(record) for record in records]


def call(application: scoring.ScoringApp, method: str, path: str, body: bytes | None = None,
         content_type: str = "application/json", length: str | None = None) -> tuple[int, dict[str, str], Any]:
    """One WSGI request: (status code, headers, JSON body)."""
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_TYPE": content_type,
                               "wsgi.input": io.BytesIO(body or b"")}
    environ["CONTENT_LENGTH"] = length if length is not None else str(len(body or b""))
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = status, dict(headers)

    data = b"".join(application(environ, start_response))
    assert answer["headers"]["Content-Length"] == str(len(data))
    return int(answer["status"].split()[0]), answer["headers"], json.loads(data)


def predict_body(records: Any) -> bytes:
    return json.dumps({"records": records}).encode()


def test_health_reports_the_model_and_503_without_one() -> None:
    status, headers, body = call(scoring.ScoringApp(StubModel(), model_info={"model_version": "3"}), "GET", "/health")
    assert (status, body) == (200, {"status": "ok", "model_version": "3"})
    assert headers["Content-Type"] == "application/json" and headers["Cache-Control"] == "no-store"
    status, _, body = call(scoring.ScoringApp(None), "GET", "/health")
    assert status == 503 and body["error"] == "model not loaded"


def test_predict_returns_one_prediction_per_record_in_order() -> None:
    status, _, body = call(scoring.ScoringApp(StubModel()), "POST", "/predict",
                           predict_body([{"a": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3}]))
    assert (status, body) == (200, [{"prediction": 1}, {"prediction": 2}, {"prediction": 3}])


def test_the_guides_endpoint_check_holds_for_either_request_form() -> None:
    """The seed guide's test_endpoint_prediction: len(response.json()) == number of records sent."""
    records = [{"a": 1}, {"a": 1, "b": 2}]
    for body in (predict_body(records), json.dumps(records).encode()):
        status, _, answer = call(scoring.ScoringApp(StubModel()), "POST", "/predict", body)
        assert status == 200 and len(answer) == len(records)
        assert client.predictions_of(answer, len(records)) == [1, 2]


@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("POST", "/health", 405, "GET"),
    ("GET", "/predict", 405, "POST"),
    ("GET", "/nowhere", 404, None),
])
def test_routes_and_methods(method: str, path: str, status: int, allow: str | None) -> None:
    got, headers, body = call(scoring.ScoringApp(StubModel()), method, path)
    assert got == status and "error" in body
    assert headers.get("Allow") == allow


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not valid JSON"),
    (b"\xff\xfe", 400, "not valid JSON"),
    (b"[1, 2]", 400, "records[0]"),
    (b'{"rows": []}', 400, "JSON list of record objects"),
    (b"7", 400, "JSON list of record objects"),
    (predict_body([]), 400, "non-empty list"),
    (predict_body({"a": 1}), 400, "JSON list of record objects"),
    (predict_body([{"a": 1}, 7]), 400, "records[1]"),
    (predict_body([{}]), 400, "records[0]"),
    (predict_body([{"a": 1}] * 3), 413, "at most 2 records"),
])
def test_malformed_bodies_are_client_errors(body: bytes, status: int, message: str) -> None:
    got, _, answer = call(scoring.ScoringApp(StubModel(), max_records=2), "POST", "/predict", body)
    assert got == status and message in answer["error"]


@pytest.mark.parametrize(("content_type", "length", "status"), [
    ("text/plain", None, 415),
    ("application/json", "abc", 400),
    ("application/json", "0", 411),
    ("application/json", "100000", 413),
])
def test_body_limits(content_type: str, length: str | None, status: int) -> None:
    got, _, _ = call(scoring.ScoringApp(StubModel(), max_body_bytes=1000), "POST", "/predict",
                     predict_body([{"a": 1}]), content_type=content_type, length=length)
    assert got == status


def test_json_content_type_with_parameters_is_accepted() -> None:
    got, _, _ = call(scoring.ScoringApp(StubModel()), "POST", "/predict", predict_body([{"a": 1}]),
                     content_type="application/json; charset=utf-8")
    assert got == 200


@pytest.mark.parametrize(("body", "message"), [
    (b'{"records": [{"a": ' + b"9" * 400 + b"}]}", "beyond 64 bits"),
    (b'{"records": [{"a": ' + b"9" * 5000 + b"}]}", "too large"),
    (b'{"records": [{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}", "nested too deeply"),
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (b'{"records": [{"a": {"b": 1}}]}', "nested object or list"),
    (b'{"records": [{"a": [1]}]}', "nested object or list"),
])
def test_hostile_values_are_client_errors_that_do_not_echo_the_input(body: bytes, message: str) -> None:
    got, _, answer = call(scoring.ScoringApp(StubModel(), max_body_bytes=1_000_000), "POST", "/predict", body)
    assert got == 400 and message in answer["error"], answer
    assert "999" not in answer["error"] and "[[" not in answer["error"]


def test_invalid_json_is_located_not_echoed() -> None:
    got, _, answer = call(scoring.ScoringApp(StubModel()), "POST", "/predict", b'{"records": [{"ssn": 123-45}]}')
    assert got == 400 and "line 1 column" in answer["error"] and "123" not in answer["error"]


def test_model_errors_map_to_400_for_bad_input_and_500_otherwise() -> None:
    records = predict_body([{"a": 1}])
    schema_error = ValueError("Failed to enforce schema of data '{'a': 1}' with schema '['b': double (required)]'")
    status, _, body = call(scoring.ScoringApp(StubModel(schema_error)), "POST", "/predict", records)
    assert status == 400 and "do not match the model's input" in body["error"]
    assert "schema" not in body["error"] and "'a'" not in body["error"] and "double" not in body["error"]
    status, _, body = call(scoring.ScoringApp(StubModel(OverflowError("int too big"))), "POST", "/predict", records)
    assert status == 400
    status, _, body = call(scoring.ScoringApp(StubModel(RuntimeError("secret detail"))), "POST", "/predict", records)
    assert status == 500 and "secret detail" not in body["error"]
    status, _, _ = call(scoring.ScoringApp(None), "POST", "/predict", records)
    assert status == 503


def test_jsonable_converts_numpy_and_non_finite_values() -> None:
    import numpy as np

    assert scoring._jsonable(np.array([1.5, np.nan, np.inf])) == [1.5, None, None]
    assert scoring._jsonable({1: np.int64(4), "b": (np.float32(0.5),)}) == {"1": 4, "b": [0.5]}


def test_model_uri_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MODEL_URI", raising=False)
    monkeypatch.delenv("AZUREML_MODEL_DIR", raising=False)
    with pytest.raises(SystemExit, match="no model"):
        scoring.resolve_model_uri()
    assert scoring.resolve_model_uri("models:/m/1") == "models:/m/1"
    monkeypatch.setenv("MODEL_URI", "models:/m@production")
    assert scoring.resolve_model_uri() == "models:/m@production"
    monkeypatch.delenv("MODEL_URI")
    nested = tmp_path / "azureml" / "model" / "1"
    nested.mkdir(parents=True)
    (nested / "MLmodel").write_text("flavors: {}\n", encoding="utf-8")
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(tmp_path / "azureml"))
    assert scoring.resolve_model_uri() == str(nested)
    assert scoring.find_model_dir(str(tmp_path / "azureml" / "model" / "1" / "absent")) is None


@pytest.fixture(scope="module")
def mlflow_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real MLflow scikit-learn model directory with an input schema, as the serving image bakes in."""
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    frame = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [1.0, 0.0, 1.0, 0.0]})
    labels = [0, 0, 1, 1]
    model = LogisticRegression().fit(frame, labels)
    path = tmp_path_factory.mktemp("model") / "model"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(frame, model.predict(frame)))
    return str(path)


def test_create_app_serves_an_mlflow_model(mlflow_model: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_VERSION", "7")
    monkeypatch.setenv("MAX_RECORDS", "5")
    application = scoring.create_app(mlflow_model)
    assert application.max_records == 5
    status, _, body = call(application, "GET", "/health")
    assert status == 200 and body["model_version"] == "7" and body["model_uri"] == mlflow_model
    status, _, body = call(application, "POST", "/predict", predict_body([{"x": 0.0, "y": 1.0}, {"x": 3.0, "y": 0.0}]))
    assert status == 200 and body == [{"prediction": 0}, {"prediction": 1}]
    # A record missing a column the signature requires is the caller's error.
    status, _, body = call(application, "POST", "/predict", predict_body([{"x": 0.0}]))
    assert status == 400 and "input" in body["error"]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served() -> Iterator[str]:
    """The app with the stub model on a free port of 127.0.0.1; yields the base URL."""
    server = make_server("127.0.0.1", 0, scoring.ScoringApp(StubModel()), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_client_talks_to_the_app_over_http(served: str) -> None:
    endpoint = client.from_url(f"{served}/predict/")
    assert endpoint.url == f"{served}/predict" and endpoint.health_url == f"{served}/health"
    health = endpoint.health()
    assert health is not None and health.ok and health.body["status"] == "ok"
    reply = endpoint.predict([{"a": 1, "b": 2}])
    assert reply.ok and reply.body == [{"prediction": 2}] and reply.latency_ms >= 0
    refused = endpoint.call("GET", f"{served}/predict")
    assert refused.status == 405 and not refused.ok


def test_healthcheck_exit_codes(served: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", served.rsplit(":", 1)[1])
    assert healthcheck.main() == 0
    monkeypatch.setenv("PORT", "1")  # nothing listens on port 1
    assert healthcheck.main() == 1


def test_client_reports_unreachable_endpoints_and_rejects_non_http_urls() -> None:
    endpoint = client.Endpoint("http://127.0.0.1:1/predict")
    reply = endpoint.predict([{"a": 1}], timeout=2)
    assert reply.status == 0 and reply.error and not reply.ok
    assert endpoint.health() is None
    with pytest.raises(ValueError, match="not an http"):
        endpoint.call("GET", "file:///etc/passwd")


def test_client_auth_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_KEY", raising=False)
    with pytest.raises(RuntimeError, match="ENDPOINT_KEY"):
        client.Endpoint("http://x/predict", auth="key")._auth_headers()
    monkeypatch.setenv("ENDPOINT_KEY", "k")
    assert client.Endpoint("http://x/predict", auth="key")._auth_headers() == {"Authorization": "Bearer k"}
    monkeypatch.setenv("ENDPOINT_TOKEN", "t")
    assert client.Endpoint("http://x/predict", auth="aad")._auth_headers() == {"Authorization": "Bearer t"}
    assert client.Endpoint("http://x/predict")._auth_headers() == {}
    monkeypatch.delenv("ENDPOINT_TOKEN")
    monkeypatch.setattr(client.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="Entra ID token"):
        client.Endpoint("http://x/predict", auth="aad")._auth_headers()


def test_deployment_routing() -> None:
    info = {"target": "aks", "url": "http://x/predict",
            "deployments": {"green": {"url": "http://g/predict", "health_url": "http://g/health"}}}
    endpoint = client.from_info(info)
    assert endpoint.for_deployment(None) is endpoint
    assert endpoint.for_deployment("green").url == "http://g/predict"
    with pytest.raises(KeyError, match="blue"):
        endpoint.for_deployment("blue")
    managed = client.from_info({"target": "azureml_online_endpoint", "url": "https://e/score", "auth": "aad"})
    pinned = managed.for_deployment("green")
    assert pinned.headers == {"azureml-model-deployment": "green"} and pinned.health_url is None
    with pytest.raises(ValueError, match="no 'url'"):
        client.from_info({})


def test_open_endpoint_from_url_or_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINT_URL", "http://127.0.0.1:9/")
    with client.open_endpoint() as endpoint:
        assert endpoint.url == "http://127.0.0.1:9/predict"
    monkeypatch.delenv("ENDPOINT_URL")
    with pytest.raises(ValueError, match="no endpoint"), client.open_endpoint():
        pass
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps({"target": "local", "url": "http://127.0.0.1:9/predict",
                                "deployments": {"blue": {"url": "http://127.0.0.1:8/predict"}}}), encoding="utf-8")
    with client.open_endpoint(str(path), "blue") as endpoint:
        assert endpoint.url == "http://127.0.0.1:8/predict"


def test_open_endpoint_needs_kubectl_for_aks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_URL", raising=False)
    monkeypatch.delenv("ENDPOINT_IN_CLUSTER", raising=False)
    monkeypatch.setattr(client.shutil, "which", lambda name: None)
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps({"target": "aks", "url": "http://svc/predict",
                                "kubernetes": {"namespace": "ml", "service": "m", "port": 80}}), encoding="utf-8")
    with pytest.raises(RuntimeError, match="kubectl"), client.open_endpoint(str(path)):
        pass
    monkeypatch.setenv("ENDPOINT_IN_CLUSTER", "1")
    with client.open_endpoint(str(path)) as endpoint:
        assert endpoint.url == "http://svc/predict"


@pytest.mark.parametrize(("values", "fraction", "expected"), [
    ([], 0.95, 0.0), ([5.0], 0.95, 5.0), ([float(n) for n in range(1, 101)], 0.95, 95.0),
    ([3.0, 1.0, 2.0], 0.5, 2.0),
])
def test_percentile(values: list[float], fraction: float, expected: float) -> None:
    assert client.percentile(values, fraction) == expected


class RecordingCollector:
    """Stands in for azureml-ai-monitoring's Collector(name=..., on_error=...): collect(data, context) -> context."""

    calls: list[tuple[str, Any, Any]] = []

    def __init__(self, name: str, on_error: Any) -> None:
        self.name = name

    def collect(self, data: Any, correlation_context: Any = None) -> Any:
        RecordingCollector.calls.append((self.name, data.to_dict(orient="records"), correlation_context))
        return f"context-of-{self.name}"


def test_scored_batches_go_to_the_data_collector_inputs_then_outputs() -> None:
    from serving import collection

    RecordingCollector.calls = []
    application = scoring.ScoringApp(StubModel(), production_data=collection.ProductionData(RecordingCollector))
    status, _, body = call(application, "POST", "/predict", b'{"records": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]}')
    assert status == 200 and body == [{"prediction": 2}, {"prediction": 2}]
    # The records as scored, then the predictions correlated with them through the inputs' context.
    assert RecordingCollector.calls == [
        ("model_inputs", [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], None),
        ("model_outputs", [{"prediction": 2}, {"prediction": 2}], "context-of-model_inputs"),
    ]


def test_data_collection_is_off_without_the_platforms_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    from serving import collection

    monkeypatch.delenv("AZUREML_MDC_CONFIG_PATH", raising=False)
    monkeypatch.delenv("AZUREML_MDC_ENABLED", raising=False)
    assert collection.production_data() is None
    assert collection.configured({"AZUREML_MDC_ENABLED": "true"})
    assert not collection.configured({"AZUREML_MDC_ENABLED": "false"})


def test_a_failing_collector_never_fails_a_prediction() -> None:
    from serving import collection

    class Failing(RecordingCollector):
        def collect(self, data: Any, correlation_context: Any = None) -> Any:
            raise OSError("collector unreachable")

    application = scoring.ScoringApp(StubModel(), production_data=collection.ProductionData(Failing))
    assert call(application, "POST", "/predict", b'[{"a": 1}]')[0] == 200
