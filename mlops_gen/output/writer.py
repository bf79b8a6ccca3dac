"""Write a rendered model folder: only files whose bytes change, each atomically (temporary file, then rename)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gen.errors import UserError
from mlops_gen.render.render import RenderedFile


@dataclass
class WriteReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # seeded files the user owns now


def safe_target(root: Path, relative: str) -> Path:
    """The path of `relative` inside `root`, refusing escapes and symlinked targets."""
    if relative.startswith("/") or ".." in Path(relative).parts:
        raise UserError(f"{relative}: refusing to write outside the output directory {root}")
    target = root / relative
    for parent in [target, *target.parents]:
        if parent == root.parent or parent == root.parent.parent:
            break
        if parent.is_symlink():
            raise UserError(f"{parent}: is a symbolic link; refusing to write through it")
    return target


def atomic_write(target: Path, data: bytes, executable: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o755 if executable else 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_tree(root: Path, files: dict[str, RenderedFile], *, dry_run: bool = False) -> WriteReport:
    report = WriteReport()
    for relative, rendered in files.items():
        target = safe_target(root, relative)
        if target.exists():
            if rendered.mode == "seeded":
                report.kept.append(relative)
                continue
            if target.read_bytes() == rendered.data:
                report.unchanged.append(relative)
                continue
            report.updated.append(relative)
        else:
            report.created.append(relative)
        if not dry_run:
            atomic_write(target, rendered.data, rendered.executable)
    return report
