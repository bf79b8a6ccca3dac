#!/usr/bin/env python3
"""Gate the candidate model on its metrics: every --min/--max bound must hold. Writes JUnit XML; exits 1 naming
each failed metric (a metric missing from the metrics file fails its gate too)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, describe, guarded
from common.files import parse_thresholds, read_json
from common.junit import Case, summarize, write_junit

SUITE = "metric_gates"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--metrics-file", required=True, help="metrics JSON from get_metrics.py")
    parser.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE",
                        help="lowest acceptable value, inclusive (repeatable)")
    parser.add_argument("--max", action="append", default=[], metavar="METRIC=VALUE",
                        help="highest acceptable value, inclusive (repeatable)")
    parser.add_argument("--junit-output", required=True, help="JUnit XML to write")
    return add_common_arguments(parser)


def check(metrics: dict[str, float], minimums: dict[str, float], maximums: dict[str, float]) -> list[Case]:
    cases = []
    for bound, limits in (("min", minimums), ("max", maximums)):
        for name, limit in limits.items():
            value = metrics.get(name)
            if value is None:
                cases.append(Case(f"{name} {bound}", f"{name}: not in the metrics file"))
            elif bound == "min" and value < limit:
                cases.append(Case(f"{name} >= {limit:g}", f"{name} = {value:.4f} is below the minimum {limit:g}"))
            elif bound == "max" and value > limit:
                cases.append(Case(f"{name} <= {limit:g}", f"{name} = {value:.4f} is above the maximum {limit:g}"))
            else:
                cases.append(Case(f"{name} {'>=' if bound == 'min' else '<='} {limit:g}"))
    return cases


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    minimums = parse_thresholds(args.min, "--min")
    maximums = parse_thresholds(args.max, "--max")
    if not minimums and not maximums:
        raise ScriptError("no gates: give at least one --min or --max")
    metrics = {str(k): float(v) for k, v in read_json(args.metrics_file).items() if isinstance(v, (int, float))}
    cases = check(metrics, minimums, maximums)
    write_junit(args.junit_output, SUITE, cases)
    failures = summarize(SUITE, cases)
    if failures:
        failed = sorted({case.name.split(" ")[0] for case in cases if case.failure})
        print(f"metric gate FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"metric gate passed: {len(cases)} bounds hold")
    return 0


def main(argv: list[str] | None = None) -> int:
    # Not a decorated `run`: mutation testing (mutmut) leaves decorated functions alone (docs/testing.md).
    return guarded(run)(argv)


if __name__ == "__main__":
    raise SystemExit(main())
