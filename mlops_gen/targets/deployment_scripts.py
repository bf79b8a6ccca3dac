"""Planner for the serving side of the scripts target: deployment scripts, the scoring app, endpoint tests.

Scripts are the same for every model: the spec values they need (the model name, deployment names, ACI sizes) are
read at run time from config/pipeline.yaml; the endpoint tests' defaults reach them through the `py` filter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlops_gen.layout.paths import Monorepo
from mlops_gen.render.plan import Mode, OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets import training_scripts

TARGET = "scripts"

DEPLOYMENT_SCRIPTS = (
    "src/deployment/deploy.py",
    "src/deployment/export_model.py",
    "src/deployment/monitor_deployment.py",
    "src/deployment/pre_deployment_checks.py",
    "src/deployment/promote.py",
    "src/deployment/rollback.py",
    "src/serving/app.py",
    "tests/smoke_test.py",
)
MODULES = (
    "src/deployment/aci_target.py",
    "src/deployment/aks_target.py",
    "src/deployment/azureml_target.py",
    "src/deployment/local_router.py",  # started by local_target.py with the interpreter, not a pipeline step
    "src/deployment/local_target.py",
    "src/deployment/pod_traffic.py",
    "src/deployment/support.py",
    "src/serving/__init__.py",
    "src/serving/access_log.py",
    "src/serving/client.py",
    "src/serving/collection.py",
    "src/serving/healthcheck.py",
    "tests/endpoint/conftest.py",
    "tests/endpoint/test_endpoint.py",
)
SMOKE_DATA = "tests/data/smoke_test_data.json"
SMOKE_RECORDS = 5
# Where in each column's range the sample records sit: spread out, away from the extremes.
_POSITIONS = (0.1, 0.3, 0.5, 0.2, 0.05)


def _file(path: str, *, mode: Mode = "owned", executable: bool = False,
          extra: dict[str, Any] | None = None) -> OutputFile:
    return OutputFile(path=path, template=f"scripts/{path}", target=TARGET, mode=mode, executable=executable,
                      extra=extra or {})


def smoke_records(spec: ProjectSpec) -> list[dict[str, Any]]:
    """Sample input records matching the sample data's columns (target excluded), from the data expectations."""
    columns = training_scripts.data_expectations(spec)["columns"]
    records = []
    for position in _POSITIONS[:SMOKE_RECORDS]:
        record: dict[str, Any] = {}
        for name, rule in columns.items():
            if name == spec.data.target:
                continue
            if "allowed_values" in rule:
                values = rule["allowed_values"]
                record[name] = values[int(position * 10) % len(values)]
            elif rule["dtype"] == "integer":
                record[name] = int(rule["min"] + (rule["max"] - rule["min"]) * position)
            else:
                record[name] = round(rule["min"] + (rule["max"] - rule["min"]) * position, 2)
        records.append(record)
    return records


def _code() -> list[OutputFile]:
    return [*(_file(path, executable=True) for path in DEPLOYMENT_SCRIPTS), *(_file(path) for path in MODULES)]


def _model(spec: ProjectSpec) -> list[OutputFile]:
    return [_file(SMOKE_DATA, mode="seeded", extra={"records": {"records": smoke_records(spec)}})]


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return [*_code(), *_model(spec)]


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    return [replace(file, path=repo.shared(file.path)) for file in _code()]


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [replace(file, path=repo.model(spec.model.name, file.path)) for file in _model(spec)]
