"""Apply a folder plan: write only files whose bytes change, each atomically (temporary file, then rename), delete
untouched orphans, and write the manifest last.

The order makes an interrupted run harmless: until the new manifest lands, the old one still lists the orphans,
and the next run finds the files already written as unchanged and finishes the job.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from mlops_gen.output.changes import FolderPlan
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.paths import safe_target


def atomic_write(target: Path, data: bytes, executable: bool) -> None:
    """Write to `.<name>.<pid>.tmp` beside the target, then rename over it: readers see old or new, never half.

    The temporary name is unique per process (runs on one output directory are serialised by the lock, and a
    leftover from a killed run is replaced); O_EXCL after an unlink keeps a planted link from being followed.
    """
    parent = target.parent
    if not parent.is_dir():
        parent.mkdir(parents=True, exist_ok=True)
    temporary = parent / f".{target.name}.{os.getpid()}.tmp"
    temporary.unlink(missing_ok=True)
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o755 if executable else 0o644)  # explicit: the umask must not decide
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _prune_empty_parents(root: Path, path: Path) -> None:
    """Remove directories the deletion left empty, up to (not including) the model folder."""
    parent = path.parent
    while parent != root and root in parent.parents:
        with contextlib.suppress(OSError):  # not empty, or gone: both fine
            parent.rmdir()
        if parent.exists():
            return
        parent = parent.parent


def apply_plan(plan: FolderPlan) -> None:
    root = plan.root
    for change in plan.changes:
        if change.action in ("create", "update"):
            assert change.new is not None
            atomic_write(safe_target(root, change.path), change.new, change.executable)
    for change in plan.changes:
        if change.action == "delete":
            target = safe_target(root, change.path)  # checked again: the plan was made before the writes
            target.unlink(missing_ok=True)
            _prune_empty_parents(root, target)
    if plan.retired:
        manifest = safe_target(root, MANIFEST_PATH)
        manifest.unlink(missing_ok=True)
        _prune_empty_parents(root, manifest)
        with contextlib.suppress(OSError):  # the folder stays when the user's files are left in it
            root.rmdir()
    elif plan.manifest is not None and plan.manifest_changed:
        atomic_write(safe_target(root, MANIFEST_PATH), plan.manifest.to_bytes(), executable=False)
