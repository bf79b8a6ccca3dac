"""The MLflow model registry and run store as the stages use them: aliases (never stages), tags, run artifacts."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from common.backend import ScriptError
from common.files import read_json

MODEL_ARTIFACT = "model"
TEST_SPLIT_ARTIFACT = "data/test_split.csv"
_MISSING = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND"}


def client() -> Any:
    from mlflow import MlflowClient

    return MlflowClient()


ALIAS_TAG = "mlops.alias.{}"  # mirrors each alias as a version tag, for registries without alias support


def versions(mlflow_client: Any, name: str) -> list[Any]:
    escaped = name.replace("'", "\\'")
    return list(mlflow_client.search_model_versions(f"name = '{escaped}'"))


def version_by_alias(mlflow_client: Any, name: str, alias: str) -> Any | None:
    """The version holding `alias`, or None when the model or the alias does not exist yet.

    Falls back to the alias tag that set_alias mirrors, for registries that refuse alias calls.
    """
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client.get_model_version_by_alias(name, alias)
    except MlflowException as exc:
        if exc.error_code not in _MISSING:
            print(f"note: alias lookup failed ({exc.error_code}); using the {ALIAS_TAG.format(alias)} tag")
        try:
            tagged = [v for v in versions(mlflow_client, name) if (v.tags or {}).get(ALIAS_TAG.format(alias)) == "true"]
        except MlflowException:
            return None
        return max(tagged, key=lambda v: int(v.version)) if tagged else None


def set_alias(mlflow_client: Any, name: str, alias: str, version: str) -> bool:
    """Point `alias` at `version` (an MLflow alias) and mirror it as a version tag; False when only the tag could
    be set because the registry does not support aliases."""
    from mlflow.exceptions import MlflowException

    native = True
    try:
        mlflow_client.set_registered_model_alias(name, alias, version)
    except MlflowException as exc:
        if exc.error_code in _MISSING:
            raise
        native = False
        print(f"note: the registry refused the alias ({exc.error_code}); recording it as a version tag only")
    tag = ALIAS_TAG.format(alias)
    for other in versions(mlflow_client, name):
        if str(other.version) != str(version) and (other.tags or {}).get(tag) == "true":
            mlflow_client.delete_model_version_tag(name, other.version, tag)
    mlflow_client.set_model_version_tag(name, version, tag, "true")
    return native


def aliased_versions(mlflow_client: Any, name: str) -> set[str]:
    """Every version holding an alias, natively or through the mirrored tag."""
    model = mlflow_client.get_registered_model(name)
    held = {str(v) for v in (getattr(model, "aliases", None) or {}).values()}
    prefix = ALIAS_TAG.format("")
    held |= {str(v.version) for v in versions(mlflow_client, name)
             if any(k.startswith(prefix) and value == "true" for k, value in (v.tags or {}).items())}
    return held


def resolve_version(mlflow_client: Any, name: str, *, version: str | None = None, version_file: str | None = None,
                    alias: str | None = None) -> str:
    """A version number from exactly one of: --version, --version-file (register_model.py output), an alias."""
    if version:
        return str(version)
    if version_file:
        data = read_json(version_file)
        if str(data.get("model_name", name)) != name:
            raise ScriptError(f"{version_file} is for model {data.get('model_name')!r}, not {name!r}")
        return str(data["version"])
    if alias:
        found = version_by_alias(mlflow_client, name, alias)
        if found is None:
            raise ScriptError(f"model {name!r} has no version with alias {alias!r}")
        return str(found.version)
    raise ScriptError("give --version, --version-file or --from-alias")


def run_metrics(mlflow_client: Any, run_id: str) -> dict[str, float]:
    return {key: float(value) for key, value in sorted(mlflow_client.get_run(run_id).data.metrics.items())}


def model_uri(run_id: str) -> str:
    return f"runs:/{run_id}/{MODEL_ARTIFACT}"


def load_model(run_id: str) -> Any:
    import mlflow.sklearn

    return mlflow.sklearn.load_model(model_uri(run_id))


def load_test_split(run_id: str) -> Any:
    """The held-out rows train.py logged with the run, so every gate evaluates the same data."""
    import mlflow
    import pandas as pd

    with tempfile.TemporaryDirectory(prefix="mlops-split-") as folder:
        local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=TEST_SPLIT_ARTIFACT,
                                                    dst_path=folder)
        return pd.read_csv(Path(local))
