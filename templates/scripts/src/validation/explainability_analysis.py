#!/usr/bin/env python3
"""Explain the candidate model: feature importance on the run's held-out rows, saved as JSON and Markdown and
attached to the MLflow run.

`permutation` uses scikit-learn's permutation importance on the input columns; `shap` uses SHAP when it is
installed and falls back to permutation importance (saying so) when it is not."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, describe, guarded
from common.files import read_job, write_json, write_text
from common.registry import client, load_model, load_test_split
from common.tabular import split_features

REPEATS = 5
SEED = 42


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--job-file", required=True, help="job file: the run whose model and test split to use")
    parser.add_argument("--target", required=True, help="label column")
    parser.add_argument("--method", required=True, choices=("permutation", "shap"),
                        help="feature importance method")
    parser.add_argument("--top-features", type=int, default=10, help="features listed in the report [10]")
    parser.add_argument("--output", required=True, help="JSON report; a Markdown twin is written beside it")
    return add_common_arguments(parser)


def permutation(model: Any, features: Any, labels: Any) -> dict[str, float]:
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, features, labels, n_repeats=REPEATS, random_state=SEED, n_jobs=1)
    return {str(name): float(value) for name, value in zip(features.columns, result.importances_mean, strict=True)}


def shap_values(model: Any, features: Any) -> dict[str, float] | None:
    try:
        import shap
    except ImportError:
        return None
    import numpy as np

    sample = features.head(200)
    explainer = shap.Explainer(model.predict, sample)
    values = explainer(sample).values
    return {str(name): float(np.abs(values[:, index]).mean()) for index, name in enumerate(features.columns)}


def explain(model: Any, test: Any, target: str, method: str, top: int) -> dict[str, Any]:
    features, labels = split_features(test, target)
    used = method
    importances = shap_values(model, features) if method == "shap" else None
    note = None
    if importances is None:
        if method == "shap":
            note = "shap is not installed: permutation importance used instead"
        used = "permutation"
        importances = permutation(model, features, labels)
    ranked = sorted(importances.items(), key=lambda item: (-item[1], item[0]))
    return {"method": used, "requested_method": method, "note": note, "rows": len(features),
            "top_features": [{"feature": name, "importance": value} for name, value in ranked[:top]],
            "all_features": dict(ranked)}


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Explainability report", "", f"Method: {report['method']} importance on {report['rows']} held-out rows.",
             ""]
    if report.get("note"):
        lines += [f"Note: {report['note']}.", ""]
    lines += ["| Rank | Feature | Importance |", "|---:|---|---:|"]
    lines += [f"| {rank} | {item['feature']} | {item['importance']:.4f} |"
              for rank, item in enumerate(report["top_features"], start=1)]
    return "\n".join(lines) + "\n"


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    job = read_job(args.job_file)
    configure_mlflow(args)
    report = explain(load_model(job["run_id"]), load_test_split(job["run_id"]), args.target, args.method,
                     max(1, args.top_features))
    report["run_id"] = job["run_id"]
    output = write_json(args.output, report)
    twin = write_text(output.with_suffix(".md"), markdown(report))
    for path in (output, twin):
        client().log_artifact(job["run_id"], str(path), artifact_path="explainability")
    print(markdown(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
