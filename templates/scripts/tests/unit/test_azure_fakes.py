"""The Azure- and Kubernetes-facing code paths with stand-ins: fake `az` and `kubectl` executables on PATH, and
the azure-ai-ml entity classes replaced by recording stubs (pipelines run the real ones)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest

from common import backend
from serving import app as scoring
from serving import client

FAKE_AZ = """#!/bin/sh
case "$*" in
  "account show"*) echo 00000000-0000-0000-0000-000000000001 ;;
  "account get-access-token"*) echo token-from-az ;;
  "aks get-credentials"*) : ;;
  *) echo "unexpected az $*" >&2; exit 3 ;;
esac
"""


def _executable(folder: Path, name: str, text: str) -> None:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def fake_bin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    _executable(folder, "az", FAKE_AZ)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")  # the fakes, and sh and sleep for them
    return folder


class Recorded:
    """Stands in for an azure-ai-ml entity class: keeps its constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.__dict__.update(kwargs)


class NotFound(Exception):
    pass


@pytest.fixture
def azure_stubs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """azure.ai.ml(.entities), azure.identity and azure.core.exceptions as stubs; returns azure.ai.ml."""
    ml, entities, identity, exceptions, constants = (ModuleType(name) for name in (
        "azure.ai.ml", "azure.ai.ml.entities", "azure.identity", "azure.core.exceptions", "azure.ai.ml.constants"))
    ml.MLClient = Recorded  # type: ignore[attr-defined]
    ml.Input = Recorded  # type: ignore[attr-defined]
    constants.MonitorDatasetContext = Recorded(TRAINING="training")  # type: ignore[attr-defined]
    identity.DefaultAzureCredential = Recorded  # type: ignore[attr-defined]
    exceptions.ResourceNotFoundError = NotFound  # type: ignore[attr-defined]
    entities.__getattr__ = lambda name: Recorded  # type: ignore[method-assign]
    for name, module in (("azure", ModuleType("azure")), ("azure.ai", ModuleType("azure.ai")), ("azure.ai.ml", ml),
                         ("azure.ai.ml.entities", entities), ("azure.identity", identity),
                         ("azure.ai.ml.constants", constants),
                         ("azure.core", ModuleType("azure.core")), ("azure.core.exceptions", exceptions)):
        monkeypatch.setitem(sys.modules, name, module)
    return ml


def _args(*argv: str) -> argparse.Namespace:
    return backend.add_common_arguments(argparse.ArgumentParser()).parse_args(list(argv))


def test_ml_client_takes_the_subscription_from_the_azure_cli(azure_stubs: ModuleType, fake_bin: Path) -> None:
    made = backend.ml_client(_args("--backend", "azure", "--resource-group", "rg", "--workspace", "ws"))
    assert made.args[1:] == ("00000000-0000-0000-0000-000000000001", "rg", "ws")
    with pytest.raises(backend.ScriptError, match="--resource-group, --workspace"):
        backend.ml_client(_args("--backend", "azure", "--subscription-id", "s"))


def test_no_azure_cli_means_no_subscription(azure_stubs: ModuleType, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(backend.ScriptError, match="--subscription-id"):
        backend.ml_client(_args("--backend", "azure", "--resource-group", "rg", "--workspace", "ws"))


class FakeWorkspace:
    """online_endpoints.get and schedules.begin_create_or_update of an MLClient."""

    def __init__(self, endpoints: dict[str, dict[str, int]]) -> None:
        self.created: list[Any] = []
        self.workspace_name = "ws"
        self.online_endpoints = Recorded(get=self._endpoint)
        self.schedules = Recorded(begin_create_or_update=self._create)
        self.data = Recorded(get=self._data)
        self.endpoints = endpoints

    def _data(self, name: str, version: str | None = None, label: str | None = None) -> Any:
        if name != "train":
            raise NotFound(name)
        return Recorded(name=name, version="4" if label == "latest" else version, type="mltable")

    def _endpoint(self, name: str) -> Any:
        if name not in self.endpoints:
            raise NotFound(name)
        return Recorded(traffic=self.endpoints[name])

    def _create(self, schedule: Any) -> Any:
        self.created.append(schedule)
        return Recorded(result=lambda: schedule)


@pytest.mark.parametrize("method", ["psi", "ks"])
def test_configure_monitoring_schedules_a_drift_monitor_on_the_live_deployment(
        azure_stubs: ModuleType, scripts: Any, monkeypatch: pytest.MonkeyPatch, method: str) -> None:
    module = scripts("monitoring/configure_monitoring.py")
    workspace = FakeWorkspace({"ep": {"blue": 10, "green": 90}, "empty": {}})
    monkeypatch.setattr(module, "ml_client", lambda args, registry=False: workspace)
    flags = ["--model-name", "m", "--method", method, "--threshold", "0.2", "--schedule", "0 6 * * *",
             "--backend", "azure", "--reference-data", "azureml:train:latest", "--target", "label"]
    assert module.main(["--endpoint-name", "ep", "--alert-email", "a@example.com", *flags]) == 0
    (schedule,) = workspace.created
    assert schedule.name == "ep-drift" and schedule.tags == {"model": "m"}
    target = schedule.create_monitor.monitoring_target.endpoint_deployment_id
    assert target == "azureml:ep:green"  # the deployment taking most traffic
    assert schedule.create_monitor.alert_notification.emails == ["a@example.com"]
    (signal,) = schedule.create_monitor.monitoring_signals.values()
    reference = signal.reference_data  # the training data, not the collected inputs the SDK would default to
    assert (reference.input_data.path, reference.data_context) == ("azureml:train:4", "training")
    assert reference.data_column_names == {"target_column": "label"}
    assert module.main(["--endpoint-name", "empty", *flags]) == 2
    assert module.main(["--endpoint-name", "absent", *flags]) == 2
    missing = [*flags[:-4], "--reference-data", "azureml:other:1"]
    assert module.main(["--endpoint-name", "ep", *missing]) == 2
    assert len(workspace.created) == 1


def test_endpoint_token_comes_from_the_azure_cli(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINT_TOKEN", raising=False)
    endpoint = client.Endpoint("https://e/score", auth="aad")
    assert endpoint._auth_headers() == {"Authorization": "Bearer token-from-az"}
    _executable(fake_bin, "az", "#!/bin/sh\nexit 1\n")
    with pytest.raises(RuntimeError, match="get-access-token failed"):
        client.Endpoint("https://e/score", auth="aad")._auth_headers()


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Constant:
    def predict(self, records: list[dict[str, Any]]) -> list[Any]:
        return [1] * len(records)


@pytest.fixture
def served() -> Iterator[int]:
    server = make_server("127.0.0.1", 0, scoring.ScoringApp(_Constant()), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()


def test_aks_endpoints_are_reached_through_kubectl_port_forward(fake_bin: Path, served: int, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake kubectl 'forwards' to the app served on 127.0.0.1 and records its arguments."""
    calls = tmp_path / "kubectl.args"
    _executable(fake_bin, "kubectl", f'#!/bin/sh\necho "$*" > {calls}\n'
                                     f'echo "Forwarding from 127.0.0.1:{served} -> 8080"\nexec sleep 60\n')
    monkeypatch.delenv("ENDPOINT_IN_CLUSTER", raising=False)
    monkeypatch.delenv("ENDPOINT_URL", raising=False)
    info = {"target": "aks", "url": "http://svc/predict", "kubernetes": {
        "namespace": "ml", "service": "model", "port": 80, "cluster": "aks1", "resource_group": "rg"}}
    endpoint_file = tmp_path / "endpoint.json"
    endpoint_file.write_text(json.dumps(info), encoding="utf-8")
    with client.open_endpoint(str(endpoint_file), "model-canary") as endpoint:
        reply = endpoint.predict([{"a": 1}, {"a": 2}])
    assert reply.ok and reply.body == [{"prediction": 1}, {"prediction": 1}]
    forwarded = calls.read_text(encoding="utf-8").split()
    assert forwarded[0] == "--kubeconfig" and forwarded[1].endswith("kubeconfig")  # fresh AKS credentials
    assert "service/model-canary" in forwarded and "ml" in forwarded
    _executable(fake_bin, "kubectl", "#!/bin/sh\necho 'error: no such service' >&2\nexit 1\n")
    with pytest.raises(RuntimeError, match="no such service"), client.open_endpoint(str(endpoint_file)):
        pass


def test_main_serves_with_gunicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    """`python src/serving/app.py`: the model loads and gunicorn (requirements.txt, as in the image) serves it on
    the given address with the image's limits."""
    from gunicorn.app.base import BaseApplication

    loaded: list[str] = []
    served: list[dict[str, Any]] = []

    class Loaded(_Constant):
        def __init__(self, uri: str) -> None:
            loaded.append(uri)

    def run(self: Any) -> None:  # gunicorn's arbiter would fork and serve until a signal
        served.append({"bind": self.cfg.bind, "workers": self.cfg.workers, "threads": self.cfg.threads,
                       "app": type(self.load()).__name__})

    monkeypatch.setattr(scoring, "MlflowModel", Loaded)
    monkeypatch.setattr(BaseApplication, "run", run)
    assert scoring.main(["--model-uri", "models:/m/1", "--host", "127.0.0.1", "--port", "8181"]) == 0
    assert loaded == ["models:/m/1"]
    assert served == [{"bind": ["127.0.0.1:8181"], "workers": 1, "threads": scoring.SERVER_THREADS,
                       "app": "ScoringApp"}]


def test_main_without_gunicorn_serves_until_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without gunicorn, a bounded standard-library server binds, and Ctrl-C ends it cleanly."""
    from wsgiref.simple_server import WSGIServer

    loaded: list[str] = []

    class Loaded(_Constant):
        def __init__(self, uri: str) -> None:
            loaded.append(uri)

    def interrupted(self: Any, *args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scoring, "MlflowModel", Loaded)
    monkeypatch.setattr(scoring, "_gunicorn_app", lambda app, host, port: None)
    monkeypatch.setattr(WSGIServer, "serve_forever", interrupted)
    assert scoring.main(["--model-uri", "models:/m/1", "--port", "0"]) == 0
    assert loaded == ["models:/m/1"]


class FakeContainer:
    """azure.storage.blob.ContainerClient over a dict of blob name -> bytes."""

    blobs: dict[str, bytes] = {}
    opened: list[tuple[str, str]] = []

    def __init__(self, account_url: str, container: str, credential: Any) -> None:
        self.opened.append((account_url, container))

    def list_blobs(self, name_starts_with: str) -> list[Any]:
        return [Recorded(name=name) for name in sorted(self.blobs) if name.startswith(name_starts_with)]

    def download_blob(self, name: str) -> Any:
        return Recorded(readall=lambda: self.blobs[name])


def test_data_assets_download_from_their_datastore(azure_stubs: ModuleType, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blob = ModuleType("azure.storage.blob")
    blob.ContainerClient = FakeContainer  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "azure.storage", ModuleType("azure.storage"))
    monkeypatch.setitem(sys.modules, "azure.storage.blob", blob)
    monkeypatch.setattr(FakeContainer, "blobs", {"data/train/a.csv": b"x,y\n1,2\n", "data/train/sub/b.csv": b"b",
                                                 "data/train/../escape.csv": b"no", "other/c.csv": b"c"})
    monkeypatch.setattr(FakeContainer, "opened", [])
    stores = {"blobstore": Recorded(container_name="data", protocol="https", account_name="acct",
                                    endpoint="core.windows.net"),
              "bare": Recorded(protocol="https", account_name="acct", endpoint="core.windows.net")}
    workspace = Recorded(datastores=Recorded(get=stores.__getitem__))
    monkeypatch.setattr(backend, "ml_client", lambda args, registry=False: workspace)
    args = _args("--backend", "azure")
    path = "azureml://subscriptions/s/resourcegroups/rg/workspaces/ws/datastores/blobstore/paths/data/train/"
    asset = Recorded(path=path, name="train", version="3")
    target = backend.download_data_asset(args, asset, tmp_path / "out")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*.csv")) == ["a.csv", "sub/b.csv"]
    assert (target / "a.csv").read_bytes() == b"x,y\n1,2\n"
    assert FakeContainer.opened == [("https://acct.blob.core.windows.net", "data")]
    with pytest.raises(backend.ScriptError, match="has no files"):
        backend.download_data_asset(args, Recorded(path=path.replace("train/", "none/"), name="n", version="1"),
                                    tmp_path / "empty")
    with pytest.raises(backend.ScriptError, match="not on a workspace datastore"):
        backend.download_data_asset(args, Recorded(path="https://example.com/x.csv", name="n", version="1"),
                                    tmp_path / "x")
    with pytest.raises(backend.ScriptError, match="no blob container"):
        backend.download_data_asset(args, Recorded(path=path.replace("blobstore", "bare"), name="n", version="1"),
                                    tmp_path / "y")
