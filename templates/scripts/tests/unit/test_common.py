"""Unit tests of the shared helpers: backend selection, files, JUnit reports."""

from __future__ import annotations

import argparse
import xml.etree.ElementTree as ET  # nosec B405
from pathlib import Path

import pytest

from common import backend, files, junit, tabular


def _args(**values: object) -> argparse.Namespace:
    parser = backend.add_common_arguments(argparse.ArgumentParser())
    return parser.parse_args([item for key, value in values.items() for item in (f"--{key}", str(value))])


def test_backend_comes_from_flag_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_BACKEND", raising=False)
    assert backend.backend_of(_args()) == "azure"
    monkeypatch.setenv("MLOPS_BACKEND", "local")
    assert backend.backend_of(_args()) == "local"
    assert backend.backend_of(_args(backend="azure")) == "azure"
    monkeypatch.setenv("MLOPS_BACKEND", "cloud")
    with pytest.raises(backend.ScriptError):
        backend.backend_of(_args())


def test_local_tracking_uri_is_sqlite_under_workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = backend.tracking_uri(_args(backend="local", workdir=tmp_path))
    assert uri == f"sqlite:///{(tmp_path / 'mlflow.db').resolve().as_posix()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking.invalid")
    assert backend.tracking_uri(_args(backend="local", workdir=tmp_path)) == "http://tracking.invalid"


def test_azure_backend_needs_workspace_coordinates(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("azure.ai.ml")
    monkeypatch.setattr(backend, "_cli_subscription", lambda: None)
    with pytest.raises(backend.ScriptError, match="--subscription-id"):
        backend.ml_client(_args(backend="azure"))


def test_guarded_turns_script_errors_into_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    @backend.guarded
    def main(argv: list[str] | None = None) -> int:
        raise backend.ScriptError("bad input")

    assert main([]) == 2
    assert "error: bad input" in capsys.readouterr().err


def test_pairs_and_thresholds() -> None:
    assert files.parse_pairs(["a=1", "b = x=y"], "--tag") == {"a": "1", "b": "x=y"}
    assert files.parse_thresholds(["accuracy=0.8"], "--min") == {"accuracy": 0.8}
    with pytest.raises(backend.ScriptError):
        files.parse_pairs(["novalue"], "--tag")
    with pytest.raises(backend.ScriptError):
        files.parse_thresholds(["accuracy=high"], "--min")


def test_json_round_trip_and_errors(tmp_path: Path) -> None:
    path = files.write_json(tmp_path / "a" / "b.json", {"b": 1, "a": [1, 2]})
    assert files.read_json(path) == {"a": [1, 2], "b": 1}
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(backend.ScriptError, match="invalid JSON"):
        files.read_json(tmp_path / "bad.json")
    with pytest.raises(backend.ScriptError, match="not found"):
        files.read_json(tmp_path / "missing.json")
    with pytest.raises(backend.ScriptError, match="no run_id"):
        files.read_job(path)


def test_read_table_from_file_or_folder(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "part.csv").write_text("x,y\n1,2\n", encoding="utf-8")
    assert list(files.read_table(tmp_path / "in").columns) == ["x", "y"]
    assert len(files.read_table(tmp_path / "in" / "part.csv")) == 1
    with pytest.raises(backend.ScriptError):
        files.read_table(tmp_path / "nothing.csv")


def test_junit_counts_failures_and_skips(tmp_path: Path) -> None:
    cases = [junit.Case("ok"), junit.Case("bad", "value too low"), junit.Case("later", skipped="no champion")]
    path = junit.write_junit(tmp_path / "r.xml", "suite", cases)
    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314  # nosec B314
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    assert junit.summarize("suite", cases) == 1


def test_sensitive_groups_band_many_valued_numbers() -> None:
    import pandas as pd

    ages = pd.Series(range(18, 98), name="age")
    assert tabular.sensitive_groups(ages).nunique() == tabular.BANDS
    assert tabular.sensitive_groups(pd.Series(["f", "m"], name="g")).tolist() == ["f", "m"]
