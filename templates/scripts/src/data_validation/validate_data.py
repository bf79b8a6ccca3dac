#!/usr/bin/env python3
"""Check the training table against the expectations file: schema and types, nulls, ranges, allowed values, row
count and distributions. Writes JUnit XML (one test case per check) and exits 1 when any check fails.

Expectations (JSON): {"row_count": {"min": N, "max": N}, "allow_extra_columns": false,
"columns": {name: {"dtype": "integer|number|string|boolean", "max_null_fraction": 0.0, "min": x, "max": x,
"allowed_values": [...]}}, "distribution": {name: {"frequencies": {value: share}, "tolerance": 0.1} or
{"mean": {"min": x, "max": x}}}}.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import (
    ScriptError,
    add_common_arguments,
    backend_of,
    data_asset,
    describe,
    download_data_asset,
    guarded,
)
from common.files import data_fingerprint, read_json, read_table, write_json
from common.junit import Case, summarize, write_junit

SUITE = "data_validation"
DTYPES = ("integer", "number", "string", "boolean")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--data-path", help="table on this machine: CSV/Parquet file or folder (local)")
    parser.add_argument("--dataset", help="Azure ML data asset name (azure)")
    parser.add_argument("--dataset-version", default="latest", help="data asset version [latest]")
    parser.add_argument("--expectations", required=True, help="expectations JSON")
    parser.add_argument("--junit-output", required=True, help="JUnit XML to write")
    parser.add_argument("--report-output", help="JSON report to write")
    parser.add_argument("--data-output", help="JSON naming exactly the data validated (the asset's version, or the "
                        "local table's sha256): training takes it with --data-file, so it trains on this data")
    return add_common_arguments(parser)


def _dtype_ok(series: Any, dtype: str) -> bool:
    import pandas as pd

    types = pd.api.types
    if dtype == "integer":
        return bool(types.is_integer_dtype(series) and not types.is_bool_dtype(series))
    if dtype == "number":
        return bool(types.is_numeric_dtype(series) and not types.is_bool_dtype(series))
    if dtype == "boolean":
        return bool(types.is_bool_dtype(series))
    return bool(types.is_object_dtype(series) or types.is_string_dtype(series)
                or isinstance(series.dtype, pd.CategoricalDtype))


def _same(value: Any, allowed: set[str]) -> bool:
    return str(value) in allowed


def check_schema(frame: Any, expectations: dict[str, Any]) -> list[Case]:
    columns = expectations.get("columns") or {}
    cases = []
    missing = [name for name in columns if name not in frame.columns]
    cases.append(Case("schema: required columns", f"missing columns: {', '.join(missing)}" if missing else None))
    if not expectations.get("allow_extra_columns", True):
        extra = [str(name) for name in frame.columns if name not in columns]
        cases.append(Case("schema: no unexpected columns",
                          f"unexpected columns: {', '.join(extra)}" if extra else None))
    for name, rule in columns.items():
        dtype = rule.get("dtype")
        if dtype is None or name not in frame.columns:
            continue
        if dtype not in DTYPES:
            raise ScriptError(f"column {name}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        ok = _dtype_ok(frame[name], dtype)
        cases.append(Case(f"schema: {name} is {dtype}", None if ok else f"{name} has dtype {frame[name].dtype}"))
    return cases


def check_quality(frame: Any, expectations: dict[str, Any]) -> list[Case]:
    cases = []
    bounds = expectations.get("row_count") or {}
    rows = len(frame)
    if "min" in bounds or "max" in bounds:
        low, high = bounds.get("min", 0), bounds.get("max", float("inf"))
        cases.append(Case("quality: row count", None if low <= rows <= high else
                          f"{rows} rows, expected between {low} and {high}"))
    for name, rule in (expectations.get("columns") or {}).items():
        if name not in frame.columns:
            continue
        series = frame[name]
        if "max_null_fraction" in rule:
            share = float(series.isna().mean()) if rows else 0.0
            limit = float(rule["max_null_fraction"])
            cases.append(Case(f"quality: {name} nulls", None if share <= limit else
                              f"{name}: {share:.2%} nulls, at most {limit:.2%} allowed"))
        values = series.dropna()
        if ("min" in rule or "max" in rule) and _dtype_ok(series, "number"):
            low, high = values.min(), values.max()
            problems = []
            if "min" in rule and len(values) and low < rule["min"]:
                problems.append(f"minimum {low} below {rule['min']}")
            if "max" in rule and len(values) and high > rule["max"]:
                problems.append(f"maximum {high} above {rule['max']}")
            cases.append(Case(f"quality: {name} range", f"{name}: {'; '.join(problems)}" if problems else None))
        if "allowed_values" in rule:
            allowed = {str(v) for v in rule["allowed_values"]}
            unexpected = sorted({str(v) for v in values.unique() if not _same(v, allowed)})
            cases.append(Case(f"quality: {name} allowed values", None if not unexpected else
                              f"{name}: unexpected values {', '.join(unexpected[:10])}"))
    return cases


def check_distribution(frame: Any, expectations: dict[str, Any]) -> list[Case]:
    cases = []
    for name, rule in (expectations.get("distribution") or {}).items():
        if name not in frame.columns:
            cases.append(Case(f"distribution: {name}", f"column {name} missing"))
            continue
        series = frame[name].dropna()
        if "frequencies" in rule:
            tolerance = float(rule.get("tolerance", 0.1))
            shares = series.astype(str).value_counts(normalize=True).to_dict()
            problems = [f"{value}: {shares.get(str(value), 0.0):.2%} vs expected {float(expected):.2%}"
                        for value, expected in rule["frequencies"].items()
                        if abs(shares.get(str(value), 0.0) - float(expected)) > tolerance]
            cases.append(Case(f"distribution: {name} frequencies",
                              f"{name} deviates more than {tolerance:.0%}: {'; '.join(problems)}" if problems
                              else None))
        if "mean" in rule and not _dtype_ok(series, "number"):
            cases.append(Case(f"distribution: {name} mean", f"{name}: not numeric, no mean"))
        elif "mean" in rule:
            mean = float(series.mean())
            low, high = rule["mean"].get("min", float("-inf")), rule["mean"].get("max", float("inf"))
            cases.append(Case(f"distribution: {name} mean", None if low <= mean <= high else
                              f"{name}: mean {mean:.4g} outside [{low}, {high}]"))
    return cases


def validate(frame: Any, expectations: dict[str, Any]) -> list[Case]:
    return [*check_schema(frame, expectations), *check_quality(frame, expectations),
            *check_distribution(frame, expectations)]


def load_data(args: argparse.Namespace, scratch: Path) -> tuple[Any, str, dict[str, str]]:
    """The table, a name for it, and its pin: `latest` resolves once, here."""
    if backend_of(args) == "azure" and args.dataset:
        asset = data_asset(args, args.dataset, args.dataset_version)
        folder = download_data_asset(args, asset, scratch / "data")
        return read_table(folder), f"{args.dataset}:{asset.version}", {"dataset": args.dataset,
                                                                       "version": str(asset.version)}
    if not args.data_path:
        raise ScriptError("give --data-path (local) or --dataset (azure)")
    return read_table(args.data_path), args.data_path, {"data_path": args.data_path,
                                                        "sha256": data_fingerprint(args.data_path)}


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    expectations = read_json(args.expectations)
    with tempfile.TemporaryDirectory(prefix="mlops-data-") as scratch:
        frame, source, pin = load_data(args, Path(scratch))
    if args.data_output:
        write_json(args.data_output, pin)
    cases = validate(frame, expectations)
    write_junit(args.junit_output, SUITE, cases)
    failures = summarize(SUITE, cases)
    if args.report_output:
        write_json(args.report_output, {"source": source, "rows": len(frame), "checks": len(cases),
                                        "failures": [{"check": c.name, "detail": c.failure} for c in cases
                                                     if c.failure]})
    print(f"{len(cases) - failures}/{len(cases)} data checks passed for {source}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
