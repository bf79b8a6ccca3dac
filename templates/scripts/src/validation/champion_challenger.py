#!/usr/bin/env python3
"""Compare the candidate (challenger) with the model version holding the production alias (champion).

With --job-file, both models are scored on the challenger's held-out rows (the test split train.py logged with
its run): a champion's logged metric comes from an older split, so comparing logged numbers compares data, not
models. Without it, the logged metrics are compared (a champion trained elsewhere, with no loadable model).

Passes when there is no champion yet, or when the challenger's metric beats the champion's by at least
--min-improvement in the metric's direction (higher or lower is better). Writes JUnit XML and a JSON result.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, configure_mlflow, describe, guarded
from common.evaluation import TASKS
from common.files import read_job, read_json, write_json
from common.junit import Case, summarize, write_junit
from common.registry import client, load_model, load_test_split, run_metrics, version_by_alias

SUITE = "champion_challenger"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--metrics-file", required=True, help="the challenger's metrics JSON")
    parser.add_argument("--job-file", help="the challenger's training job: score both models on its test split")
    parser.add_argument("--target", help="label column (with --job-file)")
    parser.add_argument("--task", choices=TASKS, help="model task (with --job-file)")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--alias", required=True, help="alias of the champion, e.g. production")
    parser.add_argument("--metric", required=True, help="metric compared")
    parser.add_argument("--direction", required=True, choices=("higher", "lower"), help="which way is better")
    parser.add_argument("--min-improvement", type=float, default=0.0,
                        help="required gain over the champion; negative tolerates a bounded regression [0]")
    parser.add_argument("--junit-output", required=True, help="JUnit XML to write")
    parser.add_argument("--output", help="JSON result to write")
    return add_common_arguments(parser)


def decide(challenger: float, champion: float | None, direction: str, min_improvement: float) -> dict[str, Any]:
    if champion is None:
        return {"passed": True, "improvement": None, "reason": "no champion: the first version wins"}
    improvement = challenger - champion if direction == "higher" else champion - challenger
    passed = improvement >= min_improvement
    verb = "beats" if passed else "does not beat"
    return {"passed": passed, "improvement": improvement,
            "reason": f"challenger {challenger:.4f} {verb} champion {champion:.4f} by the required "
                      f"{min_improvement:g} ({direction} is better; improvement {improvement:+.4f})"}


def same_split_scores(args: argparse.Namespace, champion_run: str) -> tuple[float, float | None]:
    """The metric of the challenger and of the champion, both on the challenger's test split."""
    from common.evaluation import evaluate

    if not (args.target and args.task):
        raise ScriptError("--job-file needs --target and --task")
    run_id = read_job(args.job_file)["run_id"]
    split = load_test_split(run_id)
    features, labels = split.drop(columns=[args.target]), split[args.target]
    scores = [evaluate(load_model(run), args.task, features, labels) for run in (run_id, champion_run)]
    if args.metric not in scores[0]:
        raise ScriptError(f"the challenger has no {args.metric!r} on its test split")
    print(f"both models scored on the challenger's {len(split)} held-out rows")
    champion = scores[1].get(args.metric)
    return float(scores[0][args.metric]), None if champion is None else float(champion)


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    metrics = read_json(args.metrics_file)
    if args.metric not in metrics:
        raise ScriptError(f"{args.metrics_file} has no {args.metric!r} metric")
    challenger = float(metrics[args.metric])
    configure_mlflow(args)
    mlflow_client = client()
    champion_version = version_by_alias(mlflow_client, args.model_name, args.alias)
    champion = None
    if champion_version is not None and args.job_file:
        challenger, champion = same_split_scores(args, champion_version.run_id)
    elif champion_version is not None:
        champion = run_metrics(mlflow_client, champion_version.run_id).get(args.metric)
        if champion is None:
            print(f"champion version {champion_version.version} has no {args.metric}; treating it as absent")
    result = decide(challenger, champion, args.direction, args.min_improvement)
    result.update(metric=args.metric, direction=args.direction, challenger=challenger, champion=champion,
                  champion_version=None if champion_version is None else str(champion_version.version))
    case = Case(f"{args.metric} vs {args.model_name}@{args.alias}", None if result["passed"] else result["reason"],
                skipped=result["reason"] if champion is None else None)
    write_junit(args.junit_output, SUITE, [case])
    summarize(SUITE, [case])
    if args.output:
        write_json(args.output, result)
    print(result["reason"])
    return 0 if result["passed"] else 1


def main(argv: list[str] | None = None) -> int:
    # Not a decorated `run`: mutation testing (mutmut) leaves decorated functions alone (docs/testing.md).
    return guarded(run)(argv)


if __name__ == "__main__":
    raise SystemExit(main())
