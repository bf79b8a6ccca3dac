"""Shared fixtures: paths, and rendered trees of the example specs cached per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

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
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """mlops-gen's cache folder (compiled templates, check's stat records, run-local venvs) for the session: tests
    never read or fill the user's. A MLOPS_GEN_CACHE_DIR set by the caller is kept, so venvs can be reused."""
    from mlops_gen.cache import CACHE_ENV

    patch = pytest.MonkeyPatch()
    if not os.environ.get(CACHE_ENV):
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("mlops-gen-cache")))
    yield Path(os.environ[CACHE_ENV])
    patch.undo()


def example_specs() -> list[Path]:
    return sorted(SPECS.glob("*.yaml"))
