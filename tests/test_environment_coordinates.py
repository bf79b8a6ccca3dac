"""Per-environment Azure coordinates (issue 12 item 10): an environment may be served in its own subscription,
resource group, workspace and region, with its own identity, while training, the model registry and the image stay
where the spec's `azure` says.

What must hold at run time, and is checked here on the rendered pipelines of the corpus specs that use it
(tests/specs/azure-canary.yaml, tests/specs/gha-multi.yaml) and on the example house-prices:
- every script of such an environment's release (and of its rollback, its monitor, and the drift check watching
  it) acts on the environment's workspace, and finds the model registry (versions, aliases, training data) through
  the --registry-* flags, which the scripts' Azure ML client really uses (checked against a fake MLClient);
- scripts of the other environments and of training get no --registry-* flags and the training coordinates;
- on Azure DevOps its tasks log in through its own service connection, spelled out (compile-time authorization);
- on GitHub its jobs log in to its own subscription (AZURE_SUBSCRIPTION_ID in the job's env), which azure/login and
  the scripts' Azure CLI calls use.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
import yaml

from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.build import collects_production_data
from mlops_gen.spec.model import ProjectSpec, environment_azure, served_apart
from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, SPECS
from tests.pipeline_calls import AZURE, GITHUB, Call, calls_in_text, render_to, strings
from tests.pipeline_calls import mappings as _walk
from tests.template_scripts import load_script

SEPARATE = [CORPUS / "azure-canary.yaml", CORPUS / "gha-multi.yaml", SPECS / "house-prices.yaml"]
REGISTRY_FLAGS = ("--registry-workspace", "--registry-resource-group", "--registry-subscription-id")


def _spec(path: Path) -> ProjectSpec:
    return load_specs([str(path)])[0].spec


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return render_to(SEPARATE, tmp_path_factory.mktemp("coordinates"))


def _calls(node: Any, file: str, platform: str) -> list[Call]:
    return [call for text in strings(node) for call in calls_in_text(text, file, platform)
            if call.script.startswith("src/")]


def _github_jobs(folder: Path) -> dict[str, dict[str, Any]]:
    jobs: dict[str, dict[str, Any]] = yaml.safe_load(
        (folder / ".github/workflows/ml-pipeline.yml").read_text(encoding="utf-8"))["jobs"]
    return jobs


def _azure_jobs(folder: Path, name: str) -> list[dict[str, Any]]:
    document = yaml.safe_load((folder / "azure-pipelines" / f"{name}.yml").read_text(encoding="utf-8"))
    return [job for stage in document["stages"] for job in stage["jobs"]]


def _coordinates(call: Call, values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """(serving, registry) coordinates the script's own backend derives from this call's argv, with Azure DevOps
    macros `$(name)` and shell variables `${NAME}` replaced by what they hold at run time (`values`)."""
    backend = load_script("common/backend.py")
    parser = backend.add_common_arguments(argparse.ArgumentParser())
    argv = [values.get(token[2:-1], token) if token.startswith(("$(", "${")) else token for token in call.argv]
    args, _ = parser.parse_known_args(argv)
    keys = ("subscription", "resource_group", "workspace")
    return (dict(zip(keys, backend.workspace_coordinates(args), strict=True)),
            dict(zip(keys, backend.workspace_coordinates(args, registry=True), strict=True)))


def _expected(spec: ProjectSpec, env_name: str | None, subscription: str) -> tuple[dict[str, str], dict[str, str]]:
    """(serving, registry) coordinates a step must act on: the training workspace's for both, or the environment's
    and the training workspace's. `subscription`: the training subscription when the spec names none (the
    platform's variable)."""
    training = {"subscription": spec.azure.subscription_id or subscription,
                "resource_group": spec.azure.resource_group, "workspace": spec.azure.workspace}
    env = next((e for e in spec.environments if e.name == env_name), None)
    if env is None or not served_apart(spec, env):
        return training, training
    own = environment_azure(spec, env)
    serving = {"subscription": env.azure.subscription_id or training["subscription"],
               "resource_group": own.resource_group, "workspace": own.workspace}
    return serving, training


# ----- the spec -----

def test_an_environment_subscription_needs_the_training_one(tmp_path: Path) -> None:
    from mlops_gen.errors import SpecError

    spec = tmp_path / "s.yaml"
    spec.write_text("apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel: {name: m-model}\nenvironments:\n"
                    "  - name: prod\n    approval: required\n    azure:\n"
                    "      subscription_id: 11111111-aaaa-bbbb-cccc-000000000000\n", encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_specs([str(spec)])
    assert str(raised.value) == (
        f"{spec}:8:7: environments[0].azure.subscription_id: an environment in a subscription of its own needs the "
        "training subscription named too: set azure.subscription_id (its release moves registry aliases there)")


def test_each_unset_coordinate_is_the_specs() -> None:
    spec = _spec(CORPUS / "gha-multi.yaml")
    eu, us = spec.environments[1], spec.environments[2]
    assert environment_azure(spec, eu).model_dump() == {**spec.azure.model_dump(), "resource_group": "rg-models-eu"}
    assert environment_azure(spec, us).location == spec.azure.location  # a region is an ACI setting
    assert environment_azure(spec, us).registry == spec.azure.registry  # one image registry: the image built once


# ----- the pipeline model -----

@pytest.mark.parametrize("path", SEPARATE, ids=lambda p: p.stem)
def test_every_step_says_where_it_is_served(path: Path) -> None:
    pipeline = build_pipeline(_spec(path))
    for release in pipeline.releases:
        assert {step.served_in for step in (*release.steps(), *release.rollback)} == {release.env.name}
    assert {step.served_in for stage in pipeline.training for step in stage.steps} == {""}
    # the drift check reads what the watched environment collected there; a team's own inputs (AKS, ACI) are read
    # where training is
    watched = pipeline.monitored.env
    assert {step.served_in for step in pipeline.drift} == {watched.name if collects_production_data(watched) else ""}
    monitors = [step for step in pipeline.post_release if step.id == "configure-monitoring"]
    assert all(step.served_in == pipeline.monitored.env.name for step in monitors)


# ----- GitHub Actions -----

@pytest.mark.parametrize("path", [CORPUS / "gha-multi.yaml", SPECS / "house-prices.yaml"], ids=lambda p: p.stem)
def test_github_release_scripts_act_on_their_environment_and_find_the_registry(
        path: Path, trees: dict[str, Path]) -> None:
    spec = _spec(path)
    jobs = _github_jobs(trees[spec.model.name])
    post_release = {step.script: step.served_in for step in build_pipeline(spec).post_release}
    workflow_subscription = spec.azure.subscription_id or "<vars.AZURE_SUBSCRIPTION_ID>"
    checked = apart = 0
    for job_id, job in jobs.items():
        release = job_id.split("-", 1)[1] if job_id.startswith(("deploy-", "rollback-")) else None
        subscription = job.get("env", {}).get("AZURE_SUBSCRIPTION_ID", workflow_subscription)
        for call in _calls(job, job_id, GITHUB):
            if "--workspace" not in call.argv:
                continue
            # a release job's steps serve in its environment; the post-deployment monitor in the watched one
            env_name = release if release else post_release.get(call.script) or None
            env = next((e for e in spec.environments if e.name == env_name), None)
            coordinates = _coordinates(call, {"AZURE_SUBSCRIPTION_ID": subscription})
            assert coordinates == _expected(spec, env_name, "<vars.AZURE_SUBSCRIPTION_ID>"), (job_id, call.argv)
            separate = env is not None and served_apart(spec, env)
            assert any(flag in call.argv for flag in REGISTRY_FLAGS) == separate, (job_id, call.argv)
            checked += 1
            apart += separate
        env = next((e for e in spec.environments if e.name == release), None)
        if env is not None and env.azure.subscription_id:
            # its jobs log in to its own subscription: azure/login reads env.AZURE_SUBSCRIPTION_ID
            assert subscription == env.azure.subscription_id
            login = [step for step in job["steps"] if step.get("uses", "").startswith("azure/login@")]
            assert login and all(step["with"]["subscription-id"] == "${{ env.AZURE_SUBSCRIPTION_ID }}"
                                 for step in login)
    assert checked and apart


# ----- Azure DevOps -----

def test_azure_devops_release_scripts_act_on_their_environment_and_find_the_registry(
        trees: dict[str, Path]) -> None:
    spec = _spec(CORPUS / "azure-canary.yaml")
    folder = trees[spec.model.name]
    document = yaml.safe_load((folder / "azure-pipelines" / "deployment.yml").read_text(encoding="utf-8"))
    variables = {key: str(value) for key, value in document["variables"].items()}
    prod = spec.environments[2]
    assert prod.azure.subscription_id and prod.azure.service_connection
    apart = 0
    for job in _azure_jobs(folder, "deployment"):
        env_name = job.get("environment")
        for task in [node for node in _walk(job) if node.get("task") == "AzureCLI@2"]:
            script = task["inputs"]["inlineScript"]
            # the task's login: its own subscription selected, then read back into ${subscription_id}
            login_subscription = prod.azure.subscription_id if env_name == prod.name else variables["subscriptionId"]
            if env_name == prod.name:  # every task, the endpoint tests' `az aks get-credentials` too
                assert f"az account set --subscription {prod.azure.subscription_id}\n" in script, script
            for call in calls_in_text(script, "deployment.yml", AZURE):
                if "--workspace" not in call.argv:
                    continue
                coordinates = _coordinates(call, {**variables, "subscription_id": login_subscription})
                assert coordinates == _expected(spec, env_name, ""), (env_name, call.argv)
                apart += env_name == prod.name
    assert apart


def test_azure_devops_drift_check_of_an_aks_environment_reads_where_training_is(trees: dict[str, Path]) -> None:
    """AKS collects nothing: the team names its recent inputs (DRIFT_CURRENT_DATA), read like the training data
    through the training workspace, with the pipeline's identity, even when the cluster is served apart."""
    spec = _spec(CORPUS / "azure-canary.yaml")
    watched = build_pipeline(spec).monitored.env
    assert watched.separate and watched.env.target == "aks"
    folder = trees[spec.model.name]
    document = yaml.safe_load((folder / "azure-pipelines" / "drift-monitor.yml").read_text(encoding="utf-8"))
    (task,) = [node for node in _walk(document) if node.get("name") == "drift"]
    assert task["inputs"]["azureSubscription"] == "$(azureSubscription)"
    (call,) = calls_in_text(task["inputs"]["inlineScript"], "drift-monitor.yml", AZURE)
    variables = {key: str(value) for key, value in document["variables"].items()}
    values = {**variables, "subscription_id": variables["subscriptionId"]}
    assert _coordinates(call, values) == _expected(spec, None, "")


# ----- the scripts: the registry flags reach the Azure ML client -----

@pytest.fixture
def fake_azure(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """azure.ai.ml.MLClient(credential, subscription, resource group, workspace), as the SDK's constructor takes
    them (azure-ai-ml MLClient.__init__), recording where each client points; workspaces.get gives a tracking URI
    naming its workspace."""
    made: list[tuple[str, str, str]] = []

    class MLClient:
        def __init__(self, credential: Any, subscription_id: str, resource_group_name: str,
                     workspace_name: str) -> None:
            made.append((subscription_id, resource_group_name, workspace_name))
            self.workspace_name = workspace_name
            self.workspaces = SimpleNamespace(
                get=lambda name: SimpleNamespace(mlflow_tracking_uri=f"azureml://tracking/{name}"))

    ml = ModuleType("azure.ai.ml")
    ml.MLClient = MLClient  # type: ignore[attr-defined]
    identity = ModuleType("azure.identity")
    identity.DefaultAzureCredential = lambda: object()  # type: ignore[attr-defined]
    for name, module in (("azure", ModuleType("azure")), ("azure.ai", ModuleType("azure.ai")),
                         ("azure.ai.ml", ml), ("azure.identity", identity)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return made


def test_the_registry_flags_decide_where_mlflow_and_training_data_are(
        fake_azure: list[tuple[str, str, str]]) -> None:
    backend = load_script("common/backend.py")
    parser = backend.add_common_arguments(argparse.ArgumentParser())
    args = parser.parse_args(["--backend", "azure", "--workspace", "mlw-prod", "--resource-group", "rg-prod",
                              "--subscription-id", "sub-prod", "--registry-workspace", "mlw-train",
                              "--registry-resource-group", "rg-train", "--registry-subscription-id", "sub-train"])
    assert backend.tracking_uri(args) == "azureml://tracking/mlw-train"
    backend.ml_client(args)
    assert fake_azure == [("sub-train", "rg-train", "mlw-train"), ("sub-prod", "rg-prod", "mlw-prod")]
    fake_azure.clear()
    same = parser.parse_args(["--backend", "azure", "--workspace", "mlw", "--resource-group", "rg",
                              "--subscription-id", "sub"])
    assert backend.tracking_uri(same) == "azureml://tracking/mlw"  # no --registry-*: one workspace for all
    assert fake_azure == [("sub", "rg", "mlw")]
