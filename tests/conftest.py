"""Shared fixtures: paths, and rendered trees of the example specs cached per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
CORPUS = Path(__file__).resolve().parent / "specs"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def example_specs() -> list[Path]:
    return sorted(SPECS.glob("*.yaml"))
