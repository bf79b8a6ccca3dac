"""Pre-deployment checks look at the version about to be deployed, which must hold the earlier environment's alias
(issue 12 item 8): the staging alias no longer moves at registration but when staging's release completed, so a
version that never passed staging, or a newer registration, is refused before production traffic moves.

The fake MLflow client follows MlflowClient's API: get_model_version_by_alias raises MlflowException
(RESOURCE_DOES_NOT_EXIST) for an unknown alias, get_model_version(name, version), get_run(run_id).data.metrics.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from tests.template_scripts import forget_helper_modules

DEPLOYMENT = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src" / "deployment"


class MlflowException(Exception):
    def __init__(self, message: str, error_code: str = "RESOURCE_DOES_NOT_EXIST") -> None:
        super().__init__(message)
        self.error_code = error_code


class FakeClient:
    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases

    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        if alias not in self.aliases:
            raise MlflowException(f"alias {alias} not found")
        return self.get_model_version(name, self.aliases[alias])

    def get_model_version(self, name: str, version: str) -> Any:
        return SimpleNamespace(name=name, version=version, run_id=f"run-{version}", tags={"team": "ml"})

    def search_model_versions(self, query: str) -> list[Any]:
        return []

    def get_run(self, run_id: str) -> Any:
        return SimpleNamespace(data=SimpleNamespace(metrics={"accuracy": 0.9}))


@pytest.fixture()
def checks(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    mlflow = ModuleType("mlflow")
    mlflow.models = SimpleNamespace(get_model_info=lambda uri: SimpleNamespace(  # type: ignore[attr-defined]
        signature=SimpleNamespace(inputs=["x"])))
    exceptions = ModuleType("mlflow.exceptions")
    exceptions.MlflowException = MlflowException  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    monkeypatch.setitem(sys.modules, "mlflow.exceptions", exceptions)
    for name in [name for name in sys.modules if name in ("support", "common") or name.startswith("common.")]:
        monkeypatch.delitem(sys.modules, name)  # another test's generated tree may have loaded its own copy
    monkeypatch.syspath_prepend(str(DEPLOYMENT.parent))
    monkeypatch.syspath_prepend(str(DEPLOYMENT))
    importlib.import_module("common.registry")
    spec = importlib.util.spec_from_file_location("pre_checks", DEPLOYMENT / "pre_deployment_checks.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    forget_helper_modules()


CONFIG = {"quality_gates": {"accuracy": {"min": 0.8}}, "registry": {"tags": {"team": "ml"}}}


def _check(checks: ModuleType, tmp_path: Path, aliases: dict[str, str], version: str,
           alias: str | None = "staging", serving_alias: str | None = None) -> list[str]:
    sys.modules["common.registry"].client = lambda: FakeClient(aliases)  # type: ignore[attr-defined]
    version_file = tmp_path / "model-version.json"
    version_file.write_text(json.dumps({"model_name": "churn", "version": version}), encoding="utf-8")
    checked, failures = checks.check("churn", alias, CONFIG, str(version_file), serving_alias)
    assert checked == version
    return list(failures)


def test_the_version_that_passed_staging_passes(checks: ModuleType, tmp_path: Path) -> None:
    assert _check(checks, tmp_path, {"staging": "4"}, "4") == []


def test_a_version_that_never_passed_staging_is_refused(checks: ModuleType, tmp_path: Path) -> None:
    assert _check(checks, tmp_path, {"staging": "3"}, "4") == [
        "version 4 has not passed the earlier environment: 'staging' holds version 3"]
    assert _check(checks, tmp_path, {}, "4") == [
        "version 4 has not passed the earlier environment: 'staging' holds no version"]


def test_a_first_environment_checks_the_version_without_an_alias(checks: ModuleType, tmp_path: Path) -> None:
    assert _check(checks, tmp_path, {}, "4", alias=None) == []


def test_a_rollback_redeploys_what_the_environment_was_last_promoted_to(checks: ModuleType, tmp_path: Path) -> None:
    """Staging has moved on to 7, production failed its release and still holds 6: a manual rollback of production
    redeploys 6, which holds production's own alias; a version that holds neither is still refused."""
    aliases = {"staging": "7", "production": "6"}
    assert _check(checks, tmp_path, aliases, "6", serving_alias="production") == []
    assert _check(checks, tmp_path, aliases, "5", serving_alias="production") == [
        "version 5 has not passed the earlier environment: 'staging' holds version 7"]
