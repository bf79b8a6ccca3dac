#!/usr/bin/env python3
"""Register the run's model in the MLflow model registry with lineage tags, and write a version file.

Tags: every --tag KEY=VALUE (pipelines pass build_id, build_number, branch, commit, spec_hash and the spec's
registry tags), plus the run id and the gate metrics. Run only after every gate passed: a registered version is a
candidate for deployment.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, describe, guarded
from common.files import parse_pairs, read_job, read_json, write_json
from common.registry import model_uri

LINEAGE = ("build_id", "build_number", "branch", "commit", "spec_hash")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--job-file", required=True, help="job file: the run whose model to register")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--metrics-file", required=True, help="metrics JSON, recorded as version tags")
    parser.add_argument("--tag", action="append", default=[], metavar="KEY=VALUE", help="version tag (repeatable)")
    parser.add_argument("--output", required=True, help="version file JSON to write")
    return add_common_arguments(parser)


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    job = read_job(args.job_file)
    tags = parse_pairs(args.tag, "--tag")
    missing = [key for key in LINEAGE if not tags.get(key)]
    if missing:
        print(f"warning: lineage tags missing: {', '.join(missing)}", file=sys.stderr)
    metrics = read_json(args.metrics_file)
    tags.update({f"metric.{name}": f"{float(value):.6g}" for name, value in sorted(metrics.items())})
    tags["run_id"] = job["run_id"]
    mlflow = configure_mlflow(args)
    version = mlflow.register_model(model_uri(job["run_id"]), args.model_name, tags=tags)
    record = {"model_name": args.model_name, "version": str(version.version), "run_id": job["run_id"],
              "model_uri": f"models:/{args.model_name}/{version.version}", "tags": tags}
    write_json(args.output, record)
    print(f"registered {args.model_name} version {version.version} from run {job['run_id']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
