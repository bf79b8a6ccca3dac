"""Tests written to kill mutmut's survivors in path safety (mlops_gen/output/paths.py): which relative paths are
refused and why, links refused on the way and at the end, reads of regular files only, and how paths are shown."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from mlops_gen.errors import UserError
from mlops_gen.output import paths
from mlops_gen.output.paths import (
    LinkRefused,
    from_shown,
    is_executable,
    name_and_suffix,
    project_root,
    read_checked,
    read_regular,
    safe_path,
    safe_target,
    shown_path,
    stat_checked,
    validate_relative,
)


@pytest.mark.parametrize(("relative", "expected"), [
    ("a/b/train.py", ("train.py", ".py")),
    ("Dockerfile", ("Dockerfile", "")),
    (".gitignore", (".gitignore", "")),  # a leading dot is a hidden name, not a suffix
    ("dir/name.", ("name.", "")),  # a trailing dot is no suffix
    ("x/archive.tar.gz", ("archive.tar.gz", ".gz")),
    ("a.b/c", ("c", "")),
    ("a/.x.y", (".x.y", ".y")),
    ("a/b.c", ("b.c", ".c")),
])
def test_name_and_suffix_agree_with_pure_posix_path(relative: str, expected: tuple[str, str]) -> None:
    from pathlib import PurePosixPath

    assert name_and_suffix(relative) == expected
    assert expected == (PurePosixPath(relative).name, PurePosixPath(relative).suffix)


@pytest.mark.parametrize(("relative", "reason"), [
    ("", "is empty"),
    ("/etc/passwd", "is absolute"),
    ("C:/x", "is absolute"),
    ("a\\b", "contains a backslash or NUL byte"),
    ("a\0b", "contains a backslash or NUL byte"),
    ("a//b", "contains an empty, '.' or '..' component"),
    ("a/./b", "contains an empty, '.' or '..' component"),
    ("../b", "contains an empty, '.' or '..' component"),
    ("a/", "contains an empty, '.' or '..' component"),
])
def test_validate_relative_refuses_and_says_why(relative: str, reason: str) -> None:
    with pytest.raises(UserError) as raised:
        validate_relative(relative, "manifest")
    assert str(raised.value) == (f"manifest: path {relative!r} {reason}; refusing to touch anything outside the "
                                 "model folder")


def test_validate_relative_refuses_a_non_string() -> None:
    with pytest.raises(UserError, match="is empty"):
        validate_relative(None, "x")  # type: ignore[arg-type]


@pytest.mark.parametrize("relative", ["a", "ab:c", "a/b..c/.d", "...", "x/y/z.yml", "C"])
def test_validate_relative_keeps_clean_paths(relative: str) -> None:
    assert validate_relative(relative, "w") == relative


def test_safe_target_joins_inside_the_root(tmp_path: Path) -> None:
    assert safe_target(tmp_path, "a/b/c.txt") == tmp_path / "a" / "b" / "c.txt"
    (tmp_path / "a" / "b").mkdir(parents=True)
    checked: set[str] = set()
    assert safe_path(str(tmp_path), "a/b/c.txt", checked=checked) == str(tmp_path / "a" / "b" / "c.txt")
    assert checked == {str(tmp_path), str(tmp_path / "a"), str(tmp_path / "a" / "b")}
    assert safe_path(str(tmp_path), "a/b/d.txt", checked=checked) == str(tmp_path / "a" / "b" / "d.txt")
    assert safe_path(str(tmp_path), "top.txt", checked=checked) == str(tmp_path / "top.txt")


def test_safe_target_names_where_for_a_bad_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^templates: path '\.\./x'"):
        safe_target(tmp_path, "../x", "templates")
    with pytest.raises(UserError, match=r"^output: path"):
        safe_target(tmp_path, "/x")


def test_links_are_refused_on_the_way_at_the_end_and_at_the_root(tmp_path: Path) -> None:
    real = tmp_path / "real"
    (real / "sub").mkdir(parents=True)
    (real / "sub" / "f.txt").write_text("x")
    (real / "linkdir").symlink_to(real / "sub")
    (real / "linkfile").symlink_to(real / "sub" / "f.txt")
    (tmp_path / "rootlink").symlink_to(real)
    for root, relative, link in [(real, "linkdir/f.txt", real / "linkdir"), (real, "linkfile", real / "linkfile"),
                                 (tmp_path / "rootlink", "sub/f.txt", tmp_path / "rootlink")]:
        with pytest.raises(LinkRefused) as raised:
            safe_target(root, relative, checked=set())
        assert raised.value.path == str(link)
        assert str(raised.value) == (f"{link}: is a symbolic link; refusing to write or delete through it (remove "
                                     "the link, then run generate again)")


def test_a_link_below_an_already_checked_parent_is_still_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "ok").write_text("x")
    (tmp_path / "d" / "bad").symlink_to(tmp_path / "d" / "ok")
    checked: set[str] = set()
    safe_path(str(tmp_path), "d/ok", checked=checked)
    with pytest.raises(LinkRefused):
        safe_path(str(tmp_path), "d/bad", checked=checked)


def test_link_refused_survives_pickling() -> None:
    copy = pickle.loads(pickle.dumps(LinkRefused("/x/y")))
    assert type(copy) is LinkRefused and copy.path == "/x/y" and str(copy) == str(LinkRefused("/x/y"))


def test_missing_parents_mean_a_missing_file(tmp_path: Path) -> None:
    assert stat_checked(tmp_path, "no/such/file", "w", set()) is None
    assert read_checked(tmp_path, "no/such/file", "w", set()) is None
    assert read_checked(tmp_path, "absent", "w", set()) is None


def test_read_checked_returns_bytes_and_mode(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    target = tmp_path / "d" / "run.sh"
    target.write_bytes(b"#!/bin/sh\n")
    target.chmod(0o755)
    data, mode = read_checked(tmp_path, "d/run.sh", "w", set()) or (b"", 0)
    assert data == b"#!/bin/sh\n" and mode & 0o777 == 0o755
    assert is_executable(target)
    target.chmod(0o644)
    assert not is_executable(target)
    assert stat_checked(tmp_path, "d/run.sh", "w", set(), validated=True) is not None


def test_read_checked_refuses_a_directory_and_a_bad_path(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(UserError) as raised:
        read_checked(tmp_path, "d", "w", set())
    assert str(raised.value) == (f"{tmp_path / 'd'}: is not a regular file; move it away so mlops-gen can write its "
                                 "file there")
    with pytest.raises(UserError, match="is absolute"):
        read_checked(tmp_path, "/d", "w", set())


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 3 * (1 << 20) + 7])
def test_read_fd_reads_the_whole_file(tmp_path: Path, size: int) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "f").write_bytes(data)
    assert paths._read_fd(str(tmp_path / "f"), size) == data


def test_read_fd_reads_a_file_that_grew_since_its_stat(tmp_path: Path) -> None:
    data = b"y" * (3 * (1 << 20) + 5)
    (tmp_path / "f").write_bytes(data)
    assert paths._read_fd(str(tmp_path / "f"), 10) == data  # lstat said 10 bytes; it has more now
    assert paths._read_fd(str(tmp_path / "f"), len(data) - 1) == data


def test_read_fd_does_not_follow_a_link(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x")
    (tmp_path / "l").symlink_to(tmp_path / "f")
    with pytest.raises(OSError):
        paths._read_fd(str(tmp_path / "l"), 1)


def test_read_regular(tmp_path: Path) -> None:
    assert read_regular(tmp_path / "absent") is None
    (tmp_path / "f").write_bytes(b"abc")
    assert read_regular(tmp_path / "f") == b"abc"
    with pytest.raises(UserError, match=r"is not a regular file; move it away so mlops-gen can write its file there$"):
        read_regular(tmp_path)


def test_project_root_is_the_nearest_git_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "specs" / "deep").mkdir(parents=True)
    spec = repo / "specs" / "deep" / "m.yaml"
    spec.write_text("x")
    worktree = tmp_path / "wt"
    (worktree / "s").mkdir(parents=True)
    (worktree / ".git").write_text("gitdir: elsewhere")  # a worktree's .git is a file
    outside = tmp_path / "outside"
    outside.mkdir()
    monkeypatch.chdir(outside)
    paths._repository_of.cache_clear()
    assert project_root(spec) == repo
    assert project_root(repo / "specs") == repo
    assert project_root(repo) == repo
    assert project_root(worktree / "s" / "m.yaml") == worktree
    if paths._repository_of(str(outside)) == "":  # the temporary folder is not inside a repository
        assert project_root(outside / "m.yaml") == Path.cwd()
    assert shown_path(spec) == "specs/deep/m.yaml"
    assert shown_path(repo / "specs") == "specs"
    assert from_shown("specs/deep/m.yaml", repo / "generated") == spec


def test_repository_of_the_filesystem_root_without_git_is_none() -> None:
    paths._repository_of.cache_clear()
    if not os.path.lexists("/.git"):
        assert paths._repository_of("/") == ""


def test_shown_path_outside_the_project_is_the_bare_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "a").mkdir()
    paths._repository_of.cache_clear()
    link = repo / "a" / "out.yaml"
    link.symlink_to(tmp_path / "elsewhere.yaml")  # resolves outside the repository
    assert shown_path(link) == "out.yaml"


def test_a_drive_letter_alone_is_absolute() -> None:
    with pytest.raises(UserError, match="is absolute"):
        validate_relative("C:", "w")


def test_errors_name_where_by_default_output(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^output: path '/x' is absolute"):
        safe_path(str(tmp_path), "/x")
    for call in (read_checked, stat_checked):
        with pytest.raises(UserError, match=r"^manifest: path '/x' is absolute"):
            call(tmp_path, "/x", "manifest", set())


def test_validated_paths_are_not_checked_again(tmp_path: Path) -> None:
    # `validated`: the caller (a parsed manifest) already refused bad paths; "./f" would be refused here otherwise
    (tmp_path / "f").write_bytes(b"data")
    assert read_checked(tmp_path, "./f", "w", set(), validated=True) == (b"data", (tmp_path / "f").stat().st_mode)
    found = stat_checked(tmp_path, "./f", "w", set(), validated=True)
    assert found is not None and found[1].st_size == 4
    with pytest.raises(UserError):
        stat_checked(tmp_path, "./f", "w", set())


def test_safe_target_fills_the_callers_checked_set(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    checked: set[str] = set()
    safe_target(tmp_path, "a/f", checked=checked)
    assert checked == {str(tmp_path), str(tmp_path / "a")}


def test_a_checked_root_does_not_stop_the_walk_below_it(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "link").symlink_to(tmp_path)
    assert safe_path(str(tmp_path), "a/b/c.txt", checked={str(tmp_path)}) == str(tmp_path / "a" / "b" / "c.txt")
    with pytest.raises(LinkRefused):
        safe_path(str(tmp_path), "a/b/link/c.txt", checked={str(tmp_path)})


@pytest.mark.parametrize(("mode", "executable"), [(0o001, True), (0o010, True), (0o100, True), (0o602, False),
                                                  (0o666, False)])
def test_is_executable_means_any_execute_bit(tmp_path: Path, mode: int, executable: bool) -> None:
    target = tmp_path / "f"
    target.write_bytes(b"")
    target.chmod(mode)
    assert is_executable(target) is executable


def test_the_resolved_path_is_what_pathlib_resolves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """shown_path resolves a spec's folder once per run and only the last component per spec (paths._resolved):
    the same answer as Path.resolve for plain files, links (to files and to folders), '..' after a linked folder,
    relative paths and folders."""
    real = tmp_path / "real"
    (real / "deep").mkdir(parents=True)
    (real / "deep" / "m.yaml").write_text("x")
    (tmp_path / "linked").symlink_to(real)
    (real / "alias.yaml").symlink_to(real / "deep" / "m.yaml")
    monkeypatch.chdir(tmp_path)
    paths._resolved_dir.cache_clear()
    for path in (real / "deep" / "m.yaml", tmp_path / "linked" / "deep" / "m.yaml", real / "alias.yaml",
                 tmp_path / "linked" / "deep" / ".." / "alias.yaml", Path("linked/deep/m.yaml"),
                 Path("real/missing.yaml"), Path("linked"), Path("linked/"), tmp_path):
        assert paths._resolved(path) == str(path.resolve()), path
