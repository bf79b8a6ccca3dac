"""The metrics of a model on held-out rows: one definition for training and for the champion/challenger gate,
so both models of a comparison are scored alike."""

from __future__ import annotations

from typing import Any

TASKS = ("classification", "regression")  # the tasks evaluate() scores, and the scripts' --task choices


def evaluate(model: Any, task: str, features: Any, labels: Any) -> dict[str, float]:
    import numpy as np
    from sklearn import metrics

    predicted = model.predict(features)
    if task == "regression":
        mse = float(metrics.mean_squared_error(labels, predicted))
        return {"r2": float(metrics.r2_score(labels, predicted)),
                "mae": float(metrics.mean_absolute_error(labels, predicted)), "mse": mse,
                "rmse": float(np.sqrt(mse)),
                "mape": float(metrics.mean_absolute_percentage_error(labels, predicted))}
    binary = len(getattr(model, "classes_", [])) == 2
    average = "binary" if binary else "weighted"
    scores = {"accuracy": float(metrics.accuracy_score(labels, predicted)),
              "precision": float(metrics.precision_score(labels, predicted, average=average, zero_division=0)),
              "recall": float(metrics.recall_score(labels, predicted, average=average, zero_division=0)),
              "f1": float(metrics.f1_score(labels, predicted, average=average, zero_division=0))}
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(features)
        scores["log_loss"] = float(metrics.log_loss(labels, proba, labels=model.classes_))
        try:
            scores["roc_auc"] = float(metrics.roc_auc_score(labels, proba[:, 1]) if binary else
                                      metrics.roc_auc_score(labels, proba, multi_class="ovr", average="weighted"))
        except ValueError:  # one class only in the held-out rows
            pass
    return scores
