#!/usr/bin/env python3
"""Train the model described by the training config and log params, metrics, model and test split to MLflow.

Runs the same way on an Azure ML compute (which sets MLFLOW_TRACKING_URI and MLFLOW_RUN_ID for the job) and locally
(submit_training.py starts the run and passes both). Writes metrics.json and the held-out split to --output-dir too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, configure_mlflow, describe, guarded
from common.evaluation import TASKS, evaluate
from common.files import read_table, read_yaml, write_json
from common.registry import MODEL_ARTIFACT, TEST_SPLIT_ARTIFACT
from common.tabular import categorical_columns, numeric_columns, split_features

# Estimators by config name: a fixed table, so a config file can never import arbitrary code.
ESTIMATORS = {
    "classification": {
        "logistic_regression": ("sklearn.linear_model", "LogisticRegression"),
        "random_forest": ("sklearn.ensemble", "RandomForestClassifier"),
        "gradient_boosting": ("sklearn.ensemble", "GradientBoostingClassifier"),
    },
    "regression": {
        "linear_regression": ("sklearn.linear_model", "LinearRegression"),
        "ridge": ("sklearn.linear_model", "Ridge"),
        "random_forest": ("sklearn.ensemble", "RandomForestRegressor"),
        "gradient_boosting": ("sklearn.ensemble", "GradientBoostingRegressor"),
    },
}
# Types the skops model format must be told to trust: tree node storage of the tree ensembles above. Only models
# this script trained itself are logged, so trusting them is sound.
SKOPS_TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
SEEDED = {"LogisticRegression", "RandomForestClassifier", "GradientBoostingClassifier", "Ridge",
          "RandomForestRegressor", "GradientBoostingRegressor"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--data-path", required=True, help="training table: CSV/Parquet file or a folder holding one")
    parser.add_argument("--target", required=True, help="label column")
    parser.add_argument("--task", required=True, choices=TASKS, help="model task: decides estimator and metrics")
    parser.add_argument("--config", required=True, help="training config YAML (estimator, params, preprocessing)")
    parser.add_argument("--test-size", type=float, default=0.2, help="held-out fraction [0.2]")
    parser.add_argument("--output-dir", required=True, help="where metrics.json and test_split.csv go")
    return add_common_arguments(parser)


def load_config(path: str, task: str) -> dict[str, Any]:
    config = read_yaml(path) or {}
    if not isinstance(config, dict):
        raise ScriptError(f"{path}: expected a mapping")
    name = config.get("estimator", "gradient_boosting")
    if name not in ESTIMATORS[task]:
        raise ScriptError(f"{path}: estimator {name!r} is not one of {', '.join(ESTIMATORS[task])} for {task}")
    params = config.get("params") or {}
    if not isinstance(params, dict):
        raise ScriptError(f"{path}: params must be a mapping")
    return {"estimator": name, "params": params, "random_state": int(config.get("random_state", 42)),
            "preprocessing": config.get("preprocessing") or {}}


def build_pipeline(config: dict[str, Any], task: str, features: Any) -> Any:
    import importlib

    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    module, cls = ESTIMATORS[task][config["estimator"]]
    estimator_class = getattr(importlib.import_module(module), cls)
    params = dict(config["params"])
    if cls in SEEDED:
        params.setdefault("random_state", config["random_state"])
    try:
        estimator = estimator_class(**params)
    except TypeError as exc:
        raise ScriptError(f"invalid params for {cls}: {exc}") from None
    prep = config["preprocessing"]
    numeric = "passthrough" if prep.get("scale_numeric", True) is False else StandardScaler()
    categorical: Any = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    if prep.get("one_hot_categorical", True) is False:
        categorical = "drop"
    transform = ColumnTransformer([("numeric", numeric, numeric_columns(features)),
                                   ("categorical", categorical, categorical_columns(features))])
    return Pipeline([("preprocess", transform), ("model", estimator)])


def train(frame: Any, target: str, task: str, config: dict[str, Any], test_size: float) -> dict[str, Any]:
    """Fit on a deterministic split; returns the model, metrics and the held-out rows (with the label)."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ScriptError("--test-size must lie between 0 and 1")
    features, labels = split_features(frame, target)
    drop = [c for c in config["preprocessing"].get("drop_columns") or [] if c in features.columns]
    features = features.drop(columns=drop)
    stratify = labels if task == "classification" and labels.value_counts().min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(features, labels, test_size=test_size,
                                                        random_state=config["random_state"], stratify=stratify)
    model = build_pipeline(config, task, features).fit(x_train, y_train)
    test = x_test.copy()
    test[target] = y_test
    return {"model": model, "metrics": evaluate(model, task, x_test, y_test), "test": test,
            "train_rows": len(x_train), "test_rows": len(x_test)}


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.config, args.task)
    frame = read_table(args.data_path)
    result = train(frame, args.target, args.task, config, args.test_size)
    output = Path(args.output_dir)
    write_json(output / "metrics.json", result["metrics"])
    output.mkdir(parents=True, exist_ok=True)
    split_file = output / Path(TEST_SPLIT_ARTIFACT).name
    result["test"].to_csv(split_file, index=False, lineterminator="\n")

    mlflow = configure_mlflow(args)
    from mlflow.models import infer_signature

    features = result["test"].drop(columns=[args.target])
    with mlflow.start_run(run_id=os.environ.get("MLFLOW_RUN_ID") or None) as run:
        mlflow.log_params({"estimator": config["estimator"], "task": args.task, "target": args.target,
                           "test_size": args.test_size, "random_state": config["random_state"],
                           "train_rows": result["train_rows"], "test_rows": result["test_rows"],
                           **{f"param.{k}": v for k, v in config["params"].items()}})
        mlflow.log_metrics(result["metrics"])
        mlflow.log_artifact(str(split_file), artifact_path=str(Path(TEST_SPLIT_ARTIFACT).parent))
        mlflow.log_artifact(str(output / "metrics.json"))
        # save_model + log_artifacts, not log_model: MLflow 3's log_model calls the logged-models REST API, which
        # Azure ML's tracking server has answered with 404 (Azure/azure-sdk-for-python#44896,
        # Azure/azureml-examples#3885); a model saved as run artifacts registers from runs:/<run>/<artifact> on
        # every tracking server, with the run as its lineage.
        saved = output / "mlflow-model"
        shutil.rmtree(saved, ignore_errors=True)
        mlflow.sklearn.save_model(result["model"], str(saved), input_example=features.head(5),
                                  signature=infer_signature(features, result["model"].predict(features)),
                                  skops_trusted_types=SKOPS_TRUSTED_TYPES)
        mlflow.log_artifacts(str(saved), artifact_path=MODEL_ARTIFACT)
        run_id = run.info.run_id
    write_json(output / "run.json", {"run_id": run_id})
    summary = ", ".join(f"{k}={v:.4f}" for k, v in sorted(result["metrics"].items()))
    print(f"run {run_id}: {summary}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
