"""Where mlops-gen keeps what it can rebuild: run-local virtual environments and compiled templates."""

from __future__ import annotations

import os
import stat
from pathlib import Path

CACHE_ENV = "MLOPS_GEN_CACHE_DIR"


def cache_root() -> Path:
    """$MLOPS_GEN_CACHE_DIR, else the user's cache folder (XDG_CACHE_HOME or ~/.cache)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlops-gen"


def private_dir(path: Path) -> Path | None:
    """`path`, created if needed, when it is a directory of this user that no one else can write; else None.

    For caches whose content is executed (compiled templates): a folder others can write is not used.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_mode & 0o022:
        return None
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return None
    return path
