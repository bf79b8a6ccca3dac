"""Helpers shared by the deployment scripts: flags, model versions, traffic shares, commands, results.

Backend selection, MLflow and Azure ML clients come from src/common (shared with the training stages). Standard
library at import time; azure-ai-ml, azure-identity and mlflow are imported inside the functions that need them,
so every script's --help works without them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess  # nosec B404
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import (
    ScriptError,
    add_common_arguments,
    backend_of,
    configure_mlflow,
    ml_client,
)
from common.files import write_json
from common.paths import CODE_ROOT, model_file

__all__ = ["CODE_ROOT", "DeployError", "ScriptError", "add_common_flags", "backend_of", "configure_mlflow",
           "environment_settings", "fail", "ml_client", "model_file", "model_name", "model_uri", "percentage_of",
           "pipeline_settings", "read_version", "resolve_version", "run", "write_json"]

PIPELINE_CONFIG = "config/pipeline.yaml"  # of the model folder (common.paths), written by mlops-gen from the spec
SERVING_PORT = 8080
# Labels and annotations the manifests and the scripts agree on.
TRACK_LABEL = "mlops-gen.io/track"
VERSION_LABEL = "mlops-gen.io/model-version"
SELECTOR_ANNOTATION = "mlops-gen.io/stable-selector"


class DeployError(Exception):
    """A deployment step failed: reported as one line, exit 1 (the pipeline rolls back or stops)."""


def pipeline_settings() -> dict[str, Any]:
    """config/pipeline.yaml: the model name, and per environment its deployment names and container size.

    Read here rather than rendered into the scripts, so the scripts are the same for every model.
    """
    from common.files import read_yaml

    path = model_file(PIPELINE_CONFIG)
    settings = read_yaml(path)
    if not isinstance(settings, dict) or not isinstance(settings.get("model"), dict):
        raise ScriptError(f"{path}: not the settings mlops-gen writes; run `mlops-gen generate` again")
    return settings


def model_name() -> str:
    return str(pipeline_settings()["model"]["name"])


def environment_settings(name: str) -> dict[str, Any]:
    """The settings of environment `name` (empty when config/pipeline.yaml does not list it)."""
    for environment in pipeline_settings().get("environments") or []:
        if isinstance(environment, dict) and environment.get("name") == name:
            return environment
    return {}


TARGETS = ("azureml_online_endpoint", "aks", "aci")  # the serving targets the deployment scripts know


def add_common_flags(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)


def add_release_flags(parser: argparse.ArgumentParser) -> None:
    """The flags naming a release's two deployments: promote.py and rollback.py act on the same pair."""
    parser.add_argument("--target", required=True, choices=TARGETS,
                        help="where the release is served (ignored by --backend local)")
    parser.add_argument("--endpoint-name", required=True, help="endpoint (Azure ML), service prefix or group name")
    parser.add_argument("--stable-deployment", required=True, help="the deployment that served before the release")
    parser.add_argument("--candidate-deployment", required=True,
                        help="the release's deployment; equal to --stable-deployment when updated in place")
    parser.add_argument("--namespace", help="Kubernetes namespace (aks)")
    parser.add_argument("--cluster", help="AKS cluster name (aks)")


def read_version(path: str | None) -> str | None:
    """The version in a file register_model.py (or export_model.py) wrote: JSON with "version"."""
    if not path:
        return None
    from common.files import read_json

    data = read_json(path)
    version = data.get("version") if isinstance(data, dict) else data
    return None if version is None else str(version)


def resolve_version(name: str, alias: str | None, version_file: str | None) -> str:
    """The exact version: the version file wins, else the version the alias points at (needs MLflow set up)."""
    version = read_version(version_file)
    if version:
        return version
    if not alias:
        raise DeployError("pass --version-file or --alias to say which model version")
    from common.registry import client, version_by_alias

    found = version_by_alias(client(), name, alias)
    if found is None:
        raise DeployError(f"model {name!r} has no version with alias {alias!r}")
    return str(found.version)


def model_uri(name: str, version: str) -> str:
    return f"models:/{name}/{version}"


def percentage_of(value: str | None) -> int:
    """--traffic-percentage as an int in 0..100; absent means all traffic."""
    try:
        pct = 100 if value is None or value == "" else int(float(value))
    except ValueError:
        raise DeployError(f"--traffic-percentage must be a number (got {value!r})") from None
    if not 0 <= pct <= 100:
        raise DeployError(f"--traffic-percentage must be within 0..100 (got {value})")
    return pct


def run(command: list[str], *, stdin: str | None = None, capture: bool = False,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a command given as a list (never through a shell), echoing it first. Never pass secrets as arguments."""
    executable = shutil.which(command[0])
    if not executable:
        raise DeployError(f"{command[0]} is not installed or not on PATH")
    print("+ " + " ".join(command), flush=True)
    result = subprocess.run(  # noqa: S603  # nosec B603
        [executable, *command[1:]], input=stdin, text=True, capture_output=capture, check=False)
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-1:] if capture else []
        raise DeployError(f"{' '.join(command[:3])} failed (exit {result.returncode}) {' '.join(detail)}".strip())
    return result


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def guarded_main(body: Any, argv: list[str] | None) -> int:
    """Run a script body: deployment errors exit 1, input errors (ScriptError) exit 2, both in one line."""
    try:
        result: int = body(argv)
        return result
    except DeployError as exc:
        return fail(str(exc))
    except ScriptError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
