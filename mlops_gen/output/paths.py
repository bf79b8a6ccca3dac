"""Path safety for everything mlops-gen writes or deletes: relative, inside the model folder, never through a link.

Kept free of heavy imports: `check` uses it on its fast path.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from mlops_gen.errors import UserError


def validate_relative(relative: str, where: str) -> str:
    """`relative` if it is a clean POSIX path inside its root; a UserError naming `where` otherwise."""
    reason = ""
    if not isinstance(relative, str) or not relative:
        reason = "is empty"
    elif relative.startswith("/") or PurePosixPath(relative).is_absolute() or (len(relative) > 1 and
                                                                              relative[1] == ":"):
        reason = "is absolute"
    elif "\\" in relative or "\0" in relative:
        reason = "contains a backslash or NUL byte"
    elif any(part in ("", ".", "..") for part in relative.split("/")):
        reason = "contains an empty, '.' or '..' component"
    if reason:
        raise UserError(f"{where}: path {relative!r} {reason}; refusing to touch anything outside the model folder")
    return relative


def safe_target(root: Path, relative: str, where: str = "output") -> Path:
    """The path of `relative` inside `root`; refuses escapes and symbolic links on the way (root included)."""
    validate_relative(relative, where)
    current = os.fspath(root)  # plain strings: this runs for every file of every model
    for part in ("", *relative.split("/")):
        current = os.path.join(current, part) if part else current
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            break  # nothing below a missing directory can be a link
        if stat.S_ISLNK(info.st_mode):
            raise UserError(f"{current}: is a symbolic link; refusing to write or delete through it")
    return root / relative


def read_regular(path: Path) -> bytes | None:
    """Bytes of the regular file at `path` (checked by safe_target), None when absent; refuses anything else."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{path}: is not a regular file; move it away so mlops-gen can write its file there")
    return path.read_bytes()


def is_executable(path: Path) -> bool:
    return bool(os.lstat(path).st_mode & 0o111)


def shown_path(path: Path) -> str:
    """How a path is named in output and manifests: relative to the working directory, never absolute.

    Same rule as mlops_gen.render.render.shown_path (which headers use); duplicated so `check` need not import jinja2.
    """
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive on Windows
        relative = path.name
    if relative.startswith(".."):
        relative = path.name
    return PurePosixPath(Path(relative).as_posix()).as_posix()
