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


def test_exit_codes(dd: Any, tmp_path: Path) -> None:
    _table(0.0, 0.5).to_csv(tmp_path / "ref.csv", index=False)
    _table(2.0, 0.5).to_csv(tmp_path / "cur.csv", index=False)
    argv = ["--reference", str(tmp_path / "ref.csv"), "--method", "psi", "--threshold", "0.2", "--output",
            str(tmp_path / "drift.json"), "--target", "label"]
    assert dd.main([*argv, "--current", str(tmp_path / "cur.csv")]) == 1
    assert dd.main([*argv, "--current", str(tmp_path / "ref.csv")]) == 0
    _table(0.0, 0.5).drop(columns=["c"]).to_csv(tmp_path / "bad.csv", index=False)
    assert dd.main([*argv, "--current", str(tmp_path / "bad.csv")]) == 2
