"""A monorepo generate of many specs on several cores (mlops_gen/layout/units.loaded_units: each worker validates
and renders its slice; mlops_gen/output/apply_many: workers write the model units side by side) writes the same
bytes as one process, and an invalid spec anywhere still leaves nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.test_regeneration import cli, ok

CONFIG = "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\nlayout: monorepo\n"
SOURCES = ("customer-churn.yaml", "house-prices.yaml", "fraud-minimal.yaml")
MODELS = 12  # with about 11 files each: enough writes that generate forks writers (apply_many.MIN_WRITES_PER_WORKER)


def _repository(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "mlops-gen.yaml").write_text(CONFIG, encoding="utf-8")
    (root / "specs").mkdir()
    for index in range(MODELS):
        data = yaml.safe_load((ROOT / "specs" / SOURCES[index % 3]).read_text(encoding="utf-8"))
        data["model"]["name"] = f"model-{index:02d}"
        (root / "specs" / f"model-{index:02d}.yaml").write_text(yaml.safe_dump(data, sort_keys=False),
                                                                encoding="utf-8")
    return root


def _files(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file() and ".git" not in path.relative_to(root).parts[:1]}


def test_several_cores_write_the_bytes_one_process_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    serial, parallel = _repository(tmp_path / "serial"), tmp_path / "parallel"
    shutil.copytree(serial, parallel)
    monkeypatch.chdir(serial)
    ok(capsys, "generate", "specs", "--jobs", "1")
    monkeypatch.chdir(parallel)
    output = ok(capsys, "generate", "specs", "--jobs", "2")
    assert f"the shared unit and {MODELS} models" in output
    written = _files(parallel)
    assert written == _files(serial)
    assert sum(path.startswith(".github/workflows/mlops-model-") for path in written) >= MODELS
    assert f"{MODELS + 1} units up to date" in ok(capsys, "check", "specs")


def test_an_invalid_spec_in_any_slice_leaves_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = _repository(tmp_path / "repo")
    last = root / "specs" / f"model-{MODELS - 1:02d}.yaml"  # in the last worker's slice
    last.write_text(last.read_text(encoding="utf-8").replace("name: model-11", "name: Model_11"), encoding="utf-8")
    before = _files(root)
    monkeypatch.chdir(root)
    code, output = cli(capsys, "generate", "specs", "--jobs", "2")
    assert code == 2, output
    assert "specs/model-11.yaml:" in output and "model.name" in output
    assert _files(root) == before and not (root / "generated").exists() and not (root / ".github").exists()


def test_two_specs_of_one_model_in_different_slices_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = _repository(tmp_path / "repo")
    last = root / "specs" / f"model-{MODELS - 1:02d}.yaml"
    last.write_text(last.read_text(encoding="utf-8").replace("name: model-11", "name: model-00"), encoding="utf-8")
    monkeypatch.chdir(root)
    code, output = cli(capsys, "generate", "specs", "--jobs", "2")
    assert code == 2, output
    assert "model-00" in output and "specs/model-00.yaml" in output and "specs/model-11.yaml" in output
    assert not (root / "generated").exists()


def test_a_check_on_several_cores_records_every_unit_in_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """check's stat records (mlops_gen/output/stat_cache.py) come back from the worker processes that compared the
    units and are written once, one file for the output directory: every owned file of every unit recorded, and a
    second check finds all of them intact without writing the file again."""
    from mlops_gen.output import stat_cache

    cache = tmp_path / "cache"
    monkeypatch.setenv("MLOPS_GEN_CACHE_DIR", str(cache))
    monkeypatch.setattr(stat_cache, "RACY_MARGIN_NS", 0)  # before the workers fork: they inherit it
    root = _repository(tmp_path / "repo")
    monkeypatch.chdir(root)
    ok(capsys, "generate", "specs", "--jobs", "1")
    assert f"{MODELS + 1} units up to date" in ok(capsys, "check", "specs", "--jobs", "2")
    files = list(cache.rglob("*.json"))
    assert [file.name for file in files] == [stat_cache.RECORDS_FILE]
    folders = json.loads(files[0].read_text(encoding="utf-8"))["folders"]
    manifests = {path.parent.parent.name: json.loads(path.read_text(encoding="utf-8"))
                 for path in (root / "generated").glob("*/.mlops-gen/manifest.json")}
    assert set(folders) == set(manifests) and len(folders) == MODELS + 1
    for name, manifest in manifests.items():
        owned = {path for path, entry in manifest["files"].items() if entry["mode"] == "owned"}
        assert set(folders[name]["files"]) == owned, name
    written = files[0].stat().st_mtime_ns, files[0].stat().st_ino
    assert f"{MODELS + 1} units up to date" in ok(capsys, "check", "specs", "--jobs", "2")
    assert (files[0].stat().st_mtime_ns, files[0].stat().st_ino) == written  # nothing new to record
