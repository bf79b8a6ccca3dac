"""One virtual environment per set of generated requirements, cached by their hash and reused across runs."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from mlops_gen.cache import cache_root
from mlops_gen.errors import UserError
from mlops_gen.output.lock import output_lock

READY_MARKER = ".mlops-gen-ready"


def requirements_hash(files: Sequence[Path]) -> str:
    """Hash of what gets installed: the requirement lines, without comments (the generated header names the spec
    file, which must not split the cache), and the Python version."""
    digest = hashlib.sha256(f"{sys.version_info.major}.{sys.version_info.minor}\n".encode())
    for path in files:
        lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
        digest.update(path.name.encode() + b"\0" + "\n".join(line for line in lines if line).encode() + b"\0")
    return digest.hexdigest()[:16]


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(requirements: Sequence[Path], root: Path | None = None) -> Path:
    """The python of a venv holding `requirements`: reused when one was built for the same files, else built.

    The venv is built in place (console scripts record their absolute path, so a venv cannot be moved) while the
    cache folder is locked; the ready marker is written last, so a half-built venv is never trusted.
    """
    missing = [str(p) for p in requirements if not p.is_file()]
    if missing:
        raise UserError(f"requirements file not found: {', '.join(missing)}")
    folder = (root or cache_root()) / "venvs" / requirements_hash(requirements)
    if (folder / READY_MARKER).is_file() and venv_python(folder).exists():
        click.echo(f"reusing virtual environment {folder}")
        return venv_python(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(folder.parent):
        if (folder / READY_MARKER).is_file() and venv_python(folder).exists():  # built while we waited
            return venv_python(folder)
        shutil.rmtree(folder, ignore_errors=True)  # an interrupted build: never trusted, never reused
        click.echo(f"creating virtual environment {folder} (first run for these requirements: a minute or two)")
        try:
            _run([sys.executable, "-m", "venv", str(folder)], "create the virtual environment")
            install = [str(venv_python(folder)), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
            for path in requirements:
                install += ["--requirement", str(path)]
            _run(install, "install the generated requirements")
            (folder / READY_MARKER).write_text("\n".join(str(p) for p in requirements) + "\n", encoding="utf-8")
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
    return venv_python(folder)


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-20:])
        raise UserError(f"could not {what} (exit {result.returncode}):\n{tail}")
