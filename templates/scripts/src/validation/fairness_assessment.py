#!/usr/bin/env python3
"""Fairness gate with fairlearn: the ratio metric (demographic parity or equalized odds; 1.0 is perfectly fair)
per sensitive feature on the run's held-out rows must reach the threshold. Many-valued numeric features such as
age are compared in quartile bands. Writes JUnit XML and a JSON report with per-group selection rates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, configure_mlflow, describe, guarded
from common.files import read_job, write_json
from common.junit import Case, summarize, write_junit
from common.registry import load_model, load_test_split
from common.tabular import sensitive_groups, split_features

SUITE = "fairness"
METRICS = ("demographic_parity_ratio", "equalized_odds_ratio")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--job-file", required=True, help="job file: the run whose model and test split to use")
    parser.add_argument("--target", required=True, help="label column")
    parser.add_argument("--sensitive-feature", action="append", default=[], help="column to assess (repeatable)")
    parser.add_argument("--metric", required=True, choices=METRICS,
                        help="fairlearn ratio metric (1.0 is perfectly fair)")
    parser.add_argument("--threshold", required=True, type=float, help="lowest acceptable ratio, within [0, 1]")
    parser.add_argument("--junit-output", required=True, help="JUnit XML to write")
    parser.add_argument("--output", required=True, help="JSON report to write")
    return add_common_arguments(parser)


def assess(model: Any, test: Any, target: str, features: list[str], metric: str,
           threshold: float) -> dict[str, Any]:
    import fairlearn.metrics as fm

    x_test, y_test = split_features(test, target)
    predicted = model.predict(x_test)
    ratio = getattr(fm, metric)
    report: dict[str, Any] = {"metric": metric, "threshold": threshold, "features": {}}
    for feature in features:
        if feature not in x_test.columns:
            raise ScriptError(f"sensitive feature {feature!r} is not a column of the test data")
        groups = sensitive_groups(x_test[feature])
        value = float(ratio(y_test, predicted, sensitive_features=groups))
        frame = fm.MetricFrame(metrics={"selection_rate": fm.selection_rate, "count": fm.count},
                               y_true=y_test, y_pred=predicted, sensitive_features=groups)
        by_group = {str(k): {"selection_rate": float(v["selection_rate"]), "count": int(v["count"])}
                    for k, v in frame.by_group.to_dict(orient="index").items()}
        report["features"][feature] = {"value": value, "passed": value >= threshold, "groups": by_group}
    report["passed"] = all(item["passed"] for item in report["features"].values())
    return report


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.sensitive_feature:
        raise ScriptError("give at least one --sensitive-feature")
    if not 0 <= args.threshold <= 1:
        raise ScriptError("--threshold must lie within [0, 1]")
    job = read_job(args.job_file)
    configure_mlflow(args)
    report = assess(load_model(job["run_id"]), load_test_split(job["run_id"]), args.target, args.sensitive_feature,
                    args.metric, args.threshold)
    report["run_id"] = job["run_id"]
    write_json(args.output, report)
    cases = [Case(f"{args.metric} for {name} >= {args.threshold:g}",
                  None if item["passed"]
                  else f"{name}: {args.metric} = {item['value']:.4f} is below {args.threshold:g}")
             for name, item in report["features"].items()]
    write_junit(args.junit_output, SUITE, cases)
    failures = summarize(SUITE, cases)
    for name, item in report["features"].items():
        print(f"{name}: {args.metric} = {item['value']:.4f}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    # Not a decorated `run`: mutation testing (mutmut) leaves decorated functions alone (docs/testing.md).
    return guarded(run)(argv)


if __name__ == "__main__":
    raise SystemExit(main())
