#!/usr/bin/env python3
"""Wait for the training job in the job file to finish; exit 0 when it completed, 1 when it failed or timed out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, guarded, ml_client
from common.files import read_job, write_json

POLL_SECONDS = 30
DONE = {"Completed": "Completed", "FINISHED": "Completed", "Failed": "Failed", "FAILED": "Failed",
        "Canceled": "Canceled", "KILLED": "Canceled", "NotResponding": "Failed"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job-file", required=True, help="job file written by submit_training.py")
    parser.add_argument("--timeout-minutes", required=True, type=float, help="give up after this long")
    return add_common_arguments(parser)


def status_reader(args: argparse.Namespace, job: dict[str, Any]) -> Any:
    """A function returning the job's current status string, from Azure ML or the local MLflow store."""
    if job["backend"] == "azure":
        client = ml_client(args)
        return lambda: str(client.jobs.get(job["job_name"]).status)
    mlflow_client = configure_mlflow(args).MlflowClient()
    return lambda: str(mlflow_client.get_run(job["run_id"]).info.status)


def wait(read_status: Any, timeout_seconds: float, poll_seconds: float = POLL_SECONDS) -> str:
    deadline = time.monotonic() + timeout_seconds
    while True:
        status = read_status()
        if status in DONE:
            return DONE[status]
        if time.monotonic() >= deadline:
            return "TimedOut"
        print(f"status {status}; checking again in {poll_seconds:.0f}s", flush=True)
        time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0.1)))


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    job = read_job(args.job_file)
    poll = POLL_SECONDS if job["backend"] == "azure" else 1.0
    status = wait(status_reader(args, job), args.timeout_minutes * 60, poll)
    job["status"] = status
    write_json(args.job_file, job)
    print(f"job {job['job_name']}: {status}")
    return 0 if status == "Completed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
