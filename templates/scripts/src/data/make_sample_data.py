#!/usr/bin/env python3
"""Write a deterministic sample training table: a churn-like table for classification, house sales for regression.

Used by `mlops-gen run-local` and the generated tests, so the pipeline can run end to end with no download. The
label depends on behaviour columns only (tenure, charges, contract...), never on age or gender, so a model trained
on it can pass the fairness gate; columns named as sensitive features in the spec but unknown here are added as
independent categories.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, describe, guarded
from common.files import read_yaml

DEFAULT_ROWS = 10000
DEFAULT_SEED = 42


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--pipeline-config", default="config/pipeline.yaml",
                        help="pipeline settings: task, target column, sensitive features, default output path")
    parser.add_argument("--output", help="CSV to write [default: data.local_path of the pipeline config]")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"rows to generate [{DEFAULT_ROWS}]")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed [{DEFAULT_SEED}]")
    parser.add_argument("--shift", type=float, default=0.0,
                        help="move every numeric feature by this many standard deviations (drift drills) [0]")
    return parser


def _classification(rng: Any, rows: int, target: str) -> dict[str, Any]:
    import numpy as np

    age = rng.integers(18, 80, rows)
    gender = rng.choice(["female", "male"], rows)
    tenure = rng.integers(0, 73, rows)
    contract = rng.choice(["month-to-month", "one-year", "two-year"], rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(["card", "bank-transfer", "electronic-check", "mailed-check"], rows)
    monthly = np.round(rng.uniform(20.0, 120.0, rows), 2)
    total = np.round(monthly * np.maximum(tenure, 1), 2)
    support_calls = rng.poisson(2.0, rows)
    score = (2.2 - 0.09 * tenure + 0.045 * (monthly - 70.0) + 0.8 * support_calls
             - 1.8 * (contract == "one-year") - 3.5 * (contract == "two-year") + 0.8 * (payment == "electronic-check"))
    label = (score + rng.logistic(0.0, 0.5, rows) > 0).astype(int)
    return {"age": age, "gender": gender, "tenure_months": tenure, "contract": contract, "payment_method": payment,
            "monthly_charges": monthly, "total_charges": total, "support_calls": support_calls, target: label}


def _regression(rng: Any, rows: int, target: str) -> dict[str, Any]:
    import numpy as np

    sqft = rng.integers(500, 4001, rows)
    bedrooms = np.clip(np.round(sqft / 700 + rng.normal(0, 0.7, rows)), 1, 6).astype(int)
    bathrooms = np.clip(np.round(bedrooms * 0.6 + rng.normal(0, 0.5, rows)), 1, 4).astype(int)
    year_built = rng.integers(1950, 2025, rows)
    neighborhood = rng.choice(["north", "south", "east", "west", "centre"], rows)
    garage = rng.integers(0, 4, rows)
    premium = {"north": 30000, "south": -10000, "east": 0, "west": 15000, "centre": 60000}
    price = (40000 + 140.0 * sqft + 8000 * bedrooms + 12000 * bathrooms + 900 * (year_built - 1950)
             + 9000 * garage + np.vectorize(premium.__getitem__)(neighborhood) + rng.normal(0, 18000, rows))
    return {"sqft": sqft, "bedrooms": bedrooms, "bathrooms": bathrooms, "year_built": year_built,
            "neighborhood": neighborhood, "garage_spaces": garage, target: np.round(price, -2)}


def generate(task: str, target: str, sensitive_features: list[str] | None = None, rows: int = DEFAULT_ROWS,
             seed: int = DEFAULT_SEED) -> Any:
    """The sample table as a pandas DataFrame; same arguments, same bytes."""
    import numpy as np
    import pandas as pd

    if rows < 50:
        raise ScriptError("--rows must be at least 50")
    rng = np.random.default_rng(seed)
    columns = _classification(rng, rows, target) if task == "classification" else _regression(rng, rows, target)
    for name in sensitive_features or []:
        if name not in columns:  # independent of the label by construction
            columns[name] = rng.choice(["group-a", "group-b", "group-c"], rows)
    label = columns.pop(target)
    columns[target] = label  # label last
    return pd.DataFrame(columns)


def shifted(frame: Any, target: str, shift: float) -> Any:
    """`frame` with every numeric feature moved by `shift` standard deviations: data a drift check must flag."""
    if not shift:
        return frame
    out = frame.copy()
    for column in out.columns:
        if column != target and out[column].dtype.kind in "if":
            out[column] = out[column] + shift * float(out[column].std() or 1.0)
    return out


def settings(pipeline_config: str) -> dict[str, Any]:
    config = read_yaml(pipeline_config) or {}
    fairness = config.get("fairness") or {}
    return {"task": config["model"]["task"], "target": config["data"]["target"],
            "sensitive_features": list(fairness.get("sensitive_features") or []),
            "local_path": config["data"]["local_path"]}


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    found = settings(args.pipeline_config)
    frame = shifted(generate(found["task"], found["target"], found["sensitive_features"], args.rows, args.seed),
                    found["target"], args.shift)
    output = Path(args.output or found["local_path"])
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(output, index=False, lineterminator="\n")
    print(f"wrote {len(frame)} rows x {len(frame.columns)} columns to {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
