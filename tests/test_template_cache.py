"""Compiled templates cached between runs (jinja's bytecode cache): same bytes, private folder only."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_gen.cache import CACHE_ENV, private_dir
from mlops_gen.commands.generate import render_all
from mlops_gen.render.environment import compiled_templates
from tests.conftest import SPECS


def rendered_bytes() -> dict[str, bytes]:
    [(_, files)] = render_all([str(SPECS / "customer-churn.yaml")])
    return {path: file.data for path, file in files.items()}


def test_cached_templates_render_the_same_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    first = rendered_bytes()  # compiles, and fills the cache
    cached = sorted((tmp_path / "cache" / "templates").iterdir())
    assert len(cached) > 20 and all(p.name.endswith(".cache") for p in cached)
    second = rendered_bytes()  # loads the compiled code
    assert second == first
    (tmp_path / "a-file").write_text("not a folder\n", encoding="utf-8")
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "a-file"))  # the cache folder cannot be made, even by root
    assert compiled_templates() is None
    assert rendered_bytes() == first  # no cache, same output


def test_a_cache_folder_others_can_write_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    assert private_dir(shared) is None
    shared.chmod(0o700)
    assert private_dir(shared) == shared
    link = tmp_path / "link"
    link.symlink_to(shared)
    assert private_dir(link) is None  # a link could be swapped for someone else's folder


def test_a_new_cache_folder_is_private(tmp_path: Path) -> None:
    created = private_dir(tmp_path / "a" / "b")
    assert created is not None and created.stat().st_mode & 0o777 == 0o700 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
