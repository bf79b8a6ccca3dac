"""The exact error output for a corpus of invalid specs: what a user reads is part of the product.

Each snapshot was read when accepted: one `FILE:LINE:COL: field.path: message` line per problem, in file order.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion

from mlops_gen.errors import SpecError
from mlops_gen.spec.validate import load_spec

INVALID = Path(__file__).parent / "specs" / "invalid"
CASES = sorted(INVALID.glob("*.yaml"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_error_output(path: Path, snapshot: SnapshotAssertion, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    with pytest.raises(SpecError) as raised:
        load_spec(Path(path.name))
    assert str(raised.value) == snapshot


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 12


def test_cli_reports_all_files_once_each_and_exits_2() -> None:
    result = subprocess.run([sys.executable, "-m", "mlops_gen", "validate", str(INVALID)], capture_output=True,
                            text=True, check=False, timeout=60)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    reported = {line.split(":", 1)[0] for line in result.stderr.splitlines()}
    assert reported == {str(path) for path in CASES}
