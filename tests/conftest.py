"""Shared fixtures: paths, and rendered trees of the example specs cached per session."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Every cache is pointed at a folder of this test run *before* any test module imports mlops_gen (compiling templates
# at import time would otherwise fill ~/.cache), and before any subprocess or pip run inherits the environment: the
# suite writes only under temporary or project folders, never in the home directory. A MLOPS_GEN_CACHE_DIR set by the
# caller is kept (reusing run-local venvs between runs is the caller's explicit choice).
_RUN_TMP = Path(tempfile.mkdtemp(prefix="mlops-gen-tests-"))
CACHE_ENV = "MLOPS_GEN_CACHE_DIR"  # mlops_gen.cache.CACHE_ENV; not imported here, so nothing of mlops_gen loads early
os.environ.setdefault(CACHE_ENV, str(_RUN_TMP / "mlops-gen-cache"))
os.environ["XDG_CACHE_HOME"] = str(_RUN_TMP / "xdg-cache")
os.environ["PIP_CACHE_DIR"] = str(_RUN_TMP / "pip-cache")
# pip runs `rustc --version` for its User-Agent when rustc is on PATH (pip/_internal/network/session.py), and a rustup
# proxy then writes ~/.rustup/settings.toml: found by running the suite with HOME in an empty folder. Nothing here
# needs Rust, so rustup gets a folder of this run.
os.environ["RUSTUP_HOME"] = str(_RUN_TMP / "rustup")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_RUN_TMP, ignore_errors=True)


# Hypothesis profiles: ~200 examples per property locally; HYPOTHESIS_PROFILE=ci gives the property tests of
# tests/test_properties.py 2 500 examples each (10 000 in all) and derandomizes, so CI runs are reproducible.

settings.register_profile("local", max_examples=200)
settings.register_profile("ci", max_examples=2500, derandomize=True, print_blob=True)
# CI (CI=true, as .ci/run runs) takes the "ci" profile unless HYPOTHESIS_PROFILE says otherwise.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "local"))

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
CORPUS = Path(__file__).resolve().parent / "specs"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session", autouse=True)
def cache_dir() -> Path:
    """mlops-gen's cache folder (compiled templates, check's stat records, run-local venvs), set at import above."""
    return Path(os.environ[CACHE_ENV])


def example_specs() -> list[Path]:
    return sorted(SPECS.glob("*.yaml"))
