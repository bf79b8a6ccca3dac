"""src/preflight/check_access.py: Azure RBAC's rule on permission entries, and each missing role named."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

SCIENTIST = {"actions": ["Microsoft.MachineLearningServices/workspaces/*/write"],
             "notActions": ["Microsoft.MachineLearningServices/workspaces/write"]}
BLOB_READER = {"dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]}


@pytest.fixture
def preflight(scripts: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    module = scripts("preflight/check_access.py")
    held: dict[str, list[dict[str, Any]] | None] = {}
    module.held = held
    monkeypatch.setattr(module, "_token", lambda: "token")
    monkeypatch.setattr(module, "permissions_at", lambda scope, token: held.get(scope, []))
    client = SimpleNamespace(subscription_id="sub", workspace_name="ws",
                             workspaces=SimpleNamespace(get=lambda name: SimpleNamespace(storage_account="/st")))
    monkeypatch.setattr(module, "ml_client", lambda args, registry=False: client)
    return module


def _run(module: Any, *argv: str) -> int:
    return int(module.main(["--backend", "azure", "--workspace", "ws", "--resource-group", "rg", *argv]))


def test_rbac_rule(preflight: Any) -> None:
    jobs = preflight.NEEDS["training"][0]
    blobs = preflight.NEEDS["data"][0]
    assert preflight.holds([SCIENTIST], jobs)
    assert not preflight.holds([{**SCIENTIST, "notActions": ["Microsoft.MachineLearningServices/*"]}], jobs)
    assert not preflight.holds([{"actions": ["*"]}], blobs)  # control plane roles grant no data action
    assert preflight.holds([BLOB_READER], blobs)


def test_missing_roles_are_named_and_data_is_only_a_warning(preflight: Any,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    workspace = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws"
    assert _run(preflight, "--need", "training", "--need", "data") == 2
    err = capsys.readouterr().err
    assert f"error: missing role 'AzureML Data Scientist' on {workspace}" in err
    assert "warning: missing role 'Storage Blob Data Reader' on /st" in err
    preflight.held[workspace] = [SCIENTIST]
    preflight.held["/st"] = [BLOB_READER]
    assert _run(preflight, "--need", "training", "--need", "data", "--need", "registry") == 0
    preflight.held[workspace] = None  # Resource Manager refused to say
    assert _run(preflight, "--need", "endpoint") == 2
    assert "HTTP 403" in capsys.readouterr().err


def test_aks_needs_its_cluster_and_local_needs_nothing(preflight: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(preflight, "--need", "aks") == 2
    assert "--need aks needs --cluster" in capsys.readouterr().err
    cluster = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/c"
    preflight.held[cluster] = [{"actions": ["Microsoft.ContainerService/managedClusters/*"]}]
    assert _run(preflight, "--need", "aks", "--cluster", "c") == 0
    assert preflight.main(["--backend", "local", "--need", "aci"]) == 0
