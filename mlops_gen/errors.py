"""One exception hierarchy for every failure a user can cause; the CLI maps it to an exit code.

User mistakes become `UserError` (exit 2) with a precise, positioned message. Anything else is a bug in mlops-gen
and is reported as an internal error (exit 3) by the single handler in `mlops_gen.cli`.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_USER_ERROR = 2
EXIT_INTERNAL_ERROR = 3


@dataclass(frozen=True, order=True)
class Problem:
    """One positioned finding: printed as `FILE:LINE:COL: field.path: message`."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class MlopsGenError(Exception):
    """Base class of every error mlops-gen raises on purpose."""

    exit_code = EXIT_INTERNAL_ERROR


class UserError(MlopsGenError):
    """Bad input or usage: a clear message, exit code 2, nothing written."""

    exit_code = EXIT_USER_ERROR


class SpecError(UserError):
    """One or more problems in spec files, reported all at once in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# The machine's state, not a bug: a full disk or quota, a read-only file system, missing permissions.
ENVIRONMENT_ERRNOS = frozenset(code for code in (errno.ENOSPC, errno.EROFS, getattr(errno, "EDQUOT", None),
                                                 errno.EACCES, errno.EPERM) if code is not None)


def environment_message(exc: OSError, folder: str | Path) -> str:
    return (f"mlops-gen: {folder}: cannot write: {exc.strerror or exc}; nothing in it was left half-written "
            "(each file is replaced whole, and the manifest last): free space or fix permissions, then run again")


@contextlib.contextmanager
def writing_into(folder: str | Path) -> Iterator[None]:
    """Turn an environment failure while writing `folder` into a user error (exit 2) that names the folder."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        raise UserError(environment_message(exc, folder)) from exc
