"""Where the built-in templates live: inside the wheel, or at the repository root in a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def builtin_templates() -> Path:
    packaged = Path(__file__).parent / "templates"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "templates"


def template_path(relative: str) -> Path:
    return builtin_templates() / relative
