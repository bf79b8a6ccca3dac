"""The pipeline model's steps as run-local runs them: the generated scripts, in pipeline order, on the local
backend. Gates stop the run; nothing is registered unless every gate before registration passed."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gen.local.folders import CodePath, Folders
from mlops_gen.pipeline import Ref, Step, build_pipeline
from mlops_gen.pipeline.model import EXTENSION, PYTEST, Value
from mlops_gen.render.filters import number
from mlops_gen.spec.model import ProjectSpec

RESULTS = ".mlops/results"  # relative to the model folder
STATE = ".mlops/state"  # MLOPS_WORKDIR: MLflow store, artifacts, scoring servers


@dataclass(frozen=True)
class Stage:
    name: str
    argv: tuple[str, ...]  # after the interpreter: a script (a CodePath) or `-m pytest ...` (test folders: CodePaths)
    gate: bool = False  # a failing gate is the model's verdict, not a broken run
    local_flags: bool = True  # contract scripts take --backend/--workdir
    runs_here: bool = True  # False: a pipeline-only step (your extension scripts), reported as skipped


@dataclass
class Outcome:
    stage: Stage
    status: str  # passed | failed | skipped
    seconds: float = 0.0
    exit_code: int | None = None
    log: Path | None = None
    tail: list[str] = field(default_factory=list)


# What the drift check compares the training data with: inputs made like production's (a shifted copy for
# `--inject drift`), since no traffic is logged on this machine.
CURRENT_INPUTS = f"{RESULTS}/current-inputs.csv"
DRIFT_SHIFT = "1.0"  # standard deviations: far above any threshold a spec allows for psi or ks

SAMPLE_DATA = CodePath("src/data/make_sample_data.py")  # makes the spec's local data, or the drift check's inputs

# run-local's spelling of the model's files (the platforms have their own): all under the results folder.
LOCAL_FILES = {"version": "version.json", "model-card": "model_card.md"}


def _local(value: Value, lineage: dict[str, str], data_path: str) -> str:
    """A model value as run-local passes it: Refs become files under the results folder or local facts."""
    if not isinstance(value, Ref):
        return number(value) if isinstance(value, float) else str(value)
    if value.kind == "file":
        name = LOCAL_FILES.get(value.arg, value.arg)
        return f"{RESULTS}/{name if '.' in name.rsplit('/', 1)[-1] else name + '.json'}"
    if value.kind == "endpoint_file":
        return f"{RESULTS}/endpoint-{value.arg}.json"
    if value.kind == "tag":
        return f"{value.arg}={lineage[value.arg]}"
    return {"data_path": data_path, "pipeline_config": "config/pipeline.yaml", "image": "local",
            "run_url": "run=local", "drift_reference": data_path, "drift_current": CURRENT_INPUTS}[value.kind]


def to_stage(step: Step, lineage: dict[str, str], data_path: str, overrides: dict[str, str] | None = None) -> Stage:
    """One model step as a local command line; `overrides` replaces flag values (run-local's short monitor
    windows)."""
    if step.script == EXTENSION:  # your scripts run in the pipelines, with their cloud login; not here
        return Stage(f"{step.name} (your step: pipelines only)", (step.path,), gate=step.gate, local_flags=False,
                     runs_here=False)
    argv: list[str] = [] if step.script == PYTEST else [CodePath(step.script)]
    for flag, value in step.flags:
        text = (overrides or {}).get(flag) or _local(value, lineage, data_path)
        if not flag:  # positional: the test folder of a pytest step
            argv.append(CodePath(text) if step.script == PYTEST else text)
        else:
            argv += [f"{flag}={text}"] if flag == "--junitxml" else [flag, text]
    if step.script == PYTEST:
        return Stage(step.name, ("-m", "pytest", *argv, "-q", "-p", "no:cacheprovider"), gate=step.gate,
                     local_flags=False)
    return Stage(step.name, tuple(argv), gate=step.gate)


def training_stages(spec: ProjectSpec, lineage: dict[str, str], data_path: str) -> list[Stage]:
    """The model's training stages in order; gates stop the run before registration."""
    return [to_stage(step, lineage, data_path) for stage in build_pipeline(spec).training for step in stage.steps]


def serving_stages(spec: ProjectSpec, lineage: dict[str, str], data_path: str) -> list[Stage]:
    """The release to the first environment, as its pipeline runs it: deploy (on 127.0.0.1), smoke test, endpoint
    tests, each step the model's."""
    release = build_pipeline(spec).releases[0]
    return [to_stage(step, lineage, data_path) for step in release.steps()]


def drift_stages(spec: ProjectSpec, shifted: bool) -> list[Stage]:
    """The drift check on this machine: current inputs (shifted with `shifted`), then the model's drift steps."""
    make = (SAMPLE_DATA, "--output", CURRENT_INPUTS, "--rows", "2000", "--seed", "7",
            *(("--shift", DRIFT_SHIFT) if shifted else ()))
    lineage: dict[str, str] = {}
    return [Stage("current inputs" + (" (shifted)" if shifted else ""), make, local_flags=False),
            *(to_stage(step, lineage, spec.data.local_path) for step in build_pipeline(spec).drift)]


def run_stage(stage: Stage, index: int, python: Path, folders: Folders, env: dict[str, str],
              timeout: float) -> Outcome:
    """Run one stage in the model folder, its code placed by `folders`, with its output in a log file; a failure
    keeps the log's last lines for the report."""
    logs = folders.model / RESULTS / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in stage.name).strip("-")
    log = logs / f"{index:02d}-{slug}.log"
    argv = [str(python), *folders.argv(stage.argv)]
    if stage.local_flags:
        argv += ["--backend", "local", "--workdir", STATE]
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        out.write("$ " + " ".join(argv[1:]) + "\n")
        out.flush()
        try:
            code = subprocess.run(argv, cwd=folders.model, env=env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=timeout, check=False).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\ntimed out after {timeout:.0f}s\n")
            code = -1
    seconds = time.monotonic() - started
    if code == 0:
        return Outcome(stage, "passed", seconds, code, log)
    tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
    return Outcome(stage, "failed", seconds, code, log, tail)


def stage_env(python: Path, folders: Folders) -> dict[str, str]:
    """The scripts' environment: local backend, the venv first on PATH, no inherited MLflow or Azure targets, and
    where the model folder is when the code is shared."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("MLFLOW_", "AZURE_", "MLOPS_", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"))}
    env.update(MLOPS_BACKEND="local", MLOPS_WORKDIR=STATE, PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    env.update(folders.env())
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    return env


def skipped(stages: Sequence[Stage]) -> list[Outcome]:
    return [Outcome(stage, "skipped") for stage in stages]
