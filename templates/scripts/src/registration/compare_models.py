#!/usr/bin/env python3
"""Compare two registered versions of a model metric by metric, from their training runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, describe, guarded
from common.files import write_json
from common.registry import client, run_metrics


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--version-a", required=True, help="first version (e.g. the production one)")
    parser.add_argument("--version-b", required=True, help="second version (e.g. the candidate)")
    parser.add_argument("--metric", action="append", default=[], help="metric to compare (repeatable) [all shared]")
    parser.add_argument("--output", help="JSON comparison to write")
    return add_common_arguments(parser)


def compare(metrics_a: dict[str, float], metrics_b: dict[str, float], names: list[str]) -> list[dict[str, Any]]:
    chosen = names or sorted(set(metrics_a) & set(metrics_b))
    return [{"metric": name, "a": metrics_a.get(name), "b": metrics_b.get(name),
             "difference": None if name not in metrics_a or name not in metrics_b
             else metrics_b[name] - metrics_a[name]} for name in chosen]


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_mlflow(args)
    mlflow_client = client()
    versions = {label: mlflow_client.get_model_version(args.model_name, number)
                for label, number in (("a", args.version_a), ("b", args.version_b))}
    rows = compare(run_metrics(mlflow_client, versions["a"].run_id), run_metrics(mlflow_client, versions["b"].run_id),
                   args.metric)
    print(f"{'metric':<12} {'v' + args.version_a:>12} {'v' + args.version_b:>12} {'b - a':>12}")
    for row in rows:
        cells = ["-" if row[key] is None else f"{row[key]:.4f}" for key in ("a", "b", "difference")]
        print(f"{row['metric']:<12} {cells[0]:>12} {cells[1]:>12} {cells[2]:>12}")
    if args.output:
        write_json(args.output, {"model_name": args.model_name, "version_a": args.version_a,
                                 "version_b": args.version_b, "metrics": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
