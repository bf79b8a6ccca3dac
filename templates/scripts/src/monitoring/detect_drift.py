#!/usr/bin/env python3
"""Detect feature drift between a reference table (training data) and current data (recent production inputs).

Per feature: the population stability index (psi) or the two-sample Kolmogorov-Smirnov statistic (ks; for
categorical features, the total variation distance) against --threshold. Writes a JSON report whose "result"
("drift" or "no_drift") the pipelines read to decide on retraining. Exit code 0 either way: drift is a result, not
a failure; 2 means the check could not run (bad input), and then no report is written.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, describe, guarded, table_location
from common.files import read_table, write_json
from common.tabular import categorical_columns

BINS = 10
EPSILON = 1e-4  # keeps empty bins from making PSI infinite


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--reference", required=True, help="reference table (CSV/Parquet path, or an Azure ML data "
                        "asset azureml:<name>:<version|latest>), e.g. the training data")
    parser.add_argument("--current", required=True, help="current table (path or data asset), e.g. recent inputs")
    parser.add_argument("--target", help="label column to leave out")
    parser.add_argument("--method", required=True, choices=("psi", "ks"),
                        help="drift statistic: population stability index or Kolmogorov-Smirnov (categories: "
                        "total variation)")
    parser.add_argument("--threshold", required=True, type=float,
                        help="a feature whose statistic is above this has drifted (a result, not a failure)")
    parser.add_argument("--output", required=True, help="JSON report to write")
    return add_common_arguments(parser)


def _psi(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPSILON), max(a, EPSILON)
        total += (a - e) * math.log(a / e)
    return total


def numeric_psi(reference: Any, current: Any) -> float:
    """PSI over the reference's deciles; over its values when it has no more than BINS of them."""
    import numpy as np

    values = np.unique(reference)
    if len(values) <= BINS:
        # Quantile edges would merge a rare value with a common one (95 % zeros, 5 % ones gives the edges 0 and 1:
        # one bin, so no drift could ever show). One bin per value, and one for values the reference never had.
        seen = np.isin(current, values)
        expected = [float(np.mean(reference == value)) for value in values] + [0.0]
        actual = [float(np.mean(current == value)) for value in values] + [float(np.mean(~seen))]
        return _psi(expected, actual)
    # Bin i holds cuts[i-1] < x <= cuts[i], open-ended at both ends: a value repeated up to a cut (a point mass)
    # stays apart from the larger values instead of sharing their bin.
    cuts = np.unique(np.quantile(reference, np.linspace(0, 1, BINS + 1)[1:-1]))

    def shares(data: Any) -> list[float]:
        counts = np.bincount(np.searchsorted(cuts, data, side="left"), minlength=len(cuts) + 1)
        return [float(count) / len(data) for count in counts]

    return _psi(shares(reference), shares(current))


def _shares(reference: Any, current: Any) -> tuple[list[float], list[float]]:
    ref = reference.astype(str).value_counts(normalize=True)
    cur = current.astype(str).value_counts(normalize=True)
    categories = sorted(set(ref.index) | set(cur.index))
    return [float(ref.get(c, 0.0)) for c in categories], [float(cur.get(c, 0.0)) for c in categories]


def feature_drift(reference: Any, current: Any, method: str, categorical: bool) -> tuple[str, float]:
    reference, current = reference.dropna(), current.dropna()
    if len(reference) == 0 or len(current) == 0:
        raise ScriptError(f"column {reference.name}: no values to compare")
    if categorical:
        expected, actual = _shares(reference, current)
        if method == "psi":
            return "psi", _psi(expected, actual)
        return "total_variation", 0.5 * sum(abs(e - a) for e, a in zip(expected, actual, strict=True))
    if method == "psi":
        return "psi", numeric_psi(reference.to_numpy(dtype=float), current.to_numpy(dtype=float))
    from scipy.stats import ks_2samp

    return "ks", float(ks_2samp(reference, current).statistic)


def detect(reference: Any, current: Any, method: str, threshold: float, target: str | None) -> dict[str, Any]:
    columns = [c for c in reference.columns if c != target]
    missing = [c for c in columns if c not in current.columns]
    if missing:
        raise ScriptError(f"current data lacks columns: {', '.join(map(str, missing))}")
    categorical = set(categorical_columns(reference[columns]))
    features = {}
    for column in columns:
        statistic, value = feature_drift(reference[column], current[column], method, column in categorical)
        features[str(column)] = {"statistic": statistic, "value": value, "drifted": value > threshold}
    drifted = sorted(name for name, item in features.items() if item["drifted"])
    return {"result": "drift" if drifted else "no_drift", "method": method, "threshold": threshold,
            "reference_rows": len(reference), "current_rows": len(current), "drift_detected": bool(drifted),
            "drifted_features": drifted, "features": features}


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag, location in (("--reference", args.reference), ("--current", args.current)):
        if not location.strip():  # an unset pipeline variable, say: say so rather than "file not found: ''"
            raise ScriptError(f"{flag} is empty: name a table (CSV/Parquet path) or a data asset "
                              "azureml:<name>:<version|latest>")
    with tempfile.TemporaryDirectory(prefix="mlops-drift-") as scratch:
        reference = read_table(table_location(args, args.reference, Path(scratch)))
        # the training data is where the model registry is; what production sent is where it is served
        current = read_table(table_location(args, args.current, Path(scratch), registry=False))
    report = detect(reference, current, args.method, args.threshold, args.target)
    write_json(args.output, report)
    for name, item in report["features"].items():
        print(f"{'DRIFT' if item['drifted'] else 'ok':<5} {name}: {item['statistic']} = {item['value']:.4f}")
    # Drift and no drift are both results (the report's "result", which the pipelines read to decide on
    # retraining); only a check that could not run fails, so an unreadable reference is never taken for drift.
    if report["drift_detected"]:
        print(f"result: drift above {args.threshold:g} in: {', '.join(report['drifted_features'])}")
    else:
        print(f"result: no drift above {args.threshold:g}")
    return 0


def main(argv: list[str] | None = None) -> int:
    # Not a decorated `run`: mutation testing (mutmut) leaves decorated functions alone (docs/testing.md).
    return guarded(run)(argv)


if __name__ == "__main__":
    raise SystemExit(main())
