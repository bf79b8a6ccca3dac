#!/usr/bin/env python3
"""Write the metrics of the job's MLflow run to a JSON file, the input of every metric gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, configure_mlflow, describe, guarded
from common.files import read_job, write_json
from common.registry import run_metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--job-file", required=True, help="job file written by submit_training.py")
    parser.add_argument("--output", required=True, help="metrics JSON to write")
    return add_common_arguments(parser)


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    job = read_job(args.job_file)
    client = configure_mlflow(args).MlflowClient()
    metrics = run_metrics(client, job["run_id"])
    if not metrics:
        raise ScriptError(f"run {job['run_id']} logged no metrics; did training finish?")
    write_json(args.output, metrics)
    for name, value in metrics.items():
        print(f"{name}: {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
