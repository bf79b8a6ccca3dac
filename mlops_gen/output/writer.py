"""Apply a folder plan: write only files whose bytes change, each atomically (temporary file, then rename), delete
untouched orphans, and write the manifest last.

The order makes an interrupted run harmless: until the new manifest lands, the old one still lists the orphans,
and the next run finds the files already written as unchanged and finishes the job. A model folder that does not
exist yet is built whole in a hidden temporary folder beside it and renamed into place: it appears complete, with
its manifest, or not at all.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from mlops_gen.errors import writing_into
from mlops_gen.output.changes import FolderPlan, Inputs, plan_folder
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.paths import LinkRefused, safe_path, safe_target

_WRITE_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
                | getattr(os, "O_BINARY", 0))
_UMASK = os.umask(0)
os.umask(_UMASK)  # read once at import: os.umask can only be read by setting it


def atomic_write(target: str | Path, data: bytes, executable: bool, made: set[str] | None = None) -> None:
    """Write to `.<name>.<pid>.tmp` beside the target, then rename over it: readers see old or new, never half.

    The temporary name is unique per process (runs on one output directory are serialised by the lock, and a
    leftover from a killed run is replaced); O_EXCL (after an unlink, if a leftover is there) keeps a planted link
    from being followed. `made`: directories known to exist, shared by the writes of one folder (filled in here).
    Raw os calls, no buffered file object: this runs for every file generate writes.
    """
    parent = _parent_made(os.fspath(target), made)
    temporary = os.path.join(parent, f".{os.path.basename(target)}.{os.getpid()}.tmp")
    try:
        handle = os.open(temporary, _WRITE_FLAGS, 0o600)
    except FileExistsError:
        os.unlink(temporary)
        handle = os.open(temporary, _WRITE_FLAGS, 0o600)
    try:
        _write_new(handle, temporary, data, executable, created_with=0o600)
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
    if plan.before is not None:  # a layout switch: the previous layout's files outside this root go first
        with writing_into(plan.before.root):
            _apply_plan(plan.before)
    with writing_into(plan.folder):
        _apply_plan(plan)


def _apply_plan(plan: FolderPlan) -> None:
    root = plan.root
    for change in plan.changes:  # before the first write: a link is never written through, nor half the folder
        if change.reason == "link":
            raise LinkRefused(os.path.join(root, *change.path.split("/")))
    if is_new_folder(plan):
        if _create_folder(plan):
            return
        plan = _planned_again(plan)  # the folder appeared meanwhile: compare with what is there now
    checked: set[str] = set()  # directories found to be real directories (safe_path), or made here
    for change in plan.changes:
        if change.action in ("create", "update"):
            assert change.new is not None
            path = safe_path(os.fspath(root), change.path, checked=checked)
            atomic_write(path, change.new, change.executable, checked)
    for change in plan.changes:
        if change.action == "delete":
            target = safe_target(root, change.path)  # checked again: the plan was made before the writes
            target.unlink(missing_ok=True)
            _prune_empty_parents(root, target)
    if plan.retired:
        manifest = safe_target(root, plan.manifest_path)
        manifest.unlink(missing_ok=True)
        _prune_empty_parents(root, manifest)
        if plan.manifest_path == MANIFEST_PATH:
            with contextlib.suppress(OSError):  # the folder stays when the user's files are left in it
                root.rmdir()
    elif plan.manifest is not None and plan.manifest_changed:
        atomic_write(safe_target(root, plan.manifest_path), plan.manifest.to_bytes(), executable=False)


def is_new_folder(plan: FolderPlan) -> bool:
    return (plan.manifest is not None and plan.manifest_old is None and not plan.retired
            and all(change.action == "create" for change in plan.changes) and not os.path.lexists(plan.root))


BUILDING_SUFFIX = ".mlops-gen-building-"


def _create_folder(plan: FolderPlan) -> bool:
    """Write every file of a new model folder into a hidden folder beside it (build_folder), then rename it in.

    Plain exclusive creates in a folder only this process writes (the output directory's lock keeps other runs
    out). False, with nothing left behind, when the folder cannot be renamed into place (something appeared
    there meanwhile): the caller then writes file by file and reports what it finds.
    """
    return place_folder(build_folder(plan), plan.root)


def build_folder(plan: FolderPlan) -> str:
    """Write every file of the new model folder `plan.root`, manifest included, into a hidden temporary folder
    beside it (`.<model>.mlops-gen-building-<pid>`); its path. Nothing is visible at `plan.root` until place_folder."""
    with writing_into(plan.root):
        return _build_folder(plan)


def _build_folder(plan: FolderPlan) -> str:
    assert plan.manifest is not None
    root = os.fspath(plan.root)
    building = os.path.join(os.path.dirname(root), f".{os.path.basename(root)}{BUILDING_SUFFIX}{os.getpid()}")
    _remove_leftover(building)
    os.makedirs(building)
    try:
        made = {building}
        for change in plan.changes:
            assert change.new is not None
            _create_file(os.path.join(building, *change.path.split("/")), change.new, change.executable, made)
        _create_file(os.path.join(building, *MANIFEST_PATH.split("/")), plan.manifest.to_bytes(), False, made)
    except BaseException:
        _remove_leftover(building)
        raise
    return building


def place_folder(building: str, root: Path) -> bool:
    """Rename a folder build_folder made into place; False, with the temporary folder removed, when something is
    at `root` already (the caller then writes file by file and reports what it finds)."""
    try:
        os.rename(building, root)
    except OSError:
        if os.path.lexists(root):
            _remove_leftover(building)
            return False
        _remove_leftover(building)
        raise
    return True


def _planned_again(plan: FolderPlan) -> FolderPlan:
    """A new folder's plan made again against the folder that appeared in its place, so that what is there is
    compared (and user-owned files kept) rather than overwritten as if new."""
    manifest = plan.manifest
    assert manifest is not None
    files = {change.path: _Planned(change.new or b"", manifest.files[change.path].mode, change.executable,
                                   manifest.files[change.path].target) for change in plan.changes}
    inputs = Inputs(model=manifest.model, spec_path=manifest.spec_path, spec_sha256=manifest.spec_sha256,
                    generator_version=manifest.generator_version,
                    generator_fingerprint=manifest.generator_fingerprint,
                    template_fingerprint=manifest.template_fingerprint, override_dirs=manifest.override_dirs)
    selected = None if manifest.complete else {entry.target for entry in manifest.files.values()}
    return plan_folder(plan.root, files, inputs, selected)


@dataclass(frozen=True)
class _Planned:
    """A planned file rebuilt from a plan (changes.Rendered)."""

    data: bytes
    mode: str
    executable: bool
    target: str


def _create_file(path: str, data: bytes, executable: bool, made: set[str]) -> None:
    _parent_made(path, made)
    mode = 0o755 if executable else 0o644
    _write_new(os.open(path, _WRITE_FLAGS, mode), path, data, executable, created_with=mode)


def _parent_made(path: str, made: set[str] | None) -> str:
    """The directory of `path`, created if needed; `made`: directories known to exist (filled in here)."""
    parent = os.path.dirname(path)
    if made is None or parent not in made:
        os.makedirs(parent, exist_ok=True)
        if made is not None:
            made.add(parent)
    return parent


def _write_new(handle: int, path: str, data: bytes, executable: bool, created_with: int) -> None:
    """Write all of `data` to the file just created at `path` with mode `created_with`, close it, and give it the
    mode of a generated file (0755 or 0644) when the creation mode and the umask did not."""
    mode = 0o755 if executable else 0o644
    needs_mode = created_with & ~_UMASK != mode  # explicit: the umask must not decide
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(handle, view):]
        if needs_mode and hasattr(os, "fchmod"):
            os.fchmod(handle, mode)
    finally:
        os.close(handle)
    if needs_mode and not hasattr(os, "fchmod"):
        os.chmod(path, mode)


def _remove_leftover(path: str) -> None:
    """Remove a temporary folder of ours (left by a killed run with the same process id); a link is unlinked,
    never followed."""
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


# `.<model>.mlops-gen-building-<pid>`: a name only build_folder gives (model names are lowercase DNS labels).
_LEFTOVER = re.compile(r"\.[a-z][a-z0-9-]*" + re.escape(BUILDING_SUFFIX) + r"[0-9]+")


def remove_leftovers(outdir: Path) -> None:
    """Temporary model folders a killed run left in OUTDIR. Call with the output directory's exclusive lock held:
    then no other run is building one."""
    try:
        entries = list(os.scandir(outdir))
    except OSError:
        return
    for entry in entries:
        if _LEFTOVER.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            _remove_leftover(entry.path)
