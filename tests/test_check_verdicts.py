"""`check`'s verdict per file after a spec change: a file mlops-gen wrote and nobody touched is "stale", a file edited
by hand is "hand-edited" (and must never be reported as merely stale: regenerating would discard the edit)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_regeneration import OUT, cli, ok, set_gate, work, write_spec

__all__ = ["work"]  # the fixture, re-exported for pytest


def _line_of(output: str, path: str) -> str:
    lines = [line for line in output.splitlines() if path in line]
    assert lines, f"{path} not reported:\n{output}"
    return lines[0]


def test_hand_edited_yml_is_reported_hand_edited_after_a_spec_change(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", str(spec), "-o", OUT)
    folder = work / OUT / "customer-churn"
    edited = folder / "azure-pipelines" / "training.yml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# my local tweak\n", encoding="utf-8")
    set_gate(spec, "accuracy", 0.9)  # both pipelines pass the gate values, so both change
    code, output = cli(capsys, "check", str(spec), "-o", OUT)
    assert code == 1, output
    assert "hand-edited" in _line_of(output, "azure-pipelines/training.yml"), output
    untouched = _line_of(output, ".github/workflows/ml-pipeline.yml")
    assert "stale" in untouched and "hand-edited" not in untouched, output
