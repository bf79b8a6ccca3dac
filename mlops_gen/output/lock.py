"""One writer per output directory: `generate` holds an exclusive lock for its whole run.

POSIX: flock(2) on the output directory itself, so no lock file is left behind and a crashed run releases the
lock with its process. Elsewhere: an O_EXCL lock file holding the owner's pid, taken over when it is stale.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from mlops_gen.errors import UserError

LOCK_FILE = ".mlops-gen.lock"  # fallback only (no fcntl)
_NO_LOCKS = {errno.ENOLCK, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)}
DEFAULT_TIMEOUT = 600.0
STALE_AFTER = 3600.0


def _timeout() -> float:
    try:
        return float(os.environ.get("MLOPS_GEN_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


def _waiting(outdir: Path) -> None:
    print(f"mlops-gen: waiting for another mlops-gen run on {outdir} to finish", file=sys.stderr, flush=True)


@contextlib.contextmanager
def output_lock(outdir: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the lock of `outdir` (exclusive for writers, shared for readers) until the block ends."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        if shared:
            yield
        else:
            with _lock_file(outdir):
                yield
        return
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        handle = os.open(outdir, flags)
    except FileNotFoundError:
        if shared:  # nothing generated yet: nothing to protect a reader from
            yield
            return
        raise
    try:
        kind = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        try:
            fcntl.flock(handle, kind | fcntl.LOCK_NB)
        except BlockingIOError:
            _waiting(outdir)
            deadline = time.monotonic() + _timeout()
            while True:
                time.sleep(0.05)
                try:
                    fcntl.flock(handle, kind | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise UserError(f"{outdir}: another mlops-gen run still holds the lock; "
                                        "try again when it has finished") from None
        except OSError as exc:
            if exc.errno not in _NO_LOCKS:
                raise
            # A file system without flock (some network mounts): run unlocked rather than not at all.
        yield
    finally:
        os.close(handle)  # closing releases the lock


@contextlib.contextmanager
def _lock_file(outdir: Path) -> Iterator[None]:  # pragma: no cover - Windows
    path = outdir / LOCK_FILE
    deadline = time.monotonic() + _timeout()
    announced = False
    while True:
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                if time.time() - path.stat().st_mtime > STALE_AFTER:
                    path.unlink(missing_ok=True)  # a crashed run's lock
                    continue
            except FileNotFoundError:
                continue
            if not announced:
                _waiting(outdir)
                announced = True
            if time.monotonic() > deadline:
                raise UserError(f"{path}: another mlops-gen run holds this lock; delete the file if none is "
                                "running") from None
            time.sleep(0.1)
    try:
        os.write(handle, f"{os.getpid()}\n".encode())
        os.close(handle)
        yield
    finally:
        path.unlink(missing_ok=True)
