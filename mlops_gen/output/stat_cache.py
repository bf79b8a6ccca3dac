"""Which generated files were found intact, and what their inode looked like then: lets `check` skip reading and
hashing files that have not been touched since (the way `git status` uses its index).

A file is trusted without reading only when its size, mtime, ctime and inode number are those recorded, the
manifest still expects the bytes that were hashed then, and it was last modified at least RACY_MARGIN_NS before
the recording run started: an edit made after that start changes the mtime or ctime even on file systems with
coarse timestamps (git's "racily clean" rule). Any write to a file changes its ctime, which no user can set.

One JSON file per output directory, in the user's cache folder (never in the repository), keyed by the output
directory's real path, with the records of each of its folders. One file rather than one per folder: a check on a
fresh clone records every folder, and 500 file creations cost more than the hashing on a real disk. A run that
compares many folders collects their records (workers send theirs back) and writes the file once (`deferred`).
Missing, unreadable or malformed records are ignored: the files are then hashed. Two runs saving at once may
drop each other's records, which costs a later run some hashing, never a verdict. Not used on Windows, where
st_ino and st_ctime do not carry this meaning; MLOPS_GEN_NO_STAT_CACHE turns it off.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gen.cache import cache_root, private_dir

RACY_MARGIN_NS = 2_000_000_000
FORMAT = 2  # 1: one file per model folder
RECORDS_FILE = "folders.json"
DISABLE_ENV = "MLOPS_GEN_NO_STAT_CACHE"

Record = tuple[int, int, int, int, str]  # size, mtime_ns, ctime_ns, inode, sha256
Entry = dict[str, Any]  # one folder's records as saved: {"recorded_ns": int, "files": {path: [size, ...]}}


def enabled() -> bool:
    return os.name != "nt" and not os.environ.get(DISABLE_ENV)


def signature(info: os.stat_result, sha256: str) -> Record:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, sha256)


@dataclass(frozen=True)
class Place:
    """Where a folder's records live: the records file of its output directory, and the folder's name in it."""

    file: Path
    outdir: str  # real path
    name: str


class FolderCache:
    """The records of one model folder: read before comparing it, saved after if anything changed."""

    def __init__(self, root: Path) -> None:
        self.started_ns = time.time_ns()  # before any file of this folder is looked at
        self.place = _place(root) if enabled() else None
        self.recorded_ns = 0
        self.old: dict[str, Record] = self._load() if self.place is not None else {}
        self.new: dict[str, Record] = {}

    def _load(self) -> dict[str, Record]:
        assert self.place is not None
        try:
            entry = _folders(self.place.file).get(self.place.name)
            if entry is None:
                return {}
            recorded_ns = int(entry["recorded_ns"])
            records = {str(path): (int(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4]))
                       for path, r in entry["files"].items()}
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return {}
        self.recorded_ns = recorded_ns
        return records

    def intact(self, path: str, info: os.stat_result, sha256: str) -> bool:
        """Known intact without reading: recorded with this inode state and these expected bytes, and not racy."""
        record = self.old.get(path)
        if record is None or record != signature(info, sha256):
            return False
        if self._racy(record):
            return False
        self.new[path] = record
        return True

    def found_intact(self, path: str, info: os.stat_result, sha256: str) -> None:
        """`path` was just read and hashed to the manifest's `sha256`."""
        self.new[path] = signature(info, sha256)

    def save(self) -> None:
        """Keep the records of this run when they differ from the ones read (an up-to-date tree writes nothing):
        written at once, or with the others of a `deferred` run."""
        if self.place is None or (self.new == self.old and self.recorded_ns and not self._racy_left()):
            return
        entry = {"recorded_ns": self.started_ns,
                 "files": {path: list(record) for path, record in sorted(self.new.items())}}
        if _pending is not None:
            _pending.setdefault((self.place.file, self.place.outdir), {})[self.place.name] = entry
        else:
            _write(self.place.file, self.place.outdir, {self.place.name: entry})

    def _racy_left(self) -> bool:
        """Records too young to be trusted by the recorded time: saving with this run's start time trusts them."""
        return any(self._racy(record) for record in self.new.values())

    def _racy(self, record: Record) -> bool:
        """Changed too close to (or after) the recording run's start for its times to prove anything."""
        return max(record[1], record[2]) + RACY_MARGIN_NS >= self.recorded_ns


Pending = dict[tuple[Path, str], dict[str, Entry]]
_pending: Pending | None = None  # the records of a deferred run: by (records file, output directory), by folder


@contextlib.contextmanager
def deferred() -> Iterator[Pending]:
    """Within the block, folders' records are collected rather than written; each records file is written once
    at the end, with what `merge` added (the records worker processes collected and sent back)."""
    global _pending
    outer, _pending = _pending, {}
    collected = _pending
    try:
        yield collected
    finally:
        _pending = outer
    for (file, outdir), entries in collected.items():
        _write(file, outdir, entries)


def take() -> Pending:
    """In a worker process within `deferred` (inherited from the parent): the records collected so far, handed
    over for the parent to write."""
    if _pending is None:
        return {}
    found = dict(_pending)
    _pending.clear()
    return found


def merge(into: Pending, found: Pending) -> None:
    for key, entries in found.items():
        into.setdefault(key, {}).update(entries)


def _place(root: Path) -> Place | None:
    real = os.path.realpath(root)
    outdir = os.path.dirname(real)
    folder = _folder_of(outdir)
    return None if folder is None else Place(folder / RECORDS_FILE, outdir, os.path.basename(real))


@functools.cache
def _folder_of(outdir: str) -> Path | None:
    return private_dir(cache_root() / "check" / hashlib.sha256(os.fsencode(outdir)).hexdigest()[:24])


# Records files read by this process, with the stat() they were read at: a run reads its file once, and a
# process that runs several commands (tests, an IDE) never trusts what another run has since replaced.
_read: dict[Path, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def _folders(file: Path) -> dict[str, Any]:
    """The folders' records in `file` ({} when missing, unreadable or malformed)."""
    try:
        info = os.stat(file)
    except OSError:
        return {}
    key = (info.st_mtime_ns, info.st_size, info.st_ino)
    known = _read.get(file)
    if known is not None and known[0] == key:
        return known[1]
    try:
        data = json.loads(file.read_bytes())
        folders = data["folders"] if isinstance(data, dict) and data.get("format") == FORMAT else {}
        if not isinstance(folders, dict):
            folders = {}
    except (OSError, ValueError, KeyError):
        folders = {}
    _read[file] = (key, folders)
    return folders


def _write(file: Path, outdir: str, entries: dict[str, Entry]) -> None:
    """Merge `entries` into the records `file` of `outdir`; folders no longer there are dropped."""
    folders = {name: entry for name, entry in _folders(file).items()
               if name not in entries and os.path.isdir(os.path.join(outdir, name))}
    folders.update(entries)
    data = {"format": FORMAT, "folders": dict(sorted(folders.items()))}
    temporary = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(temporary, file)
    except OSError:
        temporary.unlink(missing_ok=True)
