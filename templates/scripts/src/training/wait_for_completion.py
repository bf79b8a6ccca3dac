#!/usr/bin/env python3
"""Wait for the training job in the job file to finish; exit 0 when it completed, 1 when it failed or timed out.

A job that outlives the wait, or whose wait is cancelled (the pipeline run cancelled or timed out: the agent
signals the step with SIGINT, then SIGTERM), is cancelled in Azure ML too (`JobOperations.begin_cancel`), so no
compute keeps running for a pipeline that gave up on it.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, describe, guarded, ml_client
from common.files import read_job, write_json

POLL_SECONDS = 30
DONE = {"Completed": "Completed", "FINISHED": "Completed", "Failed": "Failed", "FAILED": "Failed",
        "Canceled": "Canceled", "KILLED": "Canceled", "NotResponding": "Failed"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
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


def canceller(args: argparse.Namespace, job: dict[str, Any]) -> Callable[[], None]:
    """A function cancelling the job where it runs."""
    if job["backend"] == "azure":
        client = ml_client(args)
        return lambda: client.jobs.begin_cancel(job["job_name"]).wait(timeout=60)
    mlflow_client = configure_mlflow(args).MlflowClient()
    return lambda: mlflow_client.set_terminated(job["run_id"], status="KILLED")


def wait(read_status: Any, timeout_seconds: float, poll_seconds: float = POLL_SECONDS,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> str:
    deadline = clock() + timeout_seconds
    while True:
        status = read_status()
        if status in DONE:
            return DONE[status]
        if clock() >= deadline:
            return "TimedOut"
        print(f"status {status}; checking again in {poll_seconds:.0f}s", flush=True)
        sleep(min(poll_seconds, max(deadline - clock(), 0.1)))


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def wait_or_cancel(read_status: Any, cancel: Callable[[], None], timeout_seconds: float, poll_seconds: float,
                   **clock: Any) -> str:
    """The job's final status; a job still running when the wait times out or is interrupted is cancelled."""
    try:
        status = wait(read_status, timeout_seconds, poll_seconds, **clock)
    except KeyboardInterrupt:
        print("the wait was interrupted: cancelling the job", file=sys.stderr, flush=True)
        cancel()
        return "Canceled"
    if status == "TimedOut":
        print(f"the job outlived {timeout_seconds / 60:g} minutes: cancelling it", file=sys.stderr, flush=True)
        cancel()
    return status


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    job = read_job(args.job_file)
    poll = POLL_SECONDS if job["backend"] == "azure" else 1.0
    signal.signal(signal.SIGTERM, _interrupt)
    status = wait_or_cancel(status_reader(args, job), canceller(args, job), args.timeout_minutes * 60, poll)
    job["status"] = status
    write_json(args.job_file, job)
    print(f"job {job['job_name']}: {status}")
    return 0 if status == "Completed" else 1


if __name__ == "__main__":
    raise SystemExit(main())
