"""The suite writes only under temporary or project folders: every cache resolves outside the home directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_gen import cache


def _under(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def test_cache_root_prefers_explicit_then_xdg_then_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "explicit"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == (tmp_path / "explicit").resolve()
    monkeypatch.delenv(cache.CACHE_ENV)
    assert cache.cache_root() == tmp_path / "xdg" / "mlops-gen"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_root() == tmp_path / "home" / ".cache" / "mlops-gen"


def test_the_run_points_every_cache_away_from_home() -> None:
    # conftest sets these at import, so a run-local venv (~660 MB) and pip's wheel cache land in the run's own folder.
    home_cache = Path.home() / ".cache"
    for name in ("XDG_CACHE_HOME", "PIP_CACHE_DIR"):
        assert not _under(Path(os.environ[name]), home_cache), name
    # an explicit MLOPS_GEN_CACHE_DIR from the caller is honoured; the user's default cache never is
    assert cache.cache_root() != home_cache / "mlops-gen"
    assert os.environ[cache.CACHE_ENV]
