"""Where a stage runs: the Azure ML workspace (`azure`, what pipelines use) or this machine (`local`).

The backend comes from `--backend`, else the MLOPS_BACKEND environment variable, else `azure`. MLflow tracking
follows it: an explicit MLFLOW_TRACKING_URI always wins (Azure ML sets it inside jobs); otherwise `azure` asks the
workspace for its MLflow URI and `local` uses a sqlite store under `--workdir`.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import shutil
import subprocess  # nosec B404
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

BACKENDS = ("azure", "local")
DEFAULT_WORKDIR = ".mlops"


class ScriptError(Exception):
    """A problem with the inputs or the environment: reported in one line, exit code 2."""


def describe(doc: str | None) -> str:
    """A script's --help description: the first paragraph of its docstring as one line (its first line alone may
    stop mid-sentence)."""
    return " ".join((doc or "").strip().split("\n\n", 1)[0].split())


def add_common_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    group = parser.add_argument_group("backend")
    group.add_argument("--backend", choices=BACKENDS, default=None,
                       help="azure (Azure ML workspace) or local (this machine) [env MLOPS_BACKEND, default azure]")
    group.add_argument("--workspace", default=os.environ.get("AZURE_ML_WORKSPACE"),
                       help="Azure ML workspace [env AZURE_ML_WORKSPACE]")
    group.add_argument("--resource-group", default=os.environ.get("AZURE_RESOURCE_GROUP"),
                       help="resource group of the workspace [env AZURE_RESOURCE_GROUP]")
    group.add_argument("--subscription-id", default=os.environ.get("AZURE_SUBSCRIPTION_ID"),
                       help="Azure subscription [env AZURE_SUBSCRIPTION_ID, else the Azure CLI's]")
    # An environment served in a workspace of its own (the spec's environments[].azure) still finds its model
    # versions, aliases and training data where training registered them.
    group.add_argument("--registry-workspace",
                       help="workspace of the MLflow model registry and the training data, when not --workspace")
    group.add_argument("--registry-resource-group",
                       help="resource group of --registry-workspace [default: --resource-group]")
    group.add_argument("--registry-subscription-id",
                       help="subscription of --registry-workspace [default: --subscription-id]")
    group.add_argument("--workdir", default=os.environ.get("MLOPS_WORKDIR", DEFAULT_WORKDIR),
                       help=f"local state: MLflow store, artifacts [env MLOPS_WORKDIR, default {DEFAULT_WORKDIR}]")
    return parser


def backend_of(args: argparse.Namespace) -> str:
    backend = args.backend or os.environ.get("MLOPS_BACKEND") or "azure"
    if backend not in BACKENDS:
        raise ScriptError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    return str(backend)


def workdir_of(args: argparse.Namespace) -> Path:
    path = Path(args.workdir).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cli_subscription() -> str | None:
    az = shutil.which("az")
    if not az:
        return None
    result = subprocess.run([az, "account", "show", "--query", "id", "-o", "tsv"],  # noqa: S603  # nosec B603
                            capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


Coordinates = tuple[str | None, str | None, str | None]  # subscription, resource group, workspace


def workspace_coordinates(args: argparse.Namespace, registry: bool = False) -> Coordinates:
    """(subscription, resource group, workspace) of the serving workspace, or with `registry` of the one holding
    the model registry and training data (each --registry-* flag left out is the serving one)."""
    subscription, group, workspace = args.subscription_id, args.resource_group, args.workspace
    if registry:
        subscription = getattr(args, "registry_subscription_id", None) or subscription
        group = getattr(args, "registry_resource_group", None) or group
        workspace = getattr(args, "registry_workspace", None) or workspace
    return subscription, group, workspace


def ml_client(args: argparse.Namespace, registry: bool = False) -> Any:
    """An azure-ai-ml MLClient for the serving workspace (or, with `registry`, the model registry's),
    authenticated by DefaultAzureCredential (OIDC in pipelines)."""
    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential

    subscription, group, workspace = workspace_coordinates(args, registry)
    subscription = subscription or _cli_subscription()
    missing = [flag for flag, value in (("--subscription-id", subscription), ("--resource-group", group),
                                        ("--workspace", workspace)) if not value]
    if missing:
        raise ScriptError(f"the azure backend needs {', '.join(missing)}")
    return MLClient(DefaultAzureCredential(), subscription, group, workspace)


def tracking_uri(args: argparse.Namespace) -> str:
    explicit = os.environ.get("MLFLOW_TRACKING_URI")
    if explicit:
        return explicit
    if backend_of(args) == "azure":
        client = ml_client(args, registry=True)
        return str(client.workspaces.get(client.workspace_name).mlflow_tracking_uri)
    return f"sqlite:///{(workdir_of(args) / 'mlflow.db').as_posix()}"


def configure_mlflow(args: argparse.Namespace) -> Any:
    """Point MLflow's tracking and registry at the backend; returns the mlflow module."""
    import mlflow

    uri = tracking_uri(args)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow


def ensure_experiment(args: argparse.Namespace, name: str) -> str:
    """The experiment's id, creating it; local artifacts go under the workdir instead of ./mlruns."""
    import mlflow

    found = mlflow.get_experiment_by_name(name)
    if found is not None:
        return str(found.experiment_id)
    location = (workdir_of(args) / "artifacts").as_uri() if backend_of(args) == "local" else None
    return str(mlflow.create_experiment(name, artifact_location=location))


def data_asset(args: argparse.Namespace, name: str, version: str | None, registry: bool = True) -> Any:
    """An Azure ML data asset by name and version ('latest' or empty: the newest): training data, in the model
    registry's workspace; with `registry` false, in the serving workspace (what a deployment collected)."""
    client = ml_client(args, registry)
    if version in (None, "", "latest"):
        return client.data.get(name, label="latest")
    return client.data.get(name, version=version)


_DATASTORE_PATH = re.compile(r"datastores/(?P<store>[^/]+)/paths/(?P<path>.+)$")


def download_data_asset(args: argparse.Namespace, asset: Any, destination: Path, registry: bool = True) -> Path:
    """Copy a data asset's files from its datastore into `destination` (blob or ADLS Gen2, with Entra ID auth)."""
    from azure.identity import DefaultAzureCredential
    from azure.storage.blob import ContainerClient

    match = _DATASTORE_PATH.search(str(asset.path))
    if not match:
        raise ScriptError(f"data asset path {asset.path} is not on a workspace datastore")
    store = ml_client(args, registry).datastores.get(match["store"])
    container = getattr(store, "container_name", None) or getattr(store, "filesystem", None)
    if not container:
        raise ScriptError(f"datastore {match['store']} has no blob container or file system")
    account_url = f"{store.protocol}://{store.account_name}.blob.{store.endpoint}"
    client = ContainerClient(account_url, container, credential=DefaultAzureCredential())
    prefix = match["path"].rstrip("/")
    destination.mkdir(parents=True, exist_ok=True)
    count = 0
    try:
        for blob in client.list_blobs(name_starts_with=prefix):
            relative = Path(blob.name[len(prefix):].lstrip("/") or Path(blob.name).name)
            if ".." in relative.parts:
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(client.download_blob(blob.name).readall())
            count += 1
    except Exception as exc:  # azure.core.exceptions.HttpResponseError; the SDK is imported lazily above
        if getattr(exc, "status_code", None) == 403:
            # Blob data needs a data-plane role: control-plane roles (Contributor, AzureML Data Scientist) do not
            # grant it (learn.microsoft.com/azure/storage/blobs/assign-azure-role-data-access).
            raise ScriptError(f"the pipeline identity may not read blobs of storage account {store.account_name} "
                              f"(HTTP 403): assign it 'Storage Blob Data Reader' there (see the model README's "
                              "one-time setup)") from exc
        raise
    if not count:
        raise ScriptError(f"data asset {asset.name}:{asset.version} has no files at {asset.path}")
    return destination


# An Azure ML data asset as the pipelines name it: azureml:<name>:<version>, azureml:<name>@latest or azureml:<name>.
_ASSET_URI = re.compile(r"^azureml:(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)(?:[:@](?P<version>[A-Za-z0-9_.-]+))?$")


def asset_reference(location: str) -> tuple[str, str | None] | None:
    """(name, version or None for the newest) of a data asset URI azureml:<name>[:|@<version>]; None for a path."""
    match = _ASSET_URI.match(location)
    return (match["name"], match["version"]) if match else None


def table_location(args: argparse.Namespace, location: str, scratch: Path, registry: bool = True) -> str:
    """A table's local path: a data asset URI is resolved through the workspace (its `latest` too; the model
    registry's, or with `registry` false the serving one) and its files downloaded under `scratch`; anything else
    is a path already."""
    match = _ASSET_URI.match(location)
    if not match:
        return location
    if backend_of(args) != "azure":
        raise ScriptError(f"{location} is an Azure ML data asset: it needs the azure backend")
    asset = data_asset(args, match["name"], match["version"], registry)
    print(f"{location}: data asset {asset.name}:{asset.version}")
    return str(download_data_asset(args, asset, scratch / match["name"], registry))


MainFunction = TypeVar("MainFunction", bound=Callable[..., int])


def guarded(main: MainFunction) -> MainFunction:
    """Wrap a script's main: a ScriptError becomes one line on stderr and exit code 2, not a traceback."""

    @functools.wraps(main)
    def wrapper(argv: list[str] | None = None) -> int:
        try:
            return main(argv)
        except ScriptError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    return cast(MainFunction, wrapper)
