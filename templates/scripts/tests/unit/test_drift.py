"""Unit tests of drift detection: no drift on like data, drift on shifted data, exit codes for retraining."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def dd(scripts: Any) -> Any:
    return scripts("monitoring/detect_drift.py")


def _table(shift: float, share_a: float, rows: int = 2000) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    return pd.DataFrame({"x": rng.normal(shift, 1.0, rows),
                         "c": np.where(rng.random(rows) < share_a, "a", "b"),
                         "label": rng.integers(0, 2, rows)})


@pytest.mark.parametrize("method", ["psi", "ks"])
def test_like_data_does_not_drift(dd: Any, method: str) -> None:
    report = dd.detect(_table(0.0, 0.5), _table(0.0, 0.5), method, 0.2, "label")
    assert not report["drift_detected"], report["features"]
    assert "label" not in report["features"]


@pytest.mark.parametrize("method", ["psi", "ks"])
def test_shifted_data_drifts(dd: Any, method: str) -> None:
    report = dd.detect(_table(0.0, 0.5), _table(1.5, 0.9), method, 0.2, "label")
    assert report["drifted_features"] == ["c", "x"]


def test_drift_is_a_result_and_an_error_is_not_drift(dd: Any, tmp_path: Path) -> None:
    """Drift and no drift both exit 0 with the verdict in the report's "result" (the pipelines retrain on
    "drift" only); a check that cannot run exits 2 and writes no verdict, so it is never taken for drift."""
    import json

    _table(0.0, 0.5).to_csv(tmp_path / "ref.csv", index=False)
    _table(2.0, 0.5).to_csv(tmp_path / "cur.csv", index=False)
    report = tmp_path / "drift.json"
    argv = ["--reference", str(tmp_path / "ref.csv"), "--method", "psi", "--threshold", "0.2", "--output",
            str(report), "--target", "label"]
    assert dd.main([*argv, "--current", str(tmp_path / "cur.csv")]) == 0
    assert json.loads(report.read_text(encoding="utf-8"))["result"] == "drift"
    assert dd.main([*argv, "--current", str(tmp_path / "ref.csv")]) == 0
    assert json.loads(report.read_text(encoding="utf-8"))["result"] == "no_drift"
    report.unlink()
    _table(0.0, 0.5).drop(columns=["c"]).to_csv(tmp_path / "bad.csv", index=False)
    assert dd.main([*argv, "--current", str(tmp_path / "bad.csv")]) == 2
    unreadable = ["--reference", str(tmp_path / "missing.csv"), *argv[2:]]
    assert dd.main([*unreadable, "--current", str(tmp_path / "cur.csv")]) == 2
    assert not report.exists()
