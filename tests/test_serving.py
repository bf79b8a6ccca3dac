"""The serving side of the output: Dockerfile, Kubernetes manifests, deployment scripts, scoring app, endpoint tests.

Referees (hadolint, kubernetes-validate --strict, ruff, bandit) must report zero findings on every example spec;
the scoring app and the generated endpoint tests run for real over HTTP on 127.0.0.1 against a stub model.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from mlops_gen.commands.generate import render_all
from mlops_gen.stages import flags_of
from mlops_gen.targets.deployment_scripts import DEPLOYMENT_SCRIPTS
from mlops_gen.targets.docker import PYTHON_IMAGES, SERVING_UID
from tests.conftest import CORPUS, ROOT, example_specs
from tests.referees import assert_clean, run_tool
from tests.template_scripts import forget_helper_modules, helper_modules

SPECS = [*example_specs(), *sorted(CORPUS.glob("*.yaml"))]
SERVING_TARGETS = ("scripts", "docker", "k8s")
CONTRACT_SCRIPTS = [s for s in DEPLOYMENT_SCRIPTS if s != "src/serving/app.py"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example and corpus spec rendered (scripts, docker, k8s) into its own model folder."""
    out = tmp_path_factory.mktemp("serving")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        rendered = render_all([str(p.relative_to(ROOT)) for p in SPECS], SERVING_TARGETS)
    folders = {}
    for spec_file, files in rendered:
        folder = out / spec_file.spec.model.name
        for relative, item in files.items():
            path = folder / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(item.data)
        folders[spec_file.spec.model.name] = folder
    return folders


@pytest.fixture(scope="module")
def churn(trees: dict[str, Path]) -> Path:
    return trees["customer-churn"]


def _manifests(trees: dict[str, Path]) -> list[Path]:
    return sorted(p for folder in trees.values() for p in folder.glob("k8s/*/*.yaml"))


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# ----- Dockerfile -----

def test_every_dockerfile_is_hadolint_clean(trees: dict[str, Path]) -> None:
    dockerfiles = [str(folder / "Dockerfile") for folder in trees.values()]
    assert dockerfiles
    assert_clean(run_tool(["hadolint", "--no-color", "--failure-threshold", "info", *dockerfiles]))


def test_dockerfile_follows_the_image_standards(trees: dict[str, Path]) -> None:
    for name, folder in trees.items():
        text = (folder / "Dockerfile").read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line and not line.startswith("#")]
        base = next(line for line in lines if line.startswith("FROM "))
        assert base.split()[1] in PYTHON_IMAGES.values(), name
        assert f"USER {SERVING_UID}:{SERVING_UID}" in lines, name
        assert any(line.startswith("HEALTHCHECK ") for line in lines), name
        assert "pip install --no-cache-dir" in text and "-r requirements-serving.txt" in text, name
        assert "EXPOSE 8080" in lines, name
        assert "hadolint ignore" not in text, name


def test_dockerfile_base_matches_the_spec_python(trees: dict[str, Path]) -> None:
    text = (trees["house-prices"] / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11." in text  # house-prices asks for python_version 3.11


def test_serving_requirements_are_exact_pins_shared_with_training(churn: Path) -> None:
    serving = _pins(churn / "requirements-serving.txt")
    assert serving and all(version for version in serving.values())
    training = _pins(churn / "requirements.txt")
    # Local serving (run-local, the local target) runs the image's app in the stage scripts' venv: every serving
    # library, gunicorn included, is there at the image's version.
    assert set(serving) <= set(training), sorted(set(serving) - set(training))
    assert {"scikit-learn", "mlflow-skinny", "numpy", "pandas", "gunicorn"} <= set(serving)
    assert {name: serving[name] for name in serving} == {name: training[name] for name in serving}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        name, sep, version = line.partition("==")
        assert sep, f"{path.name}: {line!r} is not an exact pin"
        pins[name.strip().lower()] = version.strip()
    return pins


def test_dockerignore_keeps_the_context_small(churn: Path) -> None:
    lines = (churn / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines and "!src/serving/" in lines and "!model/" in lines


# ----- Kubernetes manifests -----

ROUTE_SCHEMA = ROOT / "tests" / "schemas" / "gateway-api-v1.6.1-httproute.json"


def test_every_manifest_is_kubernetes_validate_strict_clean(trees: dict[str, Path]) -> None:
    manifests = [str(p) for p in _manifests(trees) if p.name != "httproute.yaml"]
    assert manifests
    result = run_tool(["kubernetes-validate", "--strict", *manifests])
    assert_clean(result)
    assert "Couldn't find schema" not in result.stdout + result.stderr  # unknown kinds pass silently otherwise


def test_every_route_matches_the_gateway_api_schema(trees: dict[str, Path]) -> None:
    """kubernetes-validate knows built-in kinds only: the HTTPRoute is checked against the Gateway API's own CRD
    schema (v1.6.1, standard channel, made strict the way kubectl apply's server-side validation is; see
    tools/vendor_crd_schema.py)."""
    routes = [str(p) for p in _manifests(trees) if p.name == "httproute.yaml"]
    assert len(routes) >= 4  # the example churn model and the corpus's AKS canaries
    assert_clean(run_tool(["check-jsonschema", "--schemafile", str(ROUTE_SCHEMA), *routes]))


def test_the_route_schema_refuses_what_the_api_server_would(tmp_path: Path) -> None:
    route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "m"},
             "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
                 {"name": "m-stable", "port": 80, "weight": 100, "wieght": 0}]}]}}
    path = tmp_path / "route.yaml"
    path.write_text(yaml.safe_dump(route), encoding="utf-8")
    result = run_tool(["check-jsonschema", "--schemafile", str(ROUTE_SCHEMA), str(path)])
    assert result.returncode == 1 and "wieght" in result.stdout


def test_every_manifest_is_yamllint_clean(trees: dict[str, Path]) -> None:
    config = ROOT / "tests" / "yamllint.yaml"
    assert_clean(run_tool(["yamllint", "-s", "-c", str(config), "-f", "parsable",
                           *[str(p) for p in _manifests(trees)]]))


def test_manifests_only_for_aks_environments(trees: dict[str, Path]) -> None:
    assert not (trees["house-prices"] / "k8s").exists()  # both environments are Azure ML endpoints
    assert sorted(p.name for p in (trees["customer-churn"] / "k8s").iterdir()) == ["production"]


def test_deployments_are_locked_down_with_probes_and_resources(trees: dict[str, Path]) -> None:
    deployments = [doc for path in _manifests(trees) for doc in _docs(path) if doc["kind"] == "Deployment"]
    assert deployments
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                assert container[probe]["httpGet"]["path"] == "/health"
            assert set(container["resources"]) == {"requests", "limits"}


def test_resources_and_replicas_come_from_the_spec(churn: Path) -> None:
    stable = _docs(churn / "k8s/production/deployment.yaml")[0]
    resources = stable["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert "replicas" not in stable["spec"]  # the HorizontalPodAutoscaler owns it
    hpa = _docs(churn / "k8s/production/hpa.yaml")[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    assert hpa["spec"]["scaleTargetRef"]["name"] == stable["metadata"]["name"]
    pdb = _docs(churn / "k8s/production/pdb.yaml")[0]
    assert pdb["spec"]["selector"]["matchLabels"] == stable["spec"]["selector"]["matchLabels"]


def test_canary_strategy_gets_a_canary_deployment_and_a_weighted_route(churn: Path) -> None:
    canary = _docs(churn / "k8s/production/deployment-canary.yaml")[0]
    assert canary["metadata"]["name"] == "customer-churn-canary" and canary["spec"]["replicas"] == 0
    services = {doc["metadata"]["name"]: doc for doc in _docs(churn / "k8s/production/service.yaml")}
    assert set(services) == {"customer-churn", "customer-churn-stable", "customer-churn-canary"}
    # Pod counts no longer set the share: the main Service stays on the stable pods, the route weighs the tracks.
    assert services["customer-churn"]["spec"]["selector"] == {"app.kubernetes.io/name": "customer-churn",
                                                              "mlops-gen.io/track": "stable"}
    route = _docs(churn / "k8s/production/httproute.yaml")[0]
    assert route["spec"]["parentRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "Gateway",
                                            "name": "public-gateway", "namespace": "gateway-system"}]
    assert route["spec"]["hostnames"] == ["churn.ml.company.com"]
    backends = route["spec"]["rules"][0]["backendRefs"]
    assert [(b["name"], b["port"], b["weight"]) for b in backends] == [
        ("customer-churn-stable", 80, 100), ("customer-churn-canary", 80, 0)]
    # Each backend is a Service selecting exactly one track's pods.
    for backend, track in zip(backends, ("stable", "canary"), strict=True):
        assert services[backend["name"]]["spec"]["selector"]["mlops-gen.io/track"] == track


def test_the_canary_is_autoscaled_and_guarded_like_stable(churn: Path) -> None:
    """At 100 % the canary serves everything: it has its own autoscaler and disruption budget (the autoscaler is
    idle while the canary has no pods: Kubernetes' HPA controller sets ScalingDisabled for a target at zero)."""
    hpa = _docs(churn / "k8s/production/hpa.yaml")
    autoscalers = {doc["spec"]["scaleTargetRef"]["name"]: doc["spec"] for doc in hpa}
    assert set(autoscalers) == {"customer-churn-stable", "customer-churn-canary"}
    assert autoscalers["customer-churn-canary"]["minReplicas"] == 2
    assert autoscalers["customer-churn-canary"]["maxReplicas"] == 10
    budgets = {doc["metadata"]["name"]: doc["spec"] for doc in _docs(churn / "k8s/production/pdb.yaml")}
    assert budgets["customer-churn-canary"]["selector"]["matchLabels"]["mlops-gen.io/track"] == "canary"
    assert budgets["customer-churn-stable"]["selector"]["matchLabels"]["mlops-gen.io/track"] == "stable"


def test_rolling_strategy_has_no_canary(trees: dict[str, Path]) -> None:
    rolling = [folder for folder in trees.values() if (folder / "k8s").exists()
               and "strategy: rolling" in (folder / "config/pipeline.yaml").read_text(encoding="utf-8")]
    assert rolling
    for folder in rolling:
        assert not list(folder.glob("k8s/*/deployment-canary.yaml"))
        for path in folder.glob("k8s/*/service.yaml"):
            assert [doc["metadata"]["name"] for doc in _docs(path)] == [folder.name, f"{folder.name}-stable"]


# ----- scripts: contract, stdlib --help, lint -----

@pytest.mark.parametrize("script", CONTRACT_SCRIPTS)
def test_script_flags_match_the_contract_and_help_needs_only_the_stdlib(churn: Path, script: str) -> None:
    path = churn / script
    # -I -S: no site-packages, no user site, no PYTHONPATH: --help must work on the standard library alone.
    probe = ("import json, runpy, sys; ns = runpy.run_path(sys.argv[1]); parser = ns['build_parser']();"
             "print(json.dumps(sorted(o for a in parser._actions for o in a.option_strings if o.startswith('--')"
             " and o != '--help')))")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", probe, str(path)], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == sorted(flags_of(script))
    helped = subprocess.run([sys.executable, "-I", "-S", str(path), "--help"], capture_output=True, text=True,
                            timeout=60, check=False)
    assert helped.returncode == 0 and "usage:" in helped.stdout, helped.stderr


def test_serving_app_help_needs_only_the_stdlib(churn: Path) -> None:
    result = subprocess.run([sys.executable, "-I", "-S", str(churn / "src/serving/app.py"), "--help"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and "--model-uri" in result.stdout, result.stderr


def _serving_python(folder: Path) -> list[str]:
    found = sorted(str(p) for base in ("src/deployment", "src/serving", "tests/endpoint")
                   for p in (folder / base).rglob("*.py"))
    return [*found, str(folder / "tests/smoke_test.py")]


def test_generated_serving_python_passes_ruff(trees: dict[str, Path]) -> None:
    files = [f for folder in trees.values() for f in _serving_python(folder)]
    pytest_files = [f for f in files if "/tests/endpoint/" in Path(f).as_posix()]
    others = [f for f in files if f not in pytest_files]
    ruff = ["ruff", "check", "--no-cache", "--isolated", "--select", "E9,F,B,S"]
    assert_clean(run_tool([*ruff, *others]))
    # pytest's assert is how the generated endpoint tests check; everything else still applies to them.
    assert_clean(run_tool([*ruff, "--ignore", "S101", *pytest_files]))


def test_generated_serving_python_passes_bandit(trees: dict[str, Path]) -> None:
    for folder in trees.values():
        assert_clean(run_tool(["bandit", "-q", "-ll", *_serving_python(folder)]))


def test_smoke_data_has_the_sample_columns_without_the_target(churn: Path) -> None:
    records = json.loads((churn / "tests/data/smoke_test_data.json").read_text(encoding="utf-8"))["records"]
    assert records and all("churned" not in record for record in records)
    assert {"age", "gender", "tenure_months", "monthly_charges", "support_calls"} <= set(records[0])


# ----- the scoring app and the endpoint tests, for real over HTTP -----

def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class StubModel:
    """Stands in for the MLflow model: one prediction per record; a record with 'explode' fails."""

    def predict(self, records: list[dict[str, Any]]) -> list[int]:
        if any("explode" in record for record in records):
            raise RuntimeError("boom: internal detail that must not leak")
        if any("wrong" in record for record in records):
            raise ValueError("column 'wrong' is not an input")
        return [len(record) % 2 for record in records]


@pytest.fixture(scope="module")
def app_module(churn: Path) -> ModuleType:
    return _load(churn / "src/serving/app.py", "generated_serving_app")


@pytest.fixture()
def server(app_module: ModuleType) -> Iterator[str]:
    """The generated app with a stub model on 127.0.0.1, served by a threaded wsgiref server."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    app = app_module.ScoringApp(StubModel(), max_records=50, max_body_bytes=20_000)
    httpd = make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _call(url: str, method: str = "GET", body: bytes | None = None,
          content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_app_health_and_predict(server: str) -> None:
    assert _call(f"{server}/health") == (200, {"status": "ok"})
    body = json.dumps({"records": [{"a": 1}, {"a": 1, "b": 2}]}).encode()
    assert _call(f"{server}/predict", "POST", body) == (200, [{"prediction": 1}, {"prediction": 0}])


def test_the_seed_guides_endpoint_prediction_test_passes_unmodified(server: str) -> None:
    """test_endpoint_prediction as the seed guide writes it (requests swapped for urllib: same calls, same check)."""
    for test_data in ({"records": [{"a": 1}, {"a": 2}, {"a": 3}]}, [{"a": 1}, {"a": 2}, {"a": 3}]):
        status, predictions = _call(f"{server}/predict", "POST", json.dumps(test_data).encode())
        assert status == 200, f"Prediction request failed with status {status}"
        expected_shape = 3
        assert len(predictions) == expected_shape, f"Expected {expected_shape} predictions, got {len(predictions)}"


@pytest.mark.parametrize("body", [
    b'{"records": [{"a": ' + b"9" * 400 + b"}]}",
    b'{"records": [{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}]}",
])
def test_hostile_numbers_and_nesting_are_client_errors(app_module: ModuleType, body: bytes) -> None:
    app = app_module.ScoringApp(StubModel(), max_body_bytes=1_000_000)
    statuses: list[str] = []
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/predict", "CONTENT_TYPE": "application/json",
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    answer = json.loads(b"".join(app(environ, lambda s, h: statuses.append(s))))
    assert statuses[0].startswith("400"), (statuses, answer)
    assert "999" not in answer["error"] and "[[" not in answer["error"]


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "not valid JSON"),
    (b"[1]", 400, "records[0]"),
    (b"{\"rows\": []}", 400, '{"records"'),
    (b"{\"records\": []}", 400, "non-empty list"),
    (b"{\"records\": [1]}", 400, "records[0]"),
    (b"{\"records\": [{\"wrong\": 1}]}", 400, "do not match the model's input"),
    (b"{\"records\": [{\"a\": {\"b\": 1}}]}", 400, "nested object or list"),
    (json.dumps({"records": [{"a": 1}] * 51}).encode(), 413, "at most 50 records"),
    (b"{\"records\": [{\"explode\": 1}]}", 500, "prediction failed"),
])
def test_app_rejects_bad_requests_with_a_message_and_no_traceback(server: str, body: bytes, status: int,
                                                                   message: str) -> None:
    code, payload = _call(f"{server}/predict", "POST", body)
    assert code == status
    assert message in payload["error"]
    assert "Traceback" not in payload["error"] and "boom" not in payload["error"]


def test_app_routes_methods_and_limits(server: str) -> None:
    assert _call(f"{server}/nope")[0] == 404
    assert _call(f"{server}/predict")[0] == 405
    assert _call(f"{server}/health", "POST", b"{}")[0] == 405
    assert _call(f"{server}/predict", "POST", b"{}", content_type="text/plain")[0] == 415
    assert _call(f"{server}/predict", "POST", b"{\"records\": [{\"a\": \"" + b"x" * 30_000 + b"\"}]}")[0] == 413


def test_app_without_a_model_is_unhealthy(app_module: ModuleType) -> None:
    app = app_module.ScoringApp(None)
    statuses: list[str] = []
    body = b"".join(app({"REQUEST_METHOD": "GET", "PATH_INFO": "/health"}, lambda s, h: statuses.append(s)))
    assert statuses == ["503 Service Unavailable"] and json.loads(body)["status"] == "unavailable"


def _endpoint_file(tmp_path: Path, base: str) -> Path:
    info = {"name": "stub", "target": "local", "url": f"{base}/predict", "health_url": f"{base}/health",
            "auth": "none", "deployment": "canary", "stable_deployment": "stable",
            "deployments": {"canary": {"url": f"{base}/predict", "health_url": f"{base}/health"},
                            "stable": {"url": f"{base}/predict", "health_url": f"{base}/health"}}}
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENDPOINT_", "PYTEST_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def test_generated_endpoint_tests_pass_against_a_live_server(churn: Path, server: str, tmp_path: Path) -> None:
    endpoint = _endpoint_file(tmp_path, server)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(churn),
         str(churn / "tests/endpoint"), "--endpoint-file", str(endpoint), "--load-requests", "60",
         "--max-latency-ms", "5000"],
        cwd=churn, capture_output=True, text=True, timeout=120, check=False, env=_clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_generated_endpoint_tests_fail_when_the_model_errors(churn: Path, app_module: ModuleType,
                                                             tmp_path: Path) -> None:
    class Broken:
        def predict(self, records: list[dict[str, Any]]) -> list[int]:
            raise RuntimeError("down")

    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    httpd = make_server("127.0.0.1", 0, app_module.ScoringApp(Broken()), handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    endpoint = _endpoint_file(tmp_path, f"http://127.0.0.1:{httpd.server_port}")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(churn),
             str(churn / "tests/endpoint"), "--endpoint-file", str(endpoint), "--load-requests", "10",
             "--load-concurrency", "1"],
            cwd=churn, capture_output=True, text=True, timeout=120, check=False, env=_clean_env())
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout and "test_prediction_shape" in result.stdout


def test_endpoint_tests_skip_without_an_endpoint(churn: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(churn),
                             str(churn / "tests/endpoint")], cwd=churn, capture_output=True, text=True, timeout=120,
                            check=False, env=_clean_env())
    assert result.returncode == 0 and "skipped" in result.stdout, result.stdout + result.stderr


def test_smoke_test_script_against_a_live_server(churn: Path, server: str, tmp_path: Path) -> None:
    command = [sys.executable, str(churn / "tests/smoke_test.py"), "--endpoint-file",
               str(_endpoint_file(tmp_path, server)), "--test-data", str(churn / "tests/data/smoke_test_data.json")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=_clean_env())
    assert result.returncode == 0 and "smoke test passed" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize(("max_latency_ms", "expected"), [(5000, 0), (0.0001, 1)])
def test_monitor_passes_within_limits_and_fails_beyond_them(churn: Path, server: str, tmp_path: Path,
                                                            max_latency_ms: float, expected: int) -> None:
    report = tmp_path / "monitor.json"
    command = [sys.executable, str(churn / "src/deployment/monitor_deployment.py"), "--backend", "local",
               "--endpoint-file", str(_endpoint_file(tmp_path, server)), "--duration-seconds", "2",
               "--interval-seconds", "1", "--max-error-rate", "0.05", "--max-latency-ms", str(max_latency_ms),
               "--baseline-deployment", "stable", "--output", str(report)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False, env=_clean_env())
    assert result.returncode == expected, result.stdout + result.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["passed"] is (expected == 0)
    assert data["candidate"]["requests"] == 20 and data["candidate"]["errors"] == 0
    assert data["baseline"]["requests"] == 20


# ----- canary pods (AKS) -----

def test_canary_pods_follow_the_share_of_the_stable_load(churn: Path) -> None:
    sys.path.insert(0, str(churn / "src/deployment"))
    try:
        aks = _load(churn / "src/deployment/aks_target.py", "generated_aks_target")
    finally:
        sys.path.remove(str(churn / "src/deployment"))
        forget_helper_modules()
    assert aks.canary_replicas(4, 0, 2) == 0
    assert aks.canary_replicas(2, 10, 2) == 2  # never below the autoscaler's minimum
    assert aks.canary_replicas(10, 25, 2) == 3  # a quarter of 10 pods, rounded up
    assert aks.canary_replicas(8, 100, 2) == 8  # all the load: as many pods as stable runs


# ----- AKS rollout through the generated manifests, against a fake kubectl -----

FAKES = Path(__file__).resolve().parent / "fakes"


@pytest.fixture()
def kube(tmp_path: Path) -> dict[str, str]:
    """Environment whose PATH finds a fake kubectl keeping cluster state in a JSON file."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(f"#!{sys.executable}\n" + (FAKES / "kubectl.py").read_text(encoding="utf-8"), encoding="utf-8")
    fake.chmod(0o755)
    env = _clean_env()
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["FAKE_KUBE_STATE"] = str(tmp_path / "kube.json")
    return env


def _objects(kube: dict[str, str]) -> dict[str, Any]:
    objects: dict[str, Any] = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["objects"]
    return objects


def _script(churn: Path, script: str, kube: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, str(churn / script), "--backend", "azure", *args], cwd=churn, env=kube,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_aks_canary_rollout_and_rollback(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    version_file = tmp_path / "model-version.json"
    endpoint = tmp_path / "endpoint.json"

    def deploy(percentage: int, image: str) -> dict[str, Any]:
        version_file.write_text(json.dumps({"model_name": "customer-churn", "version": image[-1]}), encoding="utf-8")
        _script(churn, "src/deployment/deploy.py", kube, "--target", "aks", "--environment", "production",
                "--model-name", "customer-churn", "--version-file", str(version_file),
                "--endpoint-name", "customer-churn-production", "--image", image,
                "--deployment-name", "customer-churn-canary", "--traffic-percentage", str(percentage),
                "--namespace", "ml-models", "--manifests", "k8s/production", "--output", str(endpoint))
        info: dict[str, Any] = json.loads(endpoint.read_text(encoding="utf-8"))
        return info

    # Nothing runs yet: the first release runs on the canary Deployment alone, with all traffic, so the monitor
    # watches it and a rollback can remove it; promotion creates the stable Deployment from the manifests.
    first = deploy(10, "acrmlprod.azurecr.io/customer-churn:1")
    objects = _objects(kube)
    assert first["first_release"] is True
    assert first["deployment"] == "customer-churn-canary" and first["traffic"] == {"customer-churn-canary": 100}
    assert first["kubernetes"] == {"namespace": "ml-models", "service": "customer-churn", "port": 80}
    assert "Deployment/customer-churn-stable" not in objects
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 2  # the autoscaler's minimum
    assert _weights(objects) == {"customer-churn-stable": 0, "customer-churn-canary": 100}
    assert objects["Service/customer-churn"]["spec"]["selector"]["mlops-gen.io/track"] == "canary"
    assert {"Service/customer-churn", "HorizontalPodAutoscaler/customer-churn-canary"} <= set(objects)
    _promote(churn, kube, manifests=True)
    objects = _objects(kube)
    stable = objects["Deployment/customer-churn-stable"]["spec"]["template"]
    assert stable["spec"]["containers"][0]["image"].endswith(":1")
    assert stable["metadata"]["labels"]["mlops-gen.io/model-version"] == "1"
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 0
    assert _weights(objects) == {"customer-churn-stable": 100, "customer-churn-canary": 0}
    assert objects["Service/customer-churn"]["spec"]["selector"] == {"app.kubernetes.io/name": "customer-churn",
                                                                     "mlops-gen.io/track": "stable"}

    state = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))
    state["objects"]["Deployment/customer-churn-stable"]["spec"]["replicas"] = 8  # as the autoscaler left it
    Path(kube["FAKE_KUBE_STATE"]).write_text(json.dumps(state), encoding="utf-8")

    # Each step's share is the route's weight, exactly the increment, whatever the pod counts (the replica ratio
    # this replaces turned 10 % and 25 % into about 33 % beside an autoscaler's minimum of 2).
    for share, pods in ((10, 2), (25, 2), (50, 4)):
        canary = deploy(share, "acrmlprod.azurecr.io/customer-churn:2")
        objects = _objects(kube)
        assert _weights(objects) == {"customer-churn-stable": 100 - share, "customer-churn-canary": share}
        assert canary["traffic"] == {"customer-churn-stable": 100 - share, "customer-churn-canary": share}
        assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == pods
        assert objects["Deployment/customer-churn-stable"]["spec"]["replicas"] == 8

    deploy(100, "acrmlprod.azurecr.io/customer-churn:2")
    objects = _objects(kube)
    assert _weights(objects) == {"customer-churn-stable": 0, "customer-churn-canary": 100}
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 8  # as many pods as stable ran

    _script(churn, "src/deployment/rollback.py", kube, "--target", "aks", "--endpoint-name",
            "customer-churn-production", "--stable-deployment", "customer-churn-stable", "--candidate-deployment",
            "customer-churn-canary", "--namespace", "ml-models")
    objects = _objects(kube)
    assert _weights(objects) == {"customer-churn-stable": 100, "customer-churn-canary": 0}
    assert objects["Service/customer-churn"]["spec"]["selector"]["mlops-gen.io/track"] == "stable"
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 0
    assert objects["Deployment/customer-churn-stable"]["spec"]["template"]["spec"]["containers"][0]["image"] \
        .endswith(":1")


def _weights(objects: dict[str, Any]) -> dict[str, int]:
    route = objects["HTTPRoute/customer-churn"]
    return {ref["name"]: ref["weight"] for ref in route["spec"]["rules"][0]["backendRefs"]}


def test_a_canary_without_a_route_is_refused(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    """Manifests from before the route (or edited to drop it) cannot split requests: deploy says so instead of
    approximating the share with pod counts."""
    _deploy(churn, kube, tmp_path, "1", "100")
    _promote(churn, kube, manifests=True)
    manifests = tmp_path / "manifests"
    shutil.copytree(churn / "k8s/production", manifests)
    (manifests / "httproute.yaml").unlink()
    result = _run_deploy(churn, kube, tmp_path, "2", "10", manifests=str(manifests))
    assert result.returncode != 0
    assert "needs the HTTPRoute 'customer-churn' to split requests by weight" in result.stderr


def _set_replicas(kube: dict[str, str], deployment: str, replicas: int) -> None:
    """What an autoscaler does between two pipeline steps."""
    state = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))
    state["objects"][f"Deployment/{deployment}"]["spec"]["replicas"] = replicas
    Path(kube["FAKE_KUBE_STATE"]).write_text(json.dumps(state), encoding="utf-8")


def test_stable_takes_back_all_requests_with_enough_pods(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    """Promotion moves every request from the canary to stable: stable first runs at least the canary's pods
    (a Deployment created without replicas would start with 1), and the canary is scaled down last."""
    _deploy(churn, kube, tmp_path, "1", "10")  # a first release: the canary alone, all traffic
    _set_replicas(kube, "customer-churn-canary", 6)  # its autoscaler grew it under the load
    _promote(churn, kube, manifests=True)
    objects = _objects(kube)
    assert objects["Deployment/customer-churn-stable"]["spec"]["replicas"] == 6
    _set_replicas(kube, "customer-churn-stable", 2)  # idle stable shrank while the canary held 100 %
    _deploy(churn, kube, tmp_path, "2", "100")
    _set_replicas(kube, "customer-churn-canary", 7)
    _promote(churn, kube, manifests=True)
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    scaled = calls.index(["scale", "deployment/customer-churn-stable", "--replicas=7"])
    flips = [i for i, c in enumerate(calls) if c[:2] == ["patch", "httproute.gateway.networking.k8s.io"]]
    drained = calls.index(["scale", "deployment/customer-churn-canary", "--replicas=0"], scaled)
    assert scaled < flips[-1] < drained


def test_a_canary_step_keeps_the_pods_its_autoscaler_added(churn: Path, tmp_path: Path,
                                                           kube: dict[str, str]) -> None:
    """An apply with replicas sets the count (Kubernetes docs, "Migrating Deployments to horizontal
    autoscaling"): a later step never takes pods away from a canary its autoscaler grew."""
    _deploy(churn, kube, tmp_path, "1", "100")
    _promote(churn, kube, manifests=True)
    _deploy(churn, kube, tmp_path, "2", "10")
    _set_replicas(kube, "customer-churn-canary", 9)
    _deploy(churn, kube, tmp_path, "2", "25")
    assert _objects(kube)["Deployment/customer-churn-canary"]["spec"]["replicas"] == 9


def test_deploy_waits_for_the_gateway_to_take_the_route(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    """A route no listener admits carries no request: deploy fails with the Gateway's own reason instead of
    letting the monitor judge the probes alone."""
    result = _run_deploy(churn, {**kube, "FAKE_ROUTE_REFUSED": "1"}, tmp_path, "1", "10")
    assert result.returncode == 1
    assert ("route customer-churn is not in effect: Gateway public-gateway: Accepted is False "
            "(NotAllowedByListeners") in result.stderr


def test_deploy_names_a_missing_permission_before_changing_anything(churn: Path, tmp_path: Path,
                                                                    kube: dict[str, str]) -> None:
    env = {**kube, "FAKE_DENY": "patch httproutes.gateway.networking.k8s.io,get pods/log"}
    result = _run_deploy(churn, env, tmp_path, "1", "10")
    assert result.returncode == 1
    assert ("this identity may not patch httproutes.gateway.networking.k8s.io, get pods/log in namespace "
            "ml-models") in result.stderr
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    assert not [c for c in calls if c[0] in ("apply", "patch", "scale")]
    asked = {tuple(c[2:4]) for c in calls if c[0] == "auth"}
    assert {("create", "horizontalpodautoscalers.autoscaling"), ("patch", "services"),
            ("create", "poddisruptionbudgets.policy"), ("list", "pods")} <= asked


def test_a_rollback_that_cannot_steer_its_route_keeps_the_canary(churn: Path, tmp_path: Path,
                                                                  kube: dict[str, str]) -> None:
    """Where the manifests route the environment's requests, a route the identity may not read stops the rollback
    before the canary's pods go: scaled to zero under its weight, its share would meet a Service without pods."""
    _deploy(churn, kube, tmp_path, "1", "100")
    _promote(churn, kube, manifests=True)
    _deploy(churn, kube, tmp_path, "2", "25")
    result = subprocess.run([sys.executable, str(churn / "src/deployment/rollback.py"), "--backend", "azure",
                             "--target", "aks", "--endpoint-name", "customer-churn-production",
                             "--stable-deployment", "customer-churn-stable", "--candidate-deployment",
                             "customer-churn-canary", "--namespace", "ml-models", "--manifests", "k8s/production"],
                            cwd=churn, env={**kube, "FAKE_FORBID_ROUTE": "1"}, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert "reading route customer-churn failed: Error from server (Forbidden)" in result.stderr
    assert _objects(kube)["Deployment/customer-churn-canary"]["spec"]["replicas"] > 0


def test_a_rollback_without_the_gateway_api_still_restores_stable(churn: Path, tmp_path: Path,
                                                                 kube: dict[str, str]) -> None:
    """An environment without a gateway (blue-green) on a cluster without the Gateway API CRDs: the rollback's
    look for a route must not stop it before the selector and the scale-down."""
    env = {**kube, "FAKE_NO_GATEWAY_API": "1"}
    state = {"objects": {
        "Service/customer-churn": {"kind": "Service", "metadata": {"name": "customer-churn", "annotations": {
            "mlops-gen.io/stable-selector": json.dumps(LABELS["stable"])}}, "spec": {"selector": LABELS["canary"]}},
        "Deployment/customer-churn-canary": {"kind": "Deployment", "metadata": {"name": "customer-churn-canary"},
                                             "spec": {"replicas": 3}}}, "calls": []}
    Path(kube["FAKE_KUBE_STATE"]).write_text(json.dumps(state), encoding="utf-8")
    _script(churn, "src/deployment/rollback.py", env, "--target", "aks", "--endpoint-name",
            "customer-churn-production", "--stable-deployment", "customer-churn-stable", "--candidate-deployment",
            "customer-churn-canary", "--namespace", "ml-models")
    objects = _objects(kube)
    assert objects["Service/customer-churn"]["spec"]["selector"] == LABELS["stable"]
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 0


def _promote(churn: Path, kube: dict[str, str], manifests: bool = False) -> str | None:
    """aks_target.promote as promote.py calls it (promote.py itself also moves the registry alias)."""
    with pytest.MonkeyPatch.context() as patch:
        for key in ("PATH", "FAKE_KUBE_STATE"):
            patch.setenv(key, kube[key])
        patch.syspath_prepend(str(churn / "src/deployment"))
        aks = _load(churn / "src/deployment/aks_target.py", "generated_aks_promote")
        try:
            loaded = aks.load_manifests(str(churn / "k8s/production")) if manifests else None
            promoted: str | None = aks.promote(aks.Kubectl("ml-models", None), "customer-churn-stable",
                                               "customer-churn-canary", loaded)
        finally:
            forget_helper_modules()
    return promoted


def _run_deploy(churn: Path, env: dict[str, str], tmp_path: Path, version: str, pct: str,
                deployment: str = "customer-churn-canary", manifests: str = "k8s/production"
                ) -> subprocess.CompletedProcess[str]:
    """deploy.py of the churn model's production (AKS) against the fake cluster, whatever its exit status."""
    version_file = tmp_path / "model-version.json"
    version_file.write_text(json.dumps({"version": version}), encoding="utf-8")
    return subprocess.run([sys.executable, str(churn / "src/deployment/deploy.py"), "--backend", "azure",
                           "--target", "aks", "--environment", "production", "--model-name", "customer-churn",
                           "--version-file", str(version_file), "--endpoint-name", "customer-churn-production",
                           "--image", f"registry.example/churn:{version}", "--deployment-name", deployment,
                           "--traffic-percentage", pct, "--namespace", "ml-models", "--manifests", manifests,
                           "--output", str(tmp_path / "endpoint.json")],
                          cwd=churn, env=env, capture_output=True, text=True, timeout=60, check=False)


def _deploy(churn: Path, kube: dict[str, str], tmp_path: Path, version: str, pct: str,
            deployment: str = "customer-churn-canary") -> dict[str, Any]:
    result = _run_deploy(churn, kube, tmp_path, version, pct, deployment)
    assert result.returncode == 0, result.stdout + result.stderr
    info: dict[str, Any] = json.loads((tmp_path / "endpoint.json").read_text(encoding="utf-8"))
    return info


def test_aks_promotion_moves_the_canary_image_onto_stable(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    _deploy(churn, kube, tmp_path, "1", "100")
    assert _promote(churn, kube, manifests=True) == "1"
    _deploy(churn, kube, tmp_path, "2", "50")
    promoted = _promote(churn, kube)
    objects = _objects(kube)
    stable = objects["Deployment/customer-churn-stable"]
    assert promoted == "2"
    assert stable["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.example/churn:2"
    assert {"name": "MODEL_VERSION", "value": "2"} in stable["spec"]["template"]["spec"]["containers"][0]["env"]
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 0
    assert objects["Service/customer-churn"]["spec"]["selector"]["mlops-gen.io/track"] == "stable"
    assert _weights(objects) == {"customer-churn-stable": 100, "customer-churn-canary": 0}
    # Stable rolled onto the candidate's image under the rollout's weights (the canary, sized for its 50 %, never
    # carried everything alone); the route moved once, after stable's rollout.
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    started = max(i for i, c in enumerate(calls) if c[:3] == ["get", "deployment", "customer-churn-canary"])
    rolled = max(i for i, c in enumerate(calls) if c[:3] == ["rollout", "status", "deployment/customer-churn-stable"])
    route = "httproute.gateway.networking.k8s.io"
    assert not [c for c in calls[started:rolled] if c[:2] == ["patch", route]]
    (flip,) = [c for c in calls[rolled:] if c[:2] == ["patch", route]]
    assert [op["value"] for op in json.loads(flip[flip.index("-p") + 1]) if op["op"] == "add"] == [100, 0]


def test_aks_first_release_promotion_needs_the_manifests(churn: Path, tmp_path: Path, kube: dict[str, str]) -> None:
    _deploy(churn, kube, tmp_path, "1", "10")
    with pytest.raises(Exception, match="pass --manifests"):
        _promote(churn, kube)


def _rollback(churn: Path, kube: dict[str, str], tmp_path: Path, candidate: str) -> None:
    _script(churn, "src/deployment/rollback.py", kube, "--target", "aks", "--endpoint-name",
            "customer-churn-production", "--stable-deployment", "customer-churn-stable", "--candidate-deployment",
            candidate, "--namespace", "ml-models", "--endpoint-file", str(tmp_path / "endpoint.json"))


def test_aks_rollback_of_a_first_canary_release_leaves_nothing_serving(churn: Path, tmp_path: Path,
                                                                       kube: dict[str, str]) -> None:
    _deploy(churn, kube, tmp_path, "1", "25")
    _rollback(churn, kube, tmp_path, "customer-churn-canary")
    objects = _objects(kube)
    assert "Deployment/customer-churn-stable" not in objects
    assert objects["Deployment/customer-churn-canary"]["spec"]["replicas"] == 0
    assert objects["Service/customer-churn"]["spec"]["selector"] == {"app.kubernetes.io/name": "customer-churn",
                                                                     "mlops-gen.io/track": "stable"}
    assert _weights(objects) == {"customer-churn-stable": 100, "customer-churn-canary": 0}


def test_aks_rollback_of_a_first_in_place_release_removes_it(churn: Path, tmp_path: Path,
                                                             kube: dict[str, str]) -> None:
    """`kubectl rollout undo` of a Deployment with one revision fails ("no rollout history found"), so a first
    rolling or direct release is removed instead."""
    info = _deploy(churn, kube, tmp_path, "1", "100", deployment="customer-churn-stable")
    assert info["first_release"] is True
    _rollback(churn, kube, tmp_path, "customer-churn-stable")
    assert "Deployment/customer-churn-stable" not in _objects(kube)
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    assert not [call for call in calls if call[:2] == ["rollout", "undo"]]


# ----- Azure ML managed online endpoint: traffic logic against a fake MLClient -----

class _Poller:
    def __init__(self, value: Any = None) -> None:
        self.value = value

    def result(self) -> Any:
        return self.value


class _Entity:
    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


class _NotFound(Exception):
    pass


class _FakeAzureML:
    """online_endpoints / online_deployments of an MLClient, keeping endpoints and deployments in dicts."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Any] = {}
        self.deployments: dict[str, Any] = {}
        self.log: list[str] = []
        self.online_endpoints = _Entity(get=self._get_endpoint, begin_create_or_update=self._put_endpoint)
        self.online_deployments = _Entity(get=self._get_deployment, begin_create_or_update=self._put_deployment,
                                          begin_delete=self._delete_deployment)

    def _get_endpoint(self, name: str) -> Any:
        if name not in self.endpoints:
            raise _NotFound(name)
        return self.endpoints[name]

    def _put_endpoint(self, endpoint: Any) -> _Poller:
        endpoint.scoring_uri = f"https://{endpoint.name}.westeurope.inference.ml.azure.com/score"
        endpoint.__dict__.setdefault("traffic", {})
        # "Percentage of traffic from endpoint to divert to each deployment. Traffic values need to sum to 100."
        # (OnlineEndpointProperties.traffic, Azure ML REST API 2024-04-01): a split naming an unknown deployment,
        # or summing to anything else, is refused.
        traffic = dict(endpoint.traffic)
        if traffic and (sum(traffic.values()) != 100 or not set(traffic) <= set(self.deployments)):
            raise ValueError(f"invalid traffic {traffic} for deployments {sorted(self.deployments)}")
        self.endpoints[endpoint.name] = endpoint
        self.log.append(f"traffic {dict(endpoint.traffic)}")
        return _Poller(endpoint)

    def _get_deployment(self, name: str, endpoint_name: str) -> Any:
        if name not in self.deployments:
            raise _NotFound(name)
        return self.deployments[name]

    def _put_deployment(self, deployment: Any) -> _Poller:
        self.deployments[deployment.name] = deployment
        self.log.append(f"deploy {deployment.name} {deployment.environment.image}")
        return _Poller(deployment)

    def _delete_deployment(self, name: str, endpoint_name: str) -> _Poller:
        del self.deployments[name]
        self.log.append(f"delete {name}")
        return _Poller()


@pytest.fixture()
def azureml(churn: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The generated azureml_target with azure.ai.ml.entities and azure.core.exceptions stubbed."""
    entities = ModuleType("azure.ai.ml.entities")
    for name in ("DataCollector", "DeploymentCollection", "Environment", "ManagedOnlineDeployment",
                 "ManagedOnlineEndpoint", "OnlineRequestSettings", "ProbeSettings"):
        setattr(entities, name, _Entity)
    exceptions = ModuleType("azure.core.exceptions")
    exceptions.ResourceNotFoundError = _NotFound  # type: ignore[attr-defined]
    for name, module in (("azure", ModuleType("azure")), ("azure.ai", ModuleType("azure.ai")),
                         ("azure.ai.ml", ModuleType("azure.ai.ml")), ("azure.ai.ml.entities", entities),
                         ("azure.core", ModuleType("azure.core")), ("azure.core.exceptions", exceptions)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.syspath_prepend(str(churn / "src/deployment"))
    module = _load(churn / "src/deployment/azureml_target.py", "generated_azureml_target")
    for name in helper_modules():
        monkeypatch.delitem(sys.modules, name, raising=False)
    return module


def test_azureml_canary_then_promotion(azureml: ModuleType) -> None:
    client = _FakeAzureML()

    def deploy(image: str, version: str, percentage: int) -> dict[str, Any]:
        result: dict[str, Any] = azureml.deploy(client, "churn-prod", "stable", "canary", "canary", image, version,
                                                "customer-churn", "Standard_DS3_v2", 1, percentage, {})
        return result

    first = deploy("acr.io/churn:1", "1", 10)  # an empty endpoint: the candidate alone takes all traffic
    assert first["deployment"] == "canary" and first["traffic"] == {"canary": 100} and first["first_release"]
    assert first["auth"] == "aad" and first["url"].endswith("/score")
    assert azureml.promote(client, "churn-prod", "stable", "canary", "customer-churn") == "1"
    assert set(client.deployments) == {"stable"} and client.endpoints["churn-prod"].traffic == {"stable": 100}
    canary = deploy("acr.io/churn:2", "2", 10)
    assert canary["traffic"] == {"stable": 90, "canary": 10} and not canary["first_release"]
    assert client.endpoints["churn-prod"].traffic == {"stable": 90, "canary": 10}
    deploy("acr.io/churn:2", "2", 50)  # the same image: only the traffic moves
    assert client.log.count("deploy canary acr.io/churn:2") == 1
    assert azureml.promote(client, "churn-prod", "stable", "canary", "customer-churn") == "2"
    assert client.deployments["stable"].environment.image == "acr.io/churn:2"
    assert "canary" not in client.deployments
    assert client.endpoints["churn-prod"].traffic == {"stable": 100}
    # While stable was replaced, all traffic was on the verified canary.
    assert client.log.index("traffic {'stable': 0, 'canary': 100}") < client.log.index("deploy stable acr.io/churn:2")


def test_azureml_deployments_collect_production_data(azureml: ModuleType) -> None:
    """Every deployment is created with the data collector the model monitor reads (issue 12 item 9), and a
    deployment that runs the right image without one is updated rather than skipped."""
    client = _FakeAzureML()
    azureml.deploy(client, "churn-prod", "stable", "canary", "stable", "acr.io/churn:1", "1", "customer-churn",
                   "Standard_DS3_v2", 1, 100, {})
    collections = client.deployments["stable"].data_collector.collections
    assert {name: item.enabled for name, item in collections.items()} == {"model_inputs": "true",
                                                                          "model_outputs": "true"}
    client.deployments["stable"].data_collector = None  # created before data collection was wired
    azureml.upsert_deployment(client, "churn-prod", "stable", "acr.io/churn:1", "1", "customer-churn",
                              "Standard_DS3_v2", 1)
    assert client.log.count("deploy stable acr.io/churn:1") == 2
    assert client.deployments["stable"].data_collector is not None
    azureml.upsert_deployment(client, "churn-prod", "stable", "acr.io/churn:1", "1", "customer-churn",
                              "Standard_DS3_v2", 1)
    assert client.log.count("deploy stable acr.io/churn:1") == 2  # now up to date: skipped


def test_azureml_rollback_returns_all_traffic_to_stable(azureml: ModuleType) -> None:
    client = _FakeAzureML()
    azureml.deploy(client, "churn-prod", "stable", "canary", "stable", "acr.io/churn:1", "1", "customer-churn",
                   "Standard_DS3_v2", 1, 100, {})
    azureml.deploy(client, "churn-prod", "stable", "canary", "canary", "acr.io/churn:2", "2", "customer-churn",
                   "Standard_DS3_v2", 1, 25, {})
    azureml.rollback(client, "churn-prod", "stable", "canary")
    assert client.endpoints["churn-prod"].traffic == {"stable": 100}
    assert set(client.deployments) == {"stable"}
    assert client.deployments["stable"].environment.image == "acr.io/churn:1"


def test_azureml_rollback_of_a_first_release_leaves_nothing_serving(azureml: ModuleType) -> None:
    client = _FakeAzureML()
    first = azureml.deploy(client, "churn-prod", "stable", "canary", "canary", "acr.io/churn:1", "1",
                           "customer-churn", "Standard_DS3_v2", 1, 10, {})
    assert first["first_release"]
    azureml.rollback(client, "churn-prod", "stable", "canary")
    assert client.deployments == {} and client.endpoints["churn-prod"].traffic == {}


def test_azureml_in_place_rollback_restores_the_previous_image(azureml: ModuleType) -> None:
    """Rolling and direct releases update the stable deployment in place: deploy() records what it replaced and
    rollback() puts it back; with nothing before (a first release) the deployment is removed."""
    client = _FakeAzureML()
    first = azureml.deploy(client, "churn-prod", "stable", "canary", "stable", "acr.io/churn:1", "1",
                           "customer-churn", "Standard_DS3_v2", 1, 100, {})
    assert first["previous"] is None
    second = azureml.deploy(client, "churn-prod", "stable", "canary", "stable", "acr.io/churn:2", "2",
                            "customer-churn", "Standard_DS3_v2", 1, 100, {})
    assert second["previous"]["image"] == "acr.io/churn:1" and second["previous"]["version"] == "1"
    azureml.rollback(client, "churn-prod", "stable", "stable", second["previous"], "customer-churn")
    assert client.deployments["stable"].environment.image == "acr.io/churn:1"
    assert client.deployments["stable"].tags["model_version"] == "1"
    azureml.rollback(client, "churn-prod", "stable", "stable", first["previous"], "customer-churn")
    assert client.deployments == {}


# ----- ACI through the Azure CLI, against a fake az -----

@pytest.fixture()
def aci_env(tmp_path: Path) -> dict[str, str]:
    """Environment whose PATH finds a fake az keeping container groups in tmp_path/az.json."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "az"
    fake.write_text(f"#!{sys.executable}\n" + (FAKES / "az.py").read_text(encoding="utf-8"), encoding="utf-8")
    fake.chmod(0o755)
    env = _clean_env()
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", FAKE_AZ_STATE=str(tmp_path / "az.json"),
               ACI_ACR_IDENTITY="/subscriptions/0/resourceGroups/rg/providers/id/aci-pull")
    return env


def test_aci_deploy_and_rollback(trees: dict[str, Path], tmp_path: Path, aci_env: dict[str, str]) -> None:
    folder = trees["azure-direct"]  # environments dev and prod on ACI
    env = aci_env
    version_file = tmp_path / "model-version.json"
    version_file.write_text(json.dumps({"version": "3"}), encoding="utf-8")
    endpoint = tmp_path / "endpoint.json"
    for deployment in ("azure-direct-dev", "azure-direct-dev-canary"):
        _script(folder, "src/deployment/deploy.py", env, "--target", "aci", "--environment", "dev",
                "--model-name", "azure-direct", "--version-file", str(version_file), "--endpoint-name",
                "azure-direct-dev", "--image", "acrmlops.azurecr.io/azure-direct:3", "--deployment-name", deployment,
                "--location", "westeurope", "--resource-group", "rg-mlops", "--output", str(endpoint))
    info = json.loads(endpoint.read_text(encoding="utf-8"))
    assert info["url"] == "http://azure-direct-dev-canary.westeurope.azurecontainer.io:8080/predict"
    groups = json.loads((tmp_path / "az.json").read_text(encoding="utf-8"))["groups"]
    assert set(groups) == {"azure-direct-dev", "azure-direct-dev-canary"}
    create = next(call for call in json.loads((tmp_path / "az.json").read_text(encoding="utf-8"))["calls"]
                  if call[:2] == ["container", "create"])
    assert "--acr-identity" in create and "--registry-password" not in create  # identity, never a password
    _script(folder, "src/deployment/rollback.py", env, "--target", "aci", "--endpoint-name", "azure-direct-dev",
            "--stable-deployment", "azure-direct-dev", "--candidate-deployment", "azure-direct-dev-canary",
            "--resource-group", "rg-mlops")
    groups = json.loads((tmp_path / "az.json").read_text(encoding="utf-8"))["groups"]
    assert set(groups) == {"azure-direct-dev"}


def test_aci_in_place_rollback_restores_the_container_group_it_replaced(trees: dict[str, Path], tmp_path: Path,
                                                                        aci_env: dict[str, str]) -> None:
    """ACI keeps no revisions: deploy.py records the group it replaces, rollback.py creates it again; a first
    release is deleted."""
    folder = trees["azure-direct"]
    env = aci_env
    version_file = tmp_path / "model-version.json"
    endpoint = tmp_path / "endpoint.json"

    def deploy(version: str) -> dict[str, Any]:
        version_file.write_text(json.dumps({"version": version}), encoding="utf-8")
        _script(folder, "src/deployment/deploy.py", env, "--target", "aci", "--environment", "dev",
                "--model-name", "azure-direct", "--version-file", str(version_file), "--endpoint-name",
                "azure-direct-dev", "--image", f"acrmlops.azurecr.io/azure-direct:{version}", "--deployment-name",
                "azure-direct-dev", "--location", "westeurope", "--resource-group", "rg-mlops",
                "--output", str(endpoint))
        info: dict[str, Any] = json.loads(endpoint.read_text(encoding="utf-8"))
        return info

    def rollback() -> dict[str, Any]:
        _script(folder, "src/deployment/rollback.py", env, "--target", "aci", "--endpoint-name", "azure-direct-dev",
                "--stable-deployment", "azure-direct-dev", "--candidate-deployment", "azure-direct-dev",
                "--resource-group", "rg-mlops", "--endpoint-file", str(endpoint))
        groups: dict[str, Any] = json.loads((tmp_path / "az.json").read_text(encoding="utf-8"))["groups"]
        return groups

    assert deploy("1")["first_release"] is True
    assert rollback() == {}
    deploy("1")
    second = deploy("2")
    assert second["previous"]["image"] == "acrmlops.azurecr.io/azure-direct:1"
    groups = rollback()
    container = groups["azure-direct-dev"]["containers"][0]
    assert container["image"] == "acrmlops.azurecr.io/azure-direct:1"
    assert {"name": "MODEL_VERSION", "value": "1"} in container["environmentVariables"]


def test_local_server_bounds_threads_and_times_out_stalled_clients(app_module: ModuleType) -> None:
    """Issue 13 item 12: stalled connections neither hold a thread each nor hold one forever; a burst waits in a
    listen backlog larger than socketserver's 5."""
    import socket

    httpd = app_module.bounded_server(app_module.ScoringApp(StubModel()), "127.0.0.1", 0, threads=2, timeout=0.2)
    assert httpd.request_queue_size == 128 == app_module.SERVER_BACKLOG
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    before = threading.active_count()
    stalled = [socket.create_connection(("127.0.0.1", httpd.server_port)) for _ in range(8)]
    try:
        body = json.dumps({"records": [{"a": 1}]}).encode()
        # Stalled clients hold no request thread: a normal request is answered while they stall.
        assert _call(f"http://127.0.0.1:{httpd.server_port}/predict", "POST", body)[0] == 200
        assert threading.active_count() <= before + 2
        closed = 0
        for conn in stalled:  # the server closed every stalled connection it read from (timed out)
            conn.settimeout(20)
            closed += conn.recv(1) == b""
        assert closed == len(stalled)
    finally:
        for conn in stalled:
            conn.close()
        httpd.shutdown()
        httpd.server_close()


def test_local_serving_uses_gunicorn_with_the_images_limits_when_installed(app_module: ModuleType) -> None:
    server = app_module._gunicorn_app(app_module.ScoringApp(StubModel()), "127.0.0.1", 8080)
    assert (server.cfg.workers, server.cfg.threads, server.cfg.timeout, server.cfg.backlog) == (1, 8, 30, 128)
    assert server.cfg.worker_class_str == "gthread" and server.load().__class__.__name__ == "ScoringApp"


# ----- the rollout monitor on AKS: every request the candidate's pods answered -----

LABELS = {track: {"app.kubernetes.io/name": "customer-churn", "mlops-gen.io/track": track}
          for track in ("stable", "canary")}


def _record(message: str) -> str:
    """A log record as the app's formatter writes it (serving/access_log.py FORMAT)."""
    return f"2000-01-01 00:00:00,000 INFO {message}"


def _pod_log(track: str, pods: int, messages: list[str], start: int = 0) -> list[dict[str, Any]]:
    """Lines of each pod at increasing instants from year 2999 (after any window start), fractions trimmed as Go
    prints them."""
    entries = []
    for pod in range(pods):
        for index, message in enumerate(messages, start=start):
            fraction = f".{index % 10}" if index % 10 else ""
            stamp = f"2999-01-01T{index // 36000:02d}:{index // 600 % 60:02d}:{index // 10 % 60:02d}{fraction}Z"
            entries.append({"pod": f"customer-churn-{track}-{pod}", "time": stamp, "line": _record(message)})
    return entries


def _pods(track: str, count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": f"customer-churn-{track}-{pod}", "labels": LABELS[track], **extra} for pod in range(count)]


def _monitor_on_aks(churn: Path, kube: dict[str, str], server: str, tmp_path: Path, logs: list[dict[str, Any]],
                    pods: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    deployments = {f"Deployment/customer-churn-{track}": {
        "kind": "Deployment", "metadata": {"name": f"customer-churn-{track}"},
        "spec": {"replicas": 2, "selector": {"matchLabels": LABELS[track]}}} for track in LABELS}
    Path(kube["FAKE_KUBE_STATE"]).write_text(json.dumps(
        {"objects": deployments, "calls": [], "logs": logs, "pods": pods}), encoding="utf-8")
    endpoint = tmp_path / "endpoint.json"
    endpoint.write_text(json.dumps({
        "target": "aks", "deployment": "customer-churn-canary", "url": "http://customer-churn.ml-models/predict",
        "traffic": {"customer-churn-stable": 90, "customer-churn-canary": 10},
        "kubernetes": {"namespace": "ml-models", "service": "customer-churn", "port": 80}}), encoding="utf-8")
    report = tmp_path / "monitor.json"
    env = {**kube, "FAKE_FORWARD_PORT": server.rsplit(":", 1)[1]}
    result = subprocess.run(
        [sys.executable, str(churn / "src/deployment/monitor_deployment.py"), "--backend", "azure",
         "--endpoint-file", str(endpoint), "--duration-seconds", "2", "--interval-seconds", "1",
         "--max-error-rate", "0.05", "--max-latency-ms", "500", "--baseline-deployment", "customer-churn-stable",
         "--output", str(report)], cwd=churn, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert report.exists(), result.stdout + result.stderr
    return result.returncode, json.loads(report.read_text(encoding="utf-8"))


OK = "access POST /predict 200 12.0ms"
FAILED = "access POST /predict 500 3.0ms"


def test_the_monitor_counts_every_request_the_canary_pods_answered(churn: Path, kube: dict[str, str], server: str,
                                                                  tmp_path: Path) -> None:
    """The probes all succeed, but the canary's pods answered 1 in 6 of their real requests with a 500: the
    monitor fails the step. Lines before the window, health checks and a pod still starting do not count."""
    logs = [*_pod_log("canary", 2, [OK] * 100 + [FAILED] * 20),
            *[{**entry, "time": "2000-01-01T00:00:00Z"} for entry in _pod_log("canary", 2, [FAILED] * 50)],
            *_pod_log("canary", 2, ["access GET /health 200 0.4ms"] * 30, start=200),
            *_pod_log("stable", 3, [OK] * 100)]
    pods = [*_pods("canary", 2), *_pods("canary", 1, name="customer-churn-canary-new", started=False),
            *_pods("stable", 3)]
    code, report = _monitor_on_aks(churn, kube, server, tmp_path, logs, pods)
    assert code == 1
    assert report["candidate"]["requests"] == 240 and report["candidate"]["errors"] == 40
    assert report["candidate"]["pods"] == 3 and report["candidate"]["unreadable_pods"] == []
    assert report["candidate"]["probes"] == 10  # one burst: the window's error budget was spent at once
    assert report["baseline"]["requests"] == 300
    assert report["reasons"] == ["error rate 16.67% > 5.00%"]
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    reads = [c for c in calls if c[0] == "logs"]
    assert reads and all("--tail=-1" in c and "--timestamps" in c and any(a.startswith("--since-time=") for a in c)
                         for c in reads)
    assert not [c for c in reads if c[1] == "customer-churn-canary-new"]  # not started: nothing to read yet


def test_the_monitor_reads_each_line_once_across_samples(churn: Path, kube: dict[str, str], server: str,
                                                         tmp_path: Path) -> None:
    """Two samples: the second read starts at the last line's instant (kubectl repeats it) and counts nothing
    twice, whatever the fraction digits Go trimmed."""
    logs = [*_pod_log("canary", 2, [OK] * 60), *_pod_log("stable", 2, [OK] * 200)]
    code, report = _monitor_on_aks(churn, kube, server, tmp_path, logs, [*_pods("canary", 2), *_pods("stable", 2)])
    assert code == 0, report
    assert report["candidate"]["requests"] == 120 and report["candidate"]["p95_latency_ms"] == 12.0
    calls = json.loads(Path(kube["FAKE_KUBE_STATE"]).read_text(encoding="utf-8"))["calls"]
    second = [c for c in calls if c[:2] == ["logs", "customer-churn-canary-0"]][1]
    assert "--since-time=2999-01-01T00:00:05.9Z" in second  # the 60th line's instant


def test_the_monitor_fails_a_canary_whose_pods_restart(churn: Path, kube: dict[str, str], server: str,
                                                       tmp_path: Path) -> None:
    """A crashing pod logs nothing about the requests it dropped: its restarts fail the step."""
    logs = [*_pod_log("canary", 1, [OK] * 50), *_pod_log("stable", 1, [OK] * 50)]
    pods = [*_pods("canary", 1, restarts=1, restarts_later=3), *_pods("stable", 1, restarts=4)]
    code, report = _monitor_on_aks(churn, kube, server, tmp_path, logs, pods)
    assert code == 1
    assert report["candidate"]["restarts"] == 2
    assert report["reasons"] == ["the candidate's pods restarted 2 times in the window (requests they held were "
                                 "lost without a log line)"]


def test_a_pod_gone_since_the_listing_does_not_fail_the_read(churn: Path, kube: dict[str, str], server: str,
                                                             tmp_path: Path) -> None:
    """An autoscaler removes pods while the canary takes traffic: a listed pod whose log is gone is reported,
    not fatal (kubectl logs --selector would have failed as a whole)."""
    logs = [*_pod_log("canary", 1, [OK] * 50), *_pod_log("stable", 1, [OK] * 50)]
    pods = [*_pods("canary", 1), *_pods("canary", 1, name="customer-churn-canary-gone", gone=True),
            *_pods("stable", 1)]
    code, report = _monitor_on_aks(churn, kube, server, tmp_path, logs, pods)
    assert code == 0, report
    assert report["candidate"]["requests"] == 50
    assert report["candidate"]["unreadable_pods"] == ["customer-churn-canary-gone"]


def test_the_monitor_fails_a_canary_that_refuses_what_stable_accepts(churn: Path, kube: dict[str, str],
                                                                    server: str, tmp_path: Path) -> None:
    """A new version whose input schema drifted answers real callers 400: not a server error, still a broken
    release, seen against the stable pods' share of client errors."""
    refused = "access POST /predict 400 1.0ms"
    logs = [*_pod_log("canary", 1, [OK] * 70 + [refused] * 30), *_pod_log("stable", 2, [OK] * 99 + [refused])]
    code, report = _monitor_on_aks(churn, kube, server, tmp_path, logs, [*_pods("canary", 1), *_pods("stable", 2)])
    assert code == 1
    assert report["reasons"] == ["client errors 30.00% against the baseline's 1.00%: the candidate refuses "
                                 "requests the stable version accepts"]


def test_every_answer_leaves_one_readable_access_line(app_module: ModuleType, caplog: pytest.LogCaptureFixture) -> None:
    """What the app writes is what the monitor parses (one format, serving/access_log.py), whatever the client
    sent: a path with odd bytes stays on its line, and a value the model's error quotes cannot forge a request
    line (every record is one physical line)."""
    import logging

    from serving import access_log  # the generated module app_module imported

    class Refusing:
        def predict(self, records: list[dict[str, Any]]) -> list[Any]:
            raise ValueError("could not convert 'x\n2000-01-01 00:00:00,000 INFO access POST /predict 500 1.0ms\n'")

    formatter = access_log.OneLineFormatter(access_log.FORMAT)
    body = json.dumps({"records": [{"a": 1}]}).encode()
    requests = [(StubModel(), "POST", "/predict", body), (StubModel(), "GET", "/health", b""),
                (StubModel(), "GET", "/odd path\x1b[31m", b""), (Refusing(), "POST", "/predict", body)]
    with caplog.at_level(logging.INFO, logger="serving"):
        for model, method, path, data in requests:
            app = app_module.ScoringApp(model, max_records=50, max_body_bytes=20_000)
            environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_TYPE": "application/json",
                       "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
            app(environ, lambda status, headers: None)
    lines = "\n".join(formatter.format(record) for record in caplog.records).splitlines()
    assert len(lines) == len(caplog.records)  # one physical line per record
    parsed = [access for access in map(access_log.parse_line, lines) if access]
    assert [(a.method, a.path, a.status) for a in parsed] == [
        ("POST", "/predict", 200), ("GET", "/health", 200), ("GET", "/odd?path?[31m", 404), ("POST", "/predict", 400)]
