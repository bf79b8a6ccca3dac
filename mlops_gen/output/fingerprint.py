"""Fingerprints of the inputs of a render: the template set (built-ins plus overrides) and byte hashes.

When a manifest's spec hash, generator version and template fingerprint equal the current ones, the rendered bytes
cannot differ from the recorded ones, so `check` can skip rendering. Light imports only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from mlops_gen.templates_dir import builtin_templates

# The modules whose code decides the rendered bytes besides the templates: planners, context, filters, headers,
# pins, the script contract and the spec model's defaults. Their hash joins the generator version in the manifest,
# so a changed generator is caught even before its version number changes (as in a development checkout).
_PACKAGE = Path(__file__).resolve().parent.parent
_CODE = ("render", "targets", "pins.py", "stages.py", "spec/model.py", "spec/types.py")

_SKIP_DIRS = {"__pycache__", ".git"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _template_files(root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in files:
            if name.endswith(".pyc"):
                continue
            path = Path(directory, name)
            found[path.relative_to(root).as_posix()] = path
    return found


def template_fingerprint(override_dirs: Sequence[Path] = ()) -> str:
    """Hash of every effective template: an override shadows the built-in file with the same relative path.

    This covers more than one spec uses (templates of targets it disables): a change there only costs `check` a
    re-render, never a wrong answer.
    """
    effective: dict[str, Path] = {}
    for root in [*override_dirs, builtin_templates()]:  # jinja's search order: the first directory wins
        for relative, path in _template_files(root).items():
            effective.setdefault(relative, path)
    digest = hashlib.sha256()
    for relative in sorted(effective):
        digest.update(relative.encode("utf-8") + b"\0" + hashlib.sha256(effective[relative].read_bytes()).digest())
    return f"sha256:{digest.hexdigest()}"


def template_hashes(override_dirs: Sequence[Path] = ()) -> dict[str, str]:
    """sha256 of every effective template by its name (an override shadows the built-in file of the same name)."""
    effective: dict[str, Path] = {}
    for root in [*override_dirs, builtin_templates()]:
        for relative, path in _template_files(root).items():
            effective.setdefault(relative, path)
    return {relative: hashlib.sha256(path.read_bytes()).hexdigest() for relative, path in effective.items()}


def templates_fingerprint(names: Sequence[str], hashes: dict[str, str]) -> str:
    """Hash of the templates `names` (a unit's, as its render loaded them): only their changes change it."""
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        digest.update(name.encode("utf-8") + b"\0" + hashes.get(name, "missing").encode("ascii") + b"\n")
    return f"sha256:{digest.hexdigest()}"


@cache
def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _CODE:
        path = _PACKAGE / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.is_file():
                relative = file.relative_to(_PACKAGE).as_posix()
                digest.update(relative.encode("utf-8") + b"\0" + hashlib.sha256(file.read_bytes()).digest())
    return f"sha256:{digest.hexdigest()}"
