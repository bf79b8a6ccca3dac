"""The preflight step (issue 12 item 5): before a job's Azure work, src/preflight/check_access.py reads the
identity's effective permissions at each scope and names every missing role, instead of a raw 403 minutes later.

The fake Resource Manager answers "Permissions - List For Resource" / "List For Resource Group" as documented
(GET <scope>/providers/Microsoft.Authorization/permissions?api-version=2022-04-01 -> {"value": [{"actions",
"notActions", "dataActions", "notDataActions"}], "nextLink"}; learn.microsoft.com/rest/api/authorization/
permissions), pages included, and 403 where the identity holds nothing. Its permission entries are the built-in
roles' definitions (learn.microsoft.com/azure/role-based-access-control/built-in-roles/ai-machine-learning,
.../storage, .../containers).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType, SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from mlops_gen.pipeline import build_pipeline
from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, SPECS
from tests.template_scripts import load_script

SUB, RG, WS = "sub-1", "rg-ml", "mlw-ml"
WORKSPACE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.MachineLearningServices/workspaces/{WS}"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Storage/storageAccounts/stml"
CLUSTER = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ContainerService/managedClusters/aks-1"
PERMISSIONS = "/providers/Microsoft.Authorization/permissions"

AZUREML_DATA_SCIENTIST = {
    "actions": ["Microsoft.MachineLearningServices/workspaces/*/read",
                "Microsoft.MachineLearningServices/workspaces/*/action",
                "Microsoft.MachineLearningServices/workspaces/*/delete",
                "Microsoft.MachineLearningServices/workspaces/*/write"],
    "notActions": ["Microsoft.MachineLearningServices/workspaces/delete",
                   "Microsoft.MachineLearningServices/workspaces/write",
                   "Microsoft.MachineLearningServices/workspaces/computes/*/write",
                   "Microsoft.MachineLearningServices/workspaces/computes/*/delete",
                   "Microsoft.MachineLearningServices/workspaces/computes/listKeys/action",
                   "Microsoft.MachineLearningServices/workspaces/listKeys/action"],
    "dataActions": [], "notDataActions": []}
STORAGE_BLOB_DATA_READER = {
    "actions": ["Microsoft.Storage/storageAccounts/blobServices/containers/read",
                "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action"],
    "notActions": [], "dataActions": ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
    "notDataActions": []}
READER = {"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}
# Contributor holds every action but role assignments: still no blob data (a data action).
CONTRIBUTOR = {"actions": ["*"], "notActions": ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write"],
               "dataActions": [], "notDataActions": []}


class FakeArm:
    """Scope -> pages of permission entries (None: 403), and the requests it saw."""

    def __init__(self) -> None:
        self.scopes: dict[str, list[list[dict[str, Any]]] | None] = {}
        self.requests: list[tuple[str, str, str]] = []  # (scope, api-version, authorization)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        arm = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # the http.server API
                parts = urlsplit(self.path)
                query = dict(item.split("=", 1) for item in parts.query.split("&") if "=" in item)
                scope = parts.path.removesuffix(PERMISSIONS)
                arm.requests.append((scope, query.get("api-version", ""), self.headers.get("Authorization", "")))
                pages = arm.scopes.get(scope, [[]])
                if not parts.path.endswith(PERMISSIONS) or query.get("api-version") != "2022-04-01":
                    self._send(400, {"error": {"code": "InvalidApiVersionParameter"}})
                elif pages is None:
                    self._send(403, {"error": {"code": "AuthorizationFailed"}})
                else:
                    page = int(query.get("page", "0"))
                    body: dict[str, Any] = {"value": pages[page]}
                    if page + 1 < len(pages):
                        body["nextLink"] = f"{arm.url}{parts.path}?api-version=2022-04-01&page={page + 1}"
                    self._send(200, body)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def arm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeArm]:
    fake = FakeArm()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AZURE_RESOURCE_MANAGER_ENDPOINT", fake.url)
    asked: list[str] = []

    class Credential:
        def get_token(self, scope: str) -> Any:
            asked.append(scope)
            return SimpleNamespace(token="t0k3n")

    class MLClient:  # azure-ai-ml's constructor and the two properties the script reads
        def __init__(self, credential: Any, subscription_id: str, resource_group_name: str,
                     workspace_name: str) -> None:
            self.subscription_id, self.workspace_name = subscription_id, workspace_name
            self.workspaces = SimpleNamespace(get=lambda name: SimpleNamespace(storage_account=STORAGE))

    identity = ModuleType("azure.identity")
    identity.DefaultAzureCredential = Credential  # type: ignore[attr-defined]
    ml = ModuleType("azure.ai.ml")
    ml.MLClient = MLClient  # type: ignore[attr-defined]
    for name, module in (("azure", ModuleType("azure")), ("azure.ai", ModuleType("azure.ai")),
                         ("azure.ai.ml", ml), ("azure.identity", identity)):
        monkeypatch.setitem(sys.modules, name, module)
    yield fake
    assert set(asked) <= {f"{fake.url}/.default"}  # the token is for Resource Manager, nothing else
    fake.server.shutdown()


def check(*argv: str) -> int:
    script = load_script("preflight/check_access.py")
    return int(script.main(["--backend", "azure", "--workspace", WS, "--resource-group", RG,
                            "--subscription-id", SUB, *argv]))


def test_training_identity_with_its_roles_passes(arm: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    arm.scopes[WORKSPACE] = [[AZUREML_DATA_SCIENTIST]]
    arm.scopes[STORAGE] = [[STORAGE_BLOB_DATA_READER]]
    assert check("--need", "training", "--need", "data", "--need", "registry") == 0
    assert "holds every role" in capsys.readouterr().out
    assert {scope for scope, _, _ in arm.requests} == {WORKSPACE, STORAGE}  # each scope asked once
    assert all(auth == "Bearer t0k3n" for _, _, auth in arm.requests)


def test_every_missing_role_is_named_with_its_scope(arm: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    """Reader on the workspace, Contributor on the storage account: no job submission (an error), no blob data
    at the account (a control plane role never grants a data action), which is only a warning: the role may be
    granted on the data's container, which the account's permissions do not show."""
    arm.scopes[WORKSPACE] = [[READER]]
    arm.scopes[STORAGE] = [[CONTRIBUTOR]]
    assert check("--need", "training", "--need", "data") == 2
    err = capsys.readouterr().err
    assert (f"error: missing role 'AzureML Data Scientist' on {WORKSPACE} (checked by the action "
            "Microsoft.MachineLearningServices/workspaces/jobs/write)") in err
    assert (f"warning: missing role 'Storage Blob Data Reader' on {STORAGE} (checked by the data action "
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read)") in err
    assert "model README's 'Azure identity and roles'" in err
    arm.scopes[WORKSPACE] = [[AZUREML_DATA_SCIENTIST]]
    assert check("--need", "training", "--need", "data") == 0  # the data doubt alone stops nothing
    assert "warning: missing role 'Storage Blob Data Reader'" in capsys.readouterr().err


def test_not_actions_take_away_what_actions_grant(arm: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    arm.scopes[WORKSPACE] = [[{**CONTRIBUTOR, "notActions": ["Microsoft.MachineLearningServices/*"]}]]
    assert check("--need", "endpoint") == 2
    assert "missing role 'AzureML Data Scientist'" in capsys.readouterr().err
    arm.scopes[WORKSPACE] = [[CONTRIBUTOR]]  # the same, without the exclusion
    assert check("--need", "endpoint") == 0


def test_a_role_on_a_later_page_counts(arm: FakeArm) -> None:
    arm.scopes[WORKSPACE] = [[READER], [], [AZUREML_DATA_SCIENTIST]]
    assert check("--need", "training") == 0
    assert [scope for scope, _, _ in arm.requests] == [WORKSPACE] * 3


def test_a_scope_that_refuses_is_a_missing_role(arm: FakeArm, capsys: pytest.CaptureFixture[str]) -> None:
    arm.scopes[WORKSPACE] = [[AZUREML_DATA_SCIENTIST]]
    arm.scopes[CLUSTER] = None
    assert check("--need", "registry", "--need", "aks", "--cluster", "aks-1") == 2
    assert (f"missing role 'Azure Kubernetes Service Cluster User Role' on {CLUSTER} (the identity may not even "
            "read its permissions there: HTTP 403)") in capsys.readouterr().err


def test_the_registry_is_checked_where_the_registry_flags_point(arm: FakeArm) -> None:
    """An environment served apart: the endpoint roles in its workspace, the registry roles in training's."""
    training = WORKSPACE.replace(WS, "mlw-train").replace(RG, "rg-train")
    arm.scopes[WORKSPACE] = [[AZUREML_DATA_SCIENTIST]]
    arm.scopes[training] = [[READER]]
    assert check("--need", "registry", "--need", "endpoint", "--registry-workspace", "mlw-train",
                 "--registry-resource-group", "rg-train") == 2
    arm.scopes[training] = [[AZUREML_DATA_SCIENTIST]]
    assert check("--need", "registry", "--need", "endpoint", "--registry-workspace", "mlw-train",
                 "--registry-resource-group", "rg-train") == 0


def test_local_backend_and_usage(capsys: pytest.CaptureFixture[str]) -> None:
    script = load_script("preflight/check_access.py")
    assert script.main(["--backend", "local", "--need", "training"]) == 0
    assert "no Azure roles to check" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        script.main(["--backend", "local", "--need", "everything"])
    assert refused.value.code == 2 and "invalid choice: 'everything'" in capsys.readouterr().err


@pytest.mark.parametrize("path", [SPECS / "customer-churn.yaml", CORPUS / "azure-canary.yaml",
                                  CORPUS / "gha-multi.yaml"], ids=lambda p: p.stem)
def test_the_preflight_comes_first_and_asks_for_what_follows(path: str) -> None:
    """Training checks its roles before the data validation; each release before anything else, for its
    target; the needs named exist in the script."""
    script = load_script("preflight/check_access.py")
    spec = load_specs([str(path)])[0].spec
    pipeline = build_pipeline(spec)
    first = pipeline.training[0].steps[0]
    assert first.id == "preflight" and [v for f, v in first.flags if f == "--need"] == ["training", "data", "registry"]
    for release in pipeline.releases:
        step = next(release.steps())
        needs = [v for f, v in step.flags if f == "--need"]
        assert step.id == "preflight" and set(needs) <= set(script.NEEDS)
        target = {"azureml_online_endpoint": "endpoint", "aks": "aks", "aci": "aci"}[release.env.env.target]
        assert needs == ["registry", target]
        assert step.value("--cluster") == release.env.env.cluster
        assert step.served_in == release.env.name  # its coordinates, and the registry's when apart


def test_without_the_azure_sdks_it_says_what_to_install(arm: FakeArm, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # import fails as if not installed
    arm.scopes[WORKSPACE] = [[AZUREML_DATA_SCIENTIST]]
    assert check("--need", "training") == 2
    assert "needs the Azure SDKs: pip install -r requirements-azure.txt" in capsys.readouterr().err
