"""check's stat records: files untouched since a check found them intact are not read again, and every kind of
edit is still found (content, same-size content with the old mtime restored, mode), never trusting racy records."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlops_gen.output import changes, stat_cache
from tests.test_regeneration import OUT, cli, ok, work, write_spec

__all__ = ["work"]

FOLDER = f"{OUT}/customer-churn"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files check reads (and hashes), in order."""
    seen: list[str] = []
    real = changes.read_file

    def counting(path: str, info: os.stat_result) -> bytes:
        seen.append(path)
        return real(path, info)

    monkeypatch.setattr(changes, "read_file", counting)
    return seen


@pytest.fixture
def generated(work: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    return work / FOLDER


def check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return cli(capsys, "check", "spec.yaml", "-o", OUT, "--jobs", "1")


def test_intact_files_are_not_read_again_once_recorded(generated: Path, reads: list[str],
                                                      capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)  # the files are old enough at once
    assert check(capsys)[0] == 0
    owned = len(reads)
    assert owned > 50
    reads.clear()
    assert check(capsys)[0] == 0
    assert reads == []


def test_records_are_not_trusted_while_racy(generated: Path, reads: list[str], capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Files modified within the margin are read on every check. The margin is widened to a day so the verdict
    does not depend on how fast this machine runs check after generate (the real 2 s fail under load)."""
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 86_400 * 10**9)
    assert check(capsys)[0] == 0
    first = len(reads)
    reads.clear()
    assert check(capsys)[0] == 0
    assert len(reads) == first


def test_a_same_size_edit_with_the_old_mtime_restored_is_found(generated: Path, reads: list[str],
                                                              capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)
    assert check(capsys)[0] == 0
    target = generated / "src" / "training" / "train.py"
    before = target.stat()
    data = bytearray(target.read_bytes())
    data[-2:-1] = b"#" if data[-2:-1] != b"#" else b" "
    target.write_bytes(bytes(data))
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # size and mtime as recorded; ctime moves
    code, output = check(capsys)
    assert code == 1 and "src/training/train.py: hand-edited" in output


def test_a_mode_change_is_found(generated: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)
    assert check(capsys)[0] == 0
    script = generated / "src" / "training" / "train.py"
    script.chmod(0o644)
    code, output = check(capsys)
    assert code == 1 and "executable bit differs" in output


def test_turned_off_or_malformed_records_mean_reading_everything(generated: Path, reads: list[str],
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 cache_dir: Path) -> None:
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)
    assert check(capsys)[0] == 0
    owned = len(reads)
    monkeypatch.setenv(stat_cache.DISABLE_ENV, "1")
    reads.clear()
    assert check(capsys)[0] == 0
    assert len(reads) == owned
    monkeypatch.delenv(stat_cache.DISABLE_ENV)
    place = stat_cache._place(generated)
    assert place is not None and place.file.is_relative_to(cache_dir / "check"), "the records live in the cache"
    assert place.file.name == stat_cache.RECORDS_FILE  # one file for the output directory
    assert "customer-churn" in json.loads(place.file.read_text(encoding="utf-8"))["folders"]
    for malformed in ('{"format": 2, "folders": {"customer-churn": {"recorded_ns": "soon", "files": [1, 2]}}}',
                      '{"format": 2, "folders": [1]}', '{"format": 1, "recorded_ns": 1, "files": {}}', "{"):
        place.file.write_text(malformed, encoding="utf-8")
        reads.clear()
        assert check(capsys)[0] == 0
        assert len(reads) == owned, malformed
    assert not list(generated.rglob("*.json.*tmp")) and not (generated / ".mlops-gen" / "stat").exists()
