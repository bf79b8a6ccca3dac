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

_WRITE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                | getattr(os, "O_BINARY", 0))


def atomic_write(target: Path, data: bytes, executable: bool, made: set[str] | None = None) -> None:
    """Write to `.<name>.<pid>.tmp` beside the target, then rename over it: readers see old or new, never half.

    The temporary name is unique per process (runs on one output directory are serialised by the lock, and a
    leftover from a killed run is replaced); O_EXCL (after an unlink, if a leftover is there) keeps a planted link
    from being followed. `made`: directories known to exist, shared by the writes of one folder (filled in here).
    Raw os calls, no buffered file object: this runs for every file generate writes.
    """
    parent = os.path.dirname(target)
    if made is None or parent not in made:
        os.makedirs(parent, exist_ok=True)
        if made is not None:
            made.add(parent)
    temporary = os.path.join(parent, f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        handle = os.open(temporary, _WRITE_FLAGS, 0o600)
    except FileExistsError:
        os.unlink(temporary)
        handle = os.open(temporary, _WRITE_FLAGS, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            if hasattr(os, "fchmod"):
                os.fchmod(handle, 0o755 if executable else 0o644)  # explicit: the umask must not decide
        finally:
            os.close(handle)
        if not hasattr(os, "fchmod"):
            os.chmod(temporary, 0o755 if executable else 0o644)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
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
    checked: set[str] = set()  # directories found to be real directories (safe_target), or made here
    for change in plan.changes:
        if change.action in ("create", "update"):
            assert change.new is not None
            atomic_write(safe_target(root, change.path, checked=checked), change.new, change.executable, checked)
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
