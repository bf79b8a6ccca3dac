"""Which generated files were found intact, and what their inode looked like then: lets `check` skip reading and
hashing files that have not been touched since (the way `git status` uses its index).

A file is trusted without reading only when its size, mtime, ctime and inode number are those recorded, the
manifest still expects the bytes that were hashed then, and it was last modified at least RACY_MARGIN_NS before
the recording run started: an edit made after that start changes the mtime or ctime even on file systems with
coarse timestamps (git's "racily clean" rule). Any write to a file changes its ctime, which no user can set.

One small JSON file per model folder, in the user's cache folder (never in the repository), keyed by the output
directory's real path. Missing, unreadable or malformed cache files are ignored: the files are then hashed.
Not used on Windows, where st_ino and st_ctime do not carry this meaning; MLOPS_GEN_NO_STAT_CACHE turns it off.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import time
from pathlib import Path

from mlops_gen.cache import cache_root, private_dir

RACY_MARGIN_NS = 2_000_000_000
FORMAT = 1
DISABLE_ENV = "MLOPS_GEN_NO_STAT_CACHE"

Record = tuple[int, int, int, int, str]  # size, mtime_ns, ctime_ns, inode, sha256


def enabled() -> bool:
    return os.name != "nt" and not os.environ.get(DISABLE_ENV)


def signature(info: os.stat_result, sha256: str) -> Record:
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, sha256)


class FolderCache:
    """The records of one model folder: read before comparing it, saved after if anything changed."""

    def __init__(self, root: Path) -> None:
        self.started_ns = time.time_ns()  # before any file of this folder is looked at
        self.path = _cache_file(root) if enabled() else None
        self.recorded_ns = 0
        self.old: dict[str, Record] = self._load() if self.path is not None else {}
        self.new: dict[str, Record] = {}

    def _load(self) -> dict[str, Record]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_bytes())
            if data.get("format") != FORMAT:
                return {}
            self.recorded_ns = int(data["recorded_ns"])
            return {str(path): (int(r[0]), int(r[1]), int(r[2]), int(r[3]), str(r[4]))
                    for path, r in data["files"].items()}
        except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError):
            return {}

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
        """Write the records of this run when they differ from the ones read (an up-to-date tree writes nothing)."""
        if self.path is None or (self.new == self.old and self.recorded_ns and not self._racy_left()):
            return
        data = {"format": FORMAT, "recorded_ns": self.started_ns,
                "files": {path: list(record) for path, record in sorted(self.new.items())}}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            temporary.unlink(missing_ok=True)

    def _racy_left(self) -> bool:
        """Records too young to be trusted by the recorded time: saving with this run's start time trusts them."""
        return any(self._racy(record) for record in self.new.values())

    def _racy(self, record: Record) -> bool:
        """Changed too close to (or after) the recording run's start for its times to prove anything."""
        return max(record[1], record[2]) + RACY_MARGIN_NS >= self.recorded_ns


def _cache_file(root: Path) -> Path | None:
    real = os.path.realpath(root)
    folder = _folder_of(os.path.dirname(real))
    return None if folder is None else folder / f"{os.path.basename(real)}.json"


@functools.cache
def _folder_of(outdir: str) -> Path | None:
    return private_dir(cache_root() / "check" / hashlib.sha256(os.fsencode(outdir)).hexdigest()[:24])
