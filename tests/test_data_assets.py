"""Data asset URIs reach the drift check through the workspace client, never as local paths (issue 12 item 2).

`azureml:<name>:<version>` is how Azure ML names a data asset (learn.microsoft.com/azure/machine-learning/
how-to-read-write-data-v2, "azureml:<data_name>:<version>"; `@latest` for the newest); a local process cannot
open it as a file: `MLClient.data.get(name, version=... | label="latest")` resolves it and the asset's files are
downloaded from its datastore.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tests.template_scripts import load_script

backend = load_script("common/backend.py")


@pytest.fixture()
def workspace(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """A workspace whose data.get answers like DataOperations.get and whose download writes the asset's file."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def get(name: str, **how: Any) -> Any:
        calls.append((name, how))
        return SimpleNamespace(name=name, version=how.get("version") or "9",
                               path=f"azureml://datastores/store/paths/{name}/")

    def download(args: Any, asset: Any, destination: Path, registry: bool = True) -> Path:
        destination.mkdir(parents=True)
        (destination / "data.csv").write_text("a\n1\n", encoding="utf-8")
        return destination

    monkeypatch.setattr(backend, "ml_client",
                        lambda args, registry=False: SimpleNamespace(data=SimpleNamespace(get=get)))
    monkeypatch.setattr(backend, "download_data_asset", download)
    return calls


def _args(backend_name: str = "azure") -> argparse.Namespace:
    return argparse.Namespace(backend=backend_name, workdir=".mlops")


@pytest.mark.parametrize(("uri", "how"), [
    ("azureml:training_dataset:latest", {"label": "latest"}),
    ("azureml:training_dataset@latest", {"label": "latest"}),
    ("azureml:training_dataset", {"label": "latest"}),
    ("azureml:training_dataset:3", {"version": "3"}),
])
def test_an_asset_uri_is_resolved_and_downloaded(uri: str, how: dict[str, Any], tmp_path: Path,
                                                 workspace: list[tuple[str, dict[str, Any]]]) -> None:
    location = backend.table_location(_args(), uri, tmp_path)
    assert workspace == [("training_dataset", how)]
    assert (Path(location) / "data.csv").is_file()


def test_a_path_stays_a_path(tmp_path: Path, workspace: list[tuple[str, dict[str, Any]]]) -> None:
    assert backend.table_location(_args(), "data/reference.csv", tmp_path) == "data/reference.csv"
    assert workspace == []


def test_an_asset_on_the_local_backend_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(backend.ScriptError, match="needs the azure backend"):
        backend.table_location(_args("local"), "azureml:training_dataset:latest", tmp_path)


class _Forbidden(Exception):
    """azure.core.exceptions.HttpResponseError as the blob client raises it without a data-plane role."""

    status_code = 403


def test_a_missing_storage_role_is_named_not_a_raw_403(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def list_blobs(name_starts_with: str) -> Any:
        raise _Forbidden("This request is not authorized to perform this operation using this permission.")

    blob = ModuleType("azure.storage.blob")
    blob.ContainerClient = lambda *a, **k: SimpleNamespace(list_blobs=list_blobs)  # type: ignore[attr-defined]
    identity = ModuleType("azure.identity")
    identity.DefaultAzureCredential = lambda: object()  # type: ignore[attr-defined]
    for name, module in (("azure", ModuleType("azure")), ("azure.storage", ModuleType("azure.storage")),
                         ("azure.storage.blob", blob), ("azure.identity", identity)):
        monkeypatch.setitem(sys.modules, name, module)
    store = SimpleNamespace(container_name="data", protocol="https", account_name="stmlprod",
                            endpoint="core.windows.net")
    monkeypatch.setattr(backend, "ml_client", lambda args, registry=False: SimpleNamespace(
        datastores=SimpleNamespace(get=lambda name: store)))
    asset = SimpleNamespace(name="training", version="3", path="azureml://datastores/store/paths/training/")
    with pytest.raises(backend.ScriptError, match="assign it 'Storage Blob Data Reader' there") as caught:
        backend.download_data_asset(_args(), asset, tmp_path / "out")
    assert "stmlprod" in str(caught.value)
