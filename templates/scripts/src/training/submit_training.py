#!/usr/bin/env python3
"""Start the training job and write a job file (backend, run id, experiment, status) for the later stages.

azure: an azure-ai-ml command job runs src/training/train.py on the compute cluster with the data asset as input;
its MLflow run id is the job name. local: the MLflow run is created here and train.py runs in a subprocess against
the local store, within the timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess  # nosec B404
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import (
    ScriptError,
    add_common_arguments,
    backend_of,
    configure_mlflow,
    data_asset,
    describe,
    ensure_experiment,
    guarded,
    ml_client,
    workdir_of,
)
from common.evaluation import TASKS
from common.files import data_fingerprint, parse_pairs, pinned_data, write_json
from common.paths import CODE_ROOT, model_dir

TRAIN_SCRIPT = "src/training/train.py"  # relative to the job's code folder
# Azure ML's placeholder for the data input, written in two pieces so the generator's templates leave it alone.
DATA_INPUT = "${" + "{inputs.data}}"
# Base image of the Azure ML training environment; requirements-azure.txt is installed on top of it.
AML_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi5.0-ubuntu24.04:latest"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--experiment", required=True, help="MLflow / Azure ML experiment name")
    parser.add_argument("--compute", help="Azure ML compute cluster (azure)")
    parser.add_argument("--dataset", help="Azure ML data asset name (azure)")
    parser.add_argument("--dataset-version", default="latest", help="data asset version [latest]")
    parser.add_argument("--data-path", help="training table on this machine (local)")
    parser.add_argument("--data-file", help="the data validation pinned (validate_data.py --data-output): train on "
                        "exactly that asset version, or refuse a local table that changed since")
    parser.add_argument("--target", required=True, help="label column")
    parser.add_argument("--task", required=True, choices=TASKS,
                        help="model task: decides the estimator and the metrics")
    parser.add_argument("--config", required=True, help="training config YAML")
    parser.add_argument("--test-size", type=float, default=0.2, help="held-out fraction [0.2]")
    parser.add_argument("--timeout-minutes", type=int, default=120, help="job timeout [120]")
    parser.add_argument("--job-file", required=True, help="JSON written for wait/get-metrics")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="run tag (repeatable)")
    return add_common_arguments(parser)


def _train_args(args: argparse.Namespace, data: str, output_dir: str) -> list[str]:
    return ["--data-path", data, "--target", args.target, "--task", args.task, "--config", args.config,
            "--test-size", str(args.test_size), "--output-dir", output_dir]


def apply_pin(args: argparse.Namespace) -> None:
    """Train on the data validation saw: its asset version (never `latest` again), or the same local bytes."""
    if not args.data_file:
        return
    pinned = pinned_data(args.data_file)
    if "version" in pinned:
        if args.dataset and pinned["dataset"] != args.dataset:
            raise ScriptError(f"{args.data_file} pins {pinned['dataset']}, not --dataset {args.dataset}")
        args.dataset, args.dataset_version = pinned["dataset"], pinned["version"]
        print(f"training on {args.dataset}:{args.dataset_version}, the version data validation checked")
    elif args.data_path and data_fingerprint(args.data_path) != pinned["sha256"]:
        raise ScriptError(f"{args.data_path} changed since data validation checked it: validate it again")


def submit_local(args: argparse.Namespace, tags: dict[str, str]) -> dict[str, Any]:
    if not args.data_path:
        raise ScriptError("the local backend needs --data-path")
    mlflow = configure_mlflow(args)
    experiment_id = ensure_experiment(args, args.experiment)
    run = mlflow.MlflowClient().create_run(experiment_id, tags={**tags, "mlops.backend": "local"})
    run_id = run.info.run_id
    output_dir = workdir_of(args) / "runs" / run_id
    env = {**os.environ, "MLFLOW_RUN_ID": run_id, "MLFLOW_TRACKING_URI": mlflow.get_tracking_uri(),
           "MLOPS_BACKEND": "local"}
    train_script = str(Path(__file__).resolve().parent / "train.py")
    command = [sys.executable, train_script, *_train_args(args, args.data_path, str(output_dir)),
               "--backend", "local", "--workdir", str(workdir_of(args))]
    started = time.monotonic()
    try:
        result = subprocess.run(command, env=env, check=False,  # noqa: S603  # nosec B603
                                timeout=args.timeout_minutes * 60)
        status = "Completed" if result.returncode == 0 else "Failed"
    except subprocess.TimeoutExpired:
        status = "Failed"
        print(f"training exceeded {args.timeout_minutes} minutes", file=sys.stderr)
    if status != "Completed":
        mlflow.MlflowClient().set_terminated(run_id, status="FAILED")
    return {"backend": "local", "run_id": run_id, "job_name": run_id, "experiment": args.experiment,
            "status": status, "output_dir": str(output_dir), "seconds": round(time.monotonic() - started, 1)}


def _conda_env() -> dict[str, Any]:
    pins = []
    for name in ("requirements.txt", "requirements-azure.txt"):
        for line in (CODE_ROOT / name).read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                pins.append(line)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return {"name": "training", "channels": ["conda-forge"],
            "dependencies": [f"python={version}", "pip", {"pip": pins}]}


def submit_azure(args: argparse.Namespace, tags: dict[str, str]) -> dict[str, Any]:
    from azure.ai.ml import Input

    if not args.dataset or not args.compute:
        raise ScriptError("the azure backend needs --dataset and --compute")
    client = ml_client(args)
    asset = data_asset(args, args.dataset, args.dataset_version)
    inputs = {"data": Input(type=asset.type, path=asset.id)}
    train_command = " ".join([f"python {TRAIN_SCRIPT}", *_train_args(args, DATA_INPUT, "outputs")])
    with tempfile.TemporaryDirectory(prefix="training-code-") as snapshot:
        # Uploaded by create_or_update, before the snapshot goes.
        return _submit(client, args, tags, inputs, train_command, code_folder(args.config, Path(snapshot)))


def code_folder(config: str, snapshot: Path) -> str:
    """The job's code: src/ and the training config. A model folder holding both is uploaded as it is (its
    .amlignore leaves the rest out); in the monorepo layout the shared src/ and the model's config are copied into
    `snapshot`, so the job sees the same relative paths."""
    if model_dir() == CODE_ROOT:
        return str(CODE_ROOT)
    shutil.copytree(CODE_ROOT / "src", snapshot / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = snapshot / config
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_dir() / config, target)
    return str(snapshot)


def _submit(client: Any, args: argparse.Namespace, tags: dict[str, str], inputs: dict[str, Any],
            train_command: str, code: str) -> dict[str, Any]:
    from azure.ai.ml import command
    from azure.ai.ml.entities import Environment

    job = command(
        code=code,  # src/ and config/; files matched by .gitignore/.amlignore stay out
        command=train_command,
        inputs=inputs,
        environment=Environment(image=AML_BASE_IMAGE, conda_file=_conda_env()),
        compute=args.compute,
        experiment_name=args.experiment,
        display_name=f"{args.experiment}-{tags.get('build_id', 'manual')}",
        tags={**tags, "mlops.backend": "azure"},
        environment_variables={"MLOPS_BACKEND": "azure"},
        timeout=args.timeout_minutes * 60,
    )
    submitted = client.jobs.create_or_update(job)
    print(f"submitted Azure ML job {submitted.name}: {submitted.studio_url}")
    return {"backend": "azure", "run_id": submitted.name, "job_name": submitted.name,
            "experiment": args.experiment, "status": submitted.status, "studio_url": submitted.studio_url}


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    tags = parse_pairs(args.tag, "--tag")
    apply_pin(args)
    job = submit_local(args, tags) if backend_of(args) == "local" else submit_azure(args, tags)
    write_json(args.job_file, job)
    print(f"job {job['job_name']} ({job['backend']}): {job['status']}; job file {args.job_file}")
    return 1 if job["status"] == "Failed" else 0


if __name__ == "__main__":
    raise SystemExit(main())
