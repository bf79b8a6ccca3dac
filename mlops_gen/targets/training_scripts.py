"""Planner for the training side of the scripts target: stage scripts, their shared helpers, config and tests.

Scripts are generic (everything spec-specific reaches them through flags or `config/pipeline.yaml`), so their
templates are plain Python; only config files and the generated tests read the spec.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlops_gen.layout.paths import Monorepo
from mlops_gen.render.context import container_size, deployment_names
from mlops_gen.render.plan import Mode, OutputFile
from mlops_gen.spec.model import (
    LOWER_IS_BETTER,
    Environment,
    ProjectSpec,
    champion_metric,
    endpoint_name,
    experiment_name,
    fairness_enabled,
    is_production,
    metric_gates,
)

TARGET = "scripts"

# Stage scripts and helpers, executable when run as `python src/<stage>/<name>.py`.
SCRIPTS = (
    "src/data/make_sample_data.py",
    "src/preflight/check_access.py",
    "src/data_validation/validate_data.py",
    "src/training/train.py",
    "src/training/submit_training.py",
    "src/training/wait_for_completion.py",
    "src/training/get_metrics.py",
    "src/validation/validate_metrics.py",
    "src/validation/champion_challenger.py",
    "src/validation/fairness_assessment.py",
    "src/validation/explainability_analysis.py",
    "src/registration/register_model.py",
    "src/registration/promote_model.py",
    "src/registration/compare_models.py",
    "src/registration/archive_versions.py",
    "src/documentation/generate_model_card.py",
    "src/documentation/update_deployment_docs.py",
    "src/notification/send_notification.py",
    "src/monitoring/detect_drift.py",
    "src/monitoring/configure_monitoring.py",
)

MODULES = (
    "src/common/__init__.py",
    "src/common/backend.py",
    "src/common/evaluation.py",
    "src/common/files.py",
    "src/common/paths.py",
    "src/common/junit.py",
    "src/common/registry.py",
    "src/common/tabular.py",
)

TESTS = (
    "tests/conftest.py",
    "tests/data/test_data_quality.py",
    "tests/model/test_model_performance.py",
    "tests/unit/test_common.py",
    "tests/unit/test_data_validation.py",
    "tests/unit/test_gates.py",
    "tests/unit/test_drift.py",
    "tests/unit/test_sample_data.py",
    "tests/unit/test_notification.py",
    "tests/unit/test_local_pipeline.py",
    "tests/unit/test_serving.py",
    "tests/unit/test_deployment_local.py",
    "tests/unit/test_azure_fakes.py",
    "tests/unit/test_preflight.py",
    "tests/unit/test_pod_traffic.py",
    "tests/unit/test_model_dir.py",
)
# Only in the monorepo layout: the runner its shared CI files call with a model's plan (config/plan.json).
MONOREPO_SHARED = ("src/pipeline/run_plan.py", "tests/unit/test_run_plan.py")
PIPELINE_CONFIG = "config/pipeline.yaml"

OWNED_FILES = (
    "config/pipeline.yaml",
    "mypy.ini",
    "requirements.txt",
    "requirements-azure.txt",
    "requirements-dev.txt",
    "ruff.toml",
)


def _file(path: str, *, mode: Mode = "owned", executable: bool = False, template: str | None = None,
          extra: dict[str, Any] | None = None) -> OutputFile:
    return OutputFile(path=path, template=f"scripts/{template or path}", target=TARGET, mode=mode,
                      executable=executable, extra=extra or {})


def _code(python_version: str | None) -> list[OutputFile]:
    """The scripts, their helpers, tests and tool settings: the same for every model but for mypy's Python."""
    files = [_file(path, executable=True) for path in SCRIPTS]
    files += [_file(path, extra={"python_version": python_version} if path == "mypy.ini" else None)
              for path in (*MODULES, *TESTS, *OWNED_FILES) if path != PIPELINE_CONFIG]
    return files


def _model(spec: ProjectSpec) -> list[OutputFile]:
    """The model's own files: its settings, and (seeded: written once, then the user's to tune; the spec names
    where they live) its training config and data expectations."""
    return [_file(PIPELINE_CONFIG, extra={"pipeline_settings": pipeline_settings(spec)}),
            _file(spec.training.config, mode="seeded", template="config/training_config.yaml"),
            _file(spec.data.expectations, mode="seeded", template="config/data_expectations.json",
                  extra={"expectations": data_expectations(spec)})]


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    # The whole folder is the Azure ML job's code snapshot: .amlignore leaves out what the job does not need.
    return [*_code(spec.python_version), *_model(spec), _file(".amlignore", template="amlignore")]


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    """The shared code (submit_training.py copies src/ and the training config into the job's code snapshot)."""
    files = [*_code(None), *(_file(path, executable=path.startswith("src/")) for path in MONOREPO_SHARED)]
    return [replace(file, path=repo.shared(file.path)) for file in files]


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    return [replace(file, path=repo.model(spec.model.name, file.path)) for file in _model(spec)]


def environment_settings(spec: ProjectSpec, env: Environment) -> dict[str, Any]:
    """What the deployment scripts read about an environment: they are the same for every model."""
    names = deployment_names(spec, env)
    settings = {"name": env.name, "target": env.target, "production": is_production(env), "approval": env.approval,
                "endpoint_name": endpoint_name(spec, env),
                "deployments": {"stable": names["stable_deployment"], "candidate": names["candidate_deployment"]}}
    if env.target == "aci":
        settings["container_size"] = container_size(env)
    return settings


def pipeline_settings(spec: ProjectSpec) -> dict[str, Any]:
    """config/pipeline.yaml: the spec's settings the scripts and generated tests read (gates with defaults applied)."""
    gates = {name: {key: value for key, value in (("min", bound.min), ("max", bound.max)) if value is not None}
             for name, bound in metric_gates(spec).items()}
    metric = champion_metric(spec)
    fairness = spec.fairness if fairness_enabled(spec) else None
    return {
        "model": {"name": spec.model.name, "description": spec.model.description, "task": spec.model.task,
                  "framework": spec.model.framework, "owners": list(spec.model.owners)},
        "data": spec.data.model_dump(mode="json"),
        "training": {**spec.training.model_dump(mode="json"), "experiment": experiment_name(spec)},
        "quality_gates": gates,
        "champion_challenger": {"enabled": spec.champion_challenger.enabled, "metric": metric,
                                "direction": "lower" if metric in LOWER_IS_BETTER else "higher",
                                "min_improvement": spec.champion_challenger.min_improvement},
        "fairness": None if fairness is None else {
            "sensitive_features": list(fairness.sensitive_features), "metric": fairness.metric,
            "threshold": fairness.threshold},
        "explainability": spec.explainability.model_dump(mode="json"),
        "registry": spec.registry.model_dump(mode="json"),
        "environments": [environment_settings(spec, env) for env in spec.environments],
        "rollout": spec.rollout.model_dump(mode="json"),
        "monitoring": spec.monitoring.model_dump(mode="json"),
        "notifications": spec.notifications.model_dump(mode="json"),
    }


# The sample table of src/data/make_sample_data.py, column by column: the seeded expectations describe it.
_CLASSIFICATION_COLUMNS: dict[str, dict[str, Any]] = {
    "age": {"dtype": "integer", "min": 18, "max": 100},
    "gender": {"dtype": "string", "allowed_values": ["female", "male"]},
    "tenure_months": {"dtype": "integer", "min": 0, "max": 120},
    "contract": {"dtype": "string", "allowed_values": ["month-to-month", "one-year", "two-year"]},
    "payment_method": {"dtype": "string",
                       "allowed_values": ["bank-transfer", "card", "electronic-check", "mailed-check"]},
    "monthly_charges": {"dtype": "number", "min": 0, "max": 500},
    "total_charges": {"dtype": "number", "min": 0, "max": 100000},
    "support_calls": {"dtype": "integer", "min": 0, "max": 50},
}
_REGRESSION_COLUMNS: dict[str, dict[str, Any]] = {
    "sqft": {"dtype": "integer", "min": 100, "max": 20000},
    "bedrooms": {"dtype": "integer", "min": 0, "max": 20},
    "bathrooms": {"dtype": "integer", "min": 0, "max": 20},
    "year_built": {"dtype": "integer", "min": 1800, "max": 2100},
    "neighborhood": {"dtype": "string", "allowed_values": ["centre", "east", "north", "south", "west"]},
    "garage_spaces": {"dtype": "integer", "min": 0, "max": 10},
}


def data_expectations(spec: ProjectSpec) -> dict[str, Any]:
    classification = spec.model.task == "classification"
    columns = {name: {**rule, "max_null_fraction": 0.0}
               for name, rule in (_CLASSIFICATION_COLUMNS if classification else _REGRESSION_COLUMNS).items()}
    fairness = spec.fairness.sensitive_features if spec.fairness else []
    for name in fairness:
        columns.setdefault(name, {"dtype": "string", "allowed_values": ["group-a", "group-b", "group-c"],
                                  "max_null_fraction": 0.0})
    target = spec.data.target
    if classification:
        columns[target] = {"dtype": "integer", "allowed_values": [0, 1], "max_null_fraction": 0.0}
        distribution = {target: {"frequencies": {"0": 0.55, "1": 0.45}, "tolerance": 0.1}}
    else:
        columns[target] = {"dtype": "number", "min": 0, "max": 10000000, "max_null_fraction": 0.0}
        distribution = {target: {"mean": {"min": 300000, "max": 700000}}}
    return {
        "description": "Created by mlops-gen for the sample data of src/data/make_sample_data.py. This file is "
                       "yours: describe your real training table here.",
        "row_count": {"min": 500},
        "allow_extra_columns": False,
        "columns": columns,
        "distribution": distribution,
    }
