"""Unit tests of the data validation checks: each kind of problem is caught and named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

EXPECTATIONS: dict[str, Any] = {
    "row_count": {"min": 3},
    "allow_extra_columns": False,
    "columns": {
        "age": {"dtype": "integer", "min": 18, "max": 100, "max_null_fraction": 0.0},
        "plan": {"dtype": "string", "allowed_values": ["basic", "pro"]},
        "label": {"dtype": "integer", "allowed_values": [0, 1]},
    },
    "distribution": {"label": {"frequencies": {"0": 0.5, "1": 0.5}, "tolerance": 0.2},
                     "age": {"mean": {"min": 20, "max": 60}}},
}


@pytest.fixture(scope="module")
def vd(scripts: Any) -> Any:
    return scripts("data_validation/validate_data.py")


def _frame(**overrides: Any) -> Any:
    import pandas as pd

    data = {"age": [25, 40, 55, 33], "plan": ["basic", "pro", "pro", "basic"], "label": [0, 1, 0, 1]}
    data.update(overrides)
    return pd.DataFrame(data)


def _failed(vd: Any, frame: Any) -> list[str]:
    return [case.failure for case in vd.validate(frame, EXPECTATIONS) if case.failure]


def test_clean_table_passes(vd: Any) -> None:
    assert _failed(vd, _frame()) == []


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"age": [25, None, 55, 33]}, "nulls"),
    ({"age": [25, 40, 150, 33]}, "maximum 150"),
    ({"plan": ["basic", "pro", "gold", "basic"]}, "unexpected values gold"),
    ({"label": [1, 1, 1, 1]}, "deviates"),
    ({"age": [90, 95, 99, 97]}, "mean"),
    ({"extra": [1, 2, 3, 4]}, "unexpected columns: extra"),
    ({"age": ["a", "b", "c", "d"]}, "dtype"),
])
def test_each_problem_is_reported(vd: Any, overrides: dict[str, Any], expected: str) -> None:
    failures = _failed(vd, _frame(**overrides))
    assert any(expected in failure for failure in failures), failures


def test_missing_column_and_row_count(vd: Any) -> None:
    frame = _frame().drop(columns=["plan"]).head(2)
    failures = _failed(vd, frame)
    assert any("missing columns: plan" in f for f in failures)
    assert any("2 rows" in f for f in failures)


def test_main_writes_junit_and_exits_1_on_failure(vd: Any, tmp_path: Path) -> None:
    import json

    (tmp_path / "exp.json").write_text(json.dumps(EXPECTATIONS), encoding="utf-8")
    _frame(plan=["basic", "pro", "gold", "basic"]).to_csv(tmp_path / "d.csv", index=False)
    argv = ["--backend", "local", "--data-path", str(tmp_path / "d.csv"), "--expectations",
            str(tmp_path / "exp.json"), "--junit-output", str(tmp_path / "j.xml"), "--report-output",
            str(tmp_path / "r.json")]
    assert vd.main(argv) == 1
    assert "gold" in (tmp_path / "j.xml").read_text(encoding="utf-8")
    _frame().to_csv(tmp_path / "d.csv", index=False)
    assert vd.main(argv) == 0
