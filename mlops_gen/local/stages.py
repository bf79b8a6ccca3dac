"""The training pipeline's stages as run-local runs them: the generated scripts, in pipeline order, on the local
backend. Gates stop the run; nothing is registered unless every gate before registration passed."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gen.spec.model import (
    LOWER_IS_BETTER,
    ProjectSpec,
    champion_metric,
    endpoint_name,
    experiment_name,
    fairness_enabled,
    metric_gates,
)

RESULTS = ".mlops/results"  # relative to the model folder
STATE = ".mlops/state"  # MLOPS_WORKDIR: MLflow store, artifacts, scoring servers


@dataclass(frozen=True)
class Stage:
    name: str
    argv: tuple[str, ...]  # after the interpreter: a script path or `-m pytest ...`
    gate: bool = False  # a failing gate is the model's verdict, not a broken run
    local_flags: bool = True  # contract scripts take --backend/--workdir


@dataclass
class Outcome:
    stage: Stage
    status: str  # passed | failed | skipped
    seconds: float = 0.0
    exit_code: int | None = None
    log: Path | None = None
    tail: list[str] = field(default_factory=list)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def training_stages(spec: ProjectSpec, lineage: dict[str, str], data_path: str) -> list[Stage]:
    """validate data → train → wait → metrics → gates → register → promote to staging → model card."""
    r = RESULTS
    data, model, name = spec.data, spec.model, spec.model.name
    stages = [
        Stage("validate data", ("src/data_validation/validate_data.py", "--data-path", data_path, "--expectations",
                                data.expectations, "--junit-output", f"{r}/data-validation.xml", "--report-output",
                                f"{r}/data-validation.json"), gate=True),
        Stage("train", ("src/training/submit_training.py", "--experiment", experiment_name(spec), "--data-path",
                        data_path, "--target", data.target, "--task", model.task, "--config", spec.training.config,
                        "--test-size", _number(data.test_size), "--timeout-minutes",
                        str(spec.training.timeout_minutes), "--job-file", f"{r}/job.json",
                        *[item for key, value in lineage.items() for item in ("--tag", f"{key}={value}")])),
        Stage("wait for training", ("src/training/wait_for_completion.py", "--job-file", f"{r}/job.json",
                                    "--timeout-minutes", str(spec.training.timeout_minutes))),
        Stage("collect metrics", ("src/training/get_metrics.py", "--job-file", f"{r}/job.json", "--output",
                                  f"{r}/metrics.json")),
    ]
    bounds: list[str] = []
    for metric, bound in metric_gates(spec).items():
        bounds += [item for flag, value in (("--min", bound.min), ("--max", bound.max)) if value is not None
                   for item in (flag, f"{metric}={_number(value)}")]
    stages.append(Stage("metric gate", ("src/validation/validate_metrics.py", "--metrics-file", f"{r}/metrics.json",
                                        *bounds, "--junit-output", f"{r}/metric-gates.xml"), gate=True))
    if spec.champion_challenger.enabled:
        metric = champion_metric(spec)
        stages.append(Stage("champion/challenger", (
            "src/validation/champion_challenger.py", "--metrics-file", f"{r}/metrics.json", "--model-name", name,
            "--alias", spec.registry.aliases.production, "--metric", metric, "--direction",
            "lower" if metric in LOWER_IS_BETTER else "higher", "--min-improvement",
            _number(spec.champion_challenger.min_improvement), "--junit-output", f"{r}/champion-challenger.xml",
            "--output", f"{r}/champion-challenger.json"), gate=True))
    if fairness_enabled(spec) and spec.fairness is not None and model.task == "classification":
        features = [item for feature in spec.fairness.sensitive_features
                    for item in ("--sensitive-feature", feature)]
        stages.append(Stage("fairness gate", (
            "src/validation/fairness_assessment.py", "--job-file", f"{r}/job.json", "--target", data.target,
            *features, "--metric", spec.fairness.metric, "--threshold", _number(spec.fairness.threshold),
            "--junit-output", f"{r}/fairness.xml", "--output", f"{r}/fairness.json"), gate=True))
    if spec.explainability.enabled:
        stages.append(Stage("explainability", (
            "src/validation/explainability_analysis.py", "--job-file", f"{r}/job.json", "--target", data.target,
            "--method", spec.explainability.method, "--top-features", str(spec.explainability.top_features),
            "--output", f"{r}/explainability.json")))
    tags = {**lineage, **spec.registry.tags}
    stages += [
        Stage("register model", ("src/registration/register_model.py", "--job-file", f"{r}/job.json", "--model-name",
                                 name, "--metrics-file", f"{r}/metrics.json",
                                 *[item for key, value in tags.items() for item in ("--tag", f"{key}={value}")],
                                 "--output", f"{r}/version.json")),
        Stage(f"promote to {spec.registry.aliases.staging}", (
            "src/registration/promote_model.py", "--model-name", name, "--version-file", f"{r}/version.json",
            "--alias", spec.registry.aliases.staging)),
        Stage("model card", (
            "src/documentation/generate_model_card.py", "--model-name", name, "--version-file", f"{r}/version.json",
            "--metrics-file", f"{r}/metrics.json", "--fairness-file", f"{r}/fairness.json",
            "--explainability-file", f"{r}/explainability.json", "--pipeline-config", "config/pipeline.yaml",
            "--output", f"{r}/model_card.md")),
    ]
    return stages


def serving_stages(spec: ProjectSpec) -> list[Stage]:
    """Serve the staging version on 127.0.0.1, then the smoke test and the endpoint tests against it."""
    r = RESULTS
    env = spec.environments[0]
    endpoint_file = f"{r}/endpoint.json"
    return [
        Stage("serve locally", ("src/deployment/deploy.py", "--target", env.target, "--environment", env.name,
                                "--model-name", spec.model.name, "--alias", spec.registry.aliases.staging,
                                "--endpoint-name", endpoint_name(spec, env), "--output", endpoint_file)),
        Stage("smoke test", ("tests/smoke_test.py", "--endpoint-file", endpoint_file, "--test-data",
                             "tests/data/smoke_test_data.json"), gate=True),
        Stage("endpoint tests", ("-m", "pytest", "tests/endpoint", "--endpoint-file", endpoint_file, "-q",
                                 "-p", "no:cacheprovider", f"--junitxml={r}/endpoint-tests.xml"), gate=True,
              local_flags=False),
    ]


def run_stage(stage: Stage, index: int, python: Path, model_dir: Path, env: dict[str, str],
              timeout: float) -> Outcome:
    """Run one stage with its output in a log file; a failure keeps the log's last lines for the report."""
    logs = model_dir / RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in stage.name).strip("-")
    log = logs / f"{index:02d}-{slug}.log"
    argv = [str(python), *stage.argv]
    if stage.local_flags:
        argv += ["--backend", "local", "--workdir", STATE]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(argv[1:]) + "\n")
        out.flush()
        try:
            code = subprocess.run(argv, cwd=model_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\ntimed out after {timeout:.0f}s\n")
            code = -1
    seconds = time.monotonic() - started
    if code == 0:
        return Outcome(stage, "passed", seconds, code, log)
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
    return Outcome(stage, "failed", seconds, code, log, tail)


def stage_env(python: Path) -> dict[str, str]:
    """The scripts' environment: local backend, the venv first on PATH, no inherited MLflow or Azure targets."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLFLOW_", "AZURE_", "MLOPS_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"))}
    env.update(MLOPS_BACKEND="local", MLOPS_WORKDIR=STATE, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    return env


def skipped(stages: Sequence[Stage]) -> list[Outcome]:
    return [Outcome(stage, "skipped") for stage in stages]
