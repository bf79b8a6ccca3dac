"""Path safety for everything mlops-gen writes or deletes: relative, inside the model folder, never through a link.

Kept free of heavy imports: `check` uses it on its fast path.
"""

from __future__ import annotations

import functools
import os
import stat
from pathlib import Path, PurePosixPath

from mlops_gen.errors import UserError


def name_and_suffix(relative: str) -> tuple[str, str]:
    """PurePosixPath(relative).name and .suffix, without building a path object (called for every generated file)."""
    name = relative.rpartition("/")[2]
    dot = name.rfind(".")
    return name, name[dot:] if 0 < dot < len(name) - 1 else ""


def validate_relative(relative: str, where: str) -> str:
    """`relative` if it is a clean POSIX path inside its root; a UserError naming `where` otherwise."""
    reason = ""
    if not isinstance(relative, str) or not relative:
        reason = "is empty"
    elif relative.startswith("/") or (len(relative) > 1 and relative[1] == ":"):  # plain string checks: hot path
        reason = "is absolute"
    elif "\\" in relative or "\0" in relative:
        reason = "contains a backslash or NUL byte"
    else:
        parts = relative.split("/")  # list membership tests run in C: this checks every manifest entry
        if "" in parts or "." in parts or ".." in parts:
            reason = "contains an empty, '.' or '..' component"
    if reason:
        raise UserError(f"{where}: path {relative!r} {reason}; refusing to touch anything outside the model folder")
    return relative


def safe_target(root: Path, relative: str, where: str = "output", checked: set[str] | None = None) -> Path:
    """The path of `relative` inside `root`; refuses escapes and symbolic links on the way (root included).

    `checked`: directories of this folder already found to be real directories, shared by the calls for one folder
    so each directory is lstat()ed once rather than once per file (the set is filled in here).
    """
    return Path(safe_path(os.fspath(root), relative, where, checked))


def safe_path(root: str, relative: str, where: str = "output", checked: set[str] | None = None) -> str:
    """safe_target as a plain string (no Path objects: writers call it for every file of every model)."""
    return _checked_file(root, relative, where, set() if checked is None else checked)[0]


def _checked_file(root: str, relative: str, where: str, checked: set[str], validated: bool = False
                  ) -> tuple[str, os.stat_result | None]:
    """root/relative and its lstat() (None when absent), refusing escapes and links on the way and at the end."""
    if not validated:
        validate_relative(relative, where)
    head, _, name = relative.rpartition("/")
    # The parent as _checked_parent spells it, when it was checked already: no walk, no os.path.join.
    parent: str | None = root + os.sep + head.replace("/", os.sep) if head else root
    if parent not in checked:
        parts = relative.split("/")
        parent = _checked_parent(root, parts, checked)
        if parent is None:
            return os.path.join(root, *parts), None
    path = parent + os.sep + name
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path, None
    _refuse_link(path, info.st_mode)
    return path, info


def _checked_parent(root: str, parts: list[str], checked: set[str]) -> str | None:
    """The parent directory of root/<parts> after refusing links on the way; None when a directory is missing
    (nothing below a missing directory exists, or can be a link)."""
    current = root
    for part in ("", *parts[:-1]):  # plain strings: this runs for every file of every model
        current = os.path.join(current, part) if part else current
        if current in checked:
            continue
        try:
            info = os.lstat(current)
        except FileNotFoundError:
            return None
        _refuse_link(current, info.st_mode)
        checked.add(current)
    return current


class LinkRefused(UserError):
    """A symbolic link where mlops-gen reads or writes: refused, never followed. `path` is the link."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"{path}: is a symbolic link; refusing to write or delete through it (remove the link, "
                         "then run generate again)")

    def __reduce__(self) -> tuple[type[LinkRefused], tuple[str]]:  # worker processes send it back
        return (LinkRefused, (self.path,))


def _refuse_link(path: str, st_mode: int) -> None:
    if stat.S_ISLNK(st_mode):
        raise LinkRefused(path)


def read_checked(root: Path, relative: str, where: str, checked: set[str], validated: bool = False
                 ) -> tuple[bytes, int] | None:
    """safe_target + read_regular + the file's mode in one pass, for reading many files of one folder: the bytes and
    st_mode of the regular file at `relative`, None when absent. `checked` as for safe_target; `validated`: the
    caller already passed `relative` through validate_relative (a parsed manifest's entries).
    Same refusals and messages as safe_target and read_regular.
    """
    found = stat_checked(root, relative, where, checked, validated)
    if found is None:
        return None
    path, info = found
    return read_file(path, info), info.st_mode


def read_file(path: str, info: os.stat_result) -> bytes:
    """The bytes of the regular file at `path`, as stat_checked found it."""
    return _read_fd(path, info.st_size)


def stat_checked(root: Path, relative: str, where: str, checked: set[str], validated: bool = False
                 ) -> tuple[str, os.stat_result] | None:
    """read_checked without the reading: the path and lstat() of the regular file at `relative`, None when absent."""
    current, info = _checked_file(os.fspath(root), relative, where, checked, validated)
    if info is None:
        return None
    if not stat.S_ISREG(info.st_mode):
        raise UserError(f"{root / relative}: is not a regular file; move it away so mlops-gen can write its file "
                        "there")
    return current, info


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _read_fd(path: str, size: int) -> bytes:
    """The whole file, with raw os calls (no buffered file object: this runs for every file of every model).
    O_NOFOLLOW: a link swapped in after the lstat() fails instead of being followed."""
    handle = os.open(path, _READ_FLAGS)
    try:
        data = os.read(handle, size + 1)  # a short read of a regular file is its end: one call, usually
        if len(data) <= size:
            return data
        chunks = [data]
        while chunks[-1]:  # it grew since lstat()
            chunks.append(os.read(handle, 1 << 20))
        return b"".join(chunks)
    finally:
        os.close(handle)


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


@functools.lru_cache(maxsize=1024)
def _repository_of(directory: str) -> str:
    """The nearest directory at or above `directory` holding `.git` (a folder, or a worktree's file); '' if none."""
    current = directory
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return ""
        current = parent


def project_root(path: Path) -> Path:
    """What spec and template paths are named relative to: the root of the git repository holding `path`, so that
    headers, manifests and verdicts do not depend on the working directory; the working directory outside one."""
    found = _repository_of(os.path.dirname(os.path.abspath(path)) if not os.path.isdir(path)
                           else os.path.abspath(path))
    return Path(found) if found else Path.cwd()


def from_shown(shown: str, near: Path) -> Path:
    """The file a shown path (a manifest's spec path) names, for a tree at `near` (the output directory)."""
    return project_root(near) / shown


@functools.lru_cache(maxsize=1024)
def _resolved_dir(directory: str) -> str:
    """os.path.realpath of a directory, once per run: a repository's specs share a few folders."""
    return os.path.realpath(directory)


def _resolved(path: Path) -> str:
    """Path(path).resolve() as a string: the folder resolved once (cached), then only the last component checked
    for a link; a path with '..' is resolved in full, as a link before it changes what '..' means."""
    text = os.fspath(path)
    if ".." in text.replace(os.sep, "/").split("/"):
        return str(path.resolve())
    head, name = os.path.split(os.path.abspath(text))
    if not name:
        return _resolved_dir(head)
    real = os.path.join(_resolved_dir(head), name)
    return os.path.realpath(real) if os.path.islink(real) else real


def shown_path(path: Path) -> str:
    """How a path is named in headers, output and manifests: relative to its project root, never absolute.

    Lives here, free of jinja2, so `check`'s fast path can use it without importing the renderer.
    """
    base = project_root(path)
    try:
        relative = os.path.relpath(_resolved(path), _resolved_dir(os.fspath(base)))
    except ValueError:  # another drive on Windows
        relative = path.name
    if relative.startswith(".."):
        relative = path.name
    return PurePosixPath(Path(relative).as_posix()).as_posix()
