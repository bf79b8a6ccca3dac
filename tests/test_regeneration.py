"""Safe regeneration: the manifest, only-changed atomic writes, orphan cleanup, ownership, overrides, the lock and
path safety.

The set of generated files grows as templates are added, so no test relies on a fixed file list: expectations are
computed from the planner (`plan`) or from the manifest. Where a path needs files that real planners may not
produce (a seeded file, a file only one section produces), the `extra_files` fixture adds a small test planner
whose templates live in an --override-dir.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.cli import run
from mlops_gen.output.lock import output_lock
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.paths import shown_path
from mlops_gen.render import plan as plan_module
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.validate import load_spec
from tests.conftest import ROOT, SPECS

OUT = "out"
FOLDER_NAME = f"{OUT}/customer-churn"


# ----- helpers shared with tests/test_check_diff.py -----

def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run mlops-gen in this process (so monkeypatched planners apply); exit code and stdout+stderr."""
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run mlops-gen in this process and require exit 0; its output."""
    code, output = cli(capsys, *args)
    assert code == 0, f"mlops-gen {' '.join(args)}: exit {code}\n{output}"
    return output


def write_spec(folder: Path, source: str = "customer-churn.yaml", name: str = "spec.yaml", **edits: object) -> Path:
    """Copy an example spec into `folder`, applying top-level `edits` (None removes the key)."""
    data = yaml.safe_load((SPECS / source).read_text(encoding="utf-8"))
    for key, value in edits.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def set_gate(spec: Path, metric: str, minimum: float) -> None:
    data = yaml.safe_load(spec.read_text(encoding="utf-8"))
    data["quality_gates"]["metrics"][metric]["min"] = minimum
    spec.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def manifest(model_dir: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((model_dir / MANIFEST_PATH).read_text(encoding="utf-8"))


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under `root` with its bytes (symlinks recorded by target)."""
    found: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[path.relative_to(root).as_posix()] = b"-> " + os.readlink(path).encode()
        elif path.is_file():
            found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def planned(spec: Path) -> dict[str, OutputFile]:
    return {f.path: f for f in plan_module.plan(load_spec(spec).spec)}


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch repository as working directory, so spec paths in headers and manifests are relative."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


EXTRA_TEMPLATES = {
    "regen-test/gates.txt.j2": "{% for gate in gates %}{{ gate.metric }} >= {{ gate.min | number }}\n{% endfor %}",
    "regen-test/fairness.txt.j2": "fairness threshold {{ fairness.threshold | number }}\n",
    "regen-test/seed.txt.j2": "starter content for {{ model.name }}\n",
    "regen-test/run.sh.j2": "#!/usr/bin/env bash\nset -euo pipefail\necho {{ model.name | sh }}\n",
}


@pytest.fixture
def extra_files(work: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test planner added to the docs target: a gates file, a file only `fairness` produces, a seeded file and
    an executable script. Returns the override directory holding its templates (pass it as --override-dir)."""
    overrides = work / "overrides"
    for relative, text in EXTRA_TEMPLATES.items():
        (overrides / relative).parent.mkdir(parents=True, exist_ok=True)
        (overrides / relative).write_text(text, encoding="utf-8")
    original = plan_module._planners

    def planners() -> dict[str, plan_module.Planner]:
        table = dict(original())
        docs = table["docs"]

        def docs_and_extra(spec):  # type: ignore[no-untyped-def]
            files = [*docs(spec),
                     OutputFile("extra/gates.txt", "regen-test/gates.txt.j2", "docs"),
                     OutputFile("extra/seeded.txt", "regen-test/seed.txt.j2", "docs", mode="seeded"),
                     OutputFile("extra/bin/run.sh", "regen-test/run.sh.j2", "docs", executable=True)]
            if spec.fairness is not None and spec.fairness.enabled:
                files.append(OutputFile("extra/fairness/only/report.txt", "regen-test/fairness.txt.j2", "docs"))
            return files

        table["docs"] = docs_and_extra
        return table

    monkeypatch.setattr(plan_module, "_planners", planners)
    return overrides


# ----- the manifest -----

def test_generate_writes_a_deterministic_manifest_listing_every_file(work: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work / "specs")
    ok(capsys, "generate", "specs/spec.yaml", "-o", OUT)
    (work / OUT).rename(work / "again")  # the same -o again: the README's commands name the output directory
    ok(capsys, "generate", "specs/spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    data = manifest(folder)
    raw = (folder / MANIFEST_PATH).read_bytes()
    assert raw == (work / "again" / "customer-churn" / MANIFEST_PATH).read_bytes()
    assert raw == (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()
    assert data["spec"]["path"] == "specs/spec.yaml"
    assert data["model"] == "customer-churn"
    assert data["generator"]["version"]
    assert data["templates"]["fingerprint"].startswith("sha256:")
    assert str(work) not in raw.decode()  # no absolute paths
    expected = planned(spec)
    assert set(data["files"]) == set(expected)
    on_disk = {p for p in tree(folder) if not p.startswith(".mlops-gen/")}
    assert on_disk == set(expected)
    import hashlib

    for path, entry in data["files"].items():
        assert entry["mode"] == expected[path].mode
        assert entry["executable"] == expected[path].executable
        if entry["mode"] == "owned":
            assert entry["sha256"] == hashlib.sha256((folder / path).read_bytes()).hexdigest()


def test_gitattributes_marks_every_owned_file_and_only_those(work: Path, extra_files: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT, "--override-dir", "overrides")
    folder = work / OUT / "customer-churn"
    files = manifest(folder)["files"]
    lines = [line for line in (folder / ".gitattributes").read_text().splitlines() if not line.startswith("#")]
    marked = {re.match(r"/(\S+) linguist-generated=true", line).group(1) for line in lines}  # type: ignore[union-attr]
    owned = {path for path, entry in files.items() if entry["mode"] == "owned"}
    assert marked == owned | {MANIFEST_PATH}
    assert "extra/seeded.txt" not in marked


# ----- only changed bytes, atomically -----

def test_second_generate_changes_nothing_on_disk(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    before = {p: (folder / p).stat().st_ino for p in tree(folder)}
    owned = [p for p, e in manifest(folder)["files"].items() if e["mode"] == "owned"]
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 0
    assert f"0 created, 0 updated, {len(owned)} unchanged, 0 deleted" in output, output
    assert {p: (folder / p).stat().st_ino for p in tree(folder)} == before  # not even rewritten in place
    assert not [p for p in tree(work / OUT) if p.endswith(".tmp")]


def test_a_spec_change_rewrites_only_the_files_whose_bytes_change(work: Path, extra_files: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    folder = work / OUT / "customer-churn"
    before = {p: ((folder / p).stat().st_ino, data) for p, data in tree(folder).items()}
    set_gate(spec, "accuracy", 0.9)
    ok(capsys, "generate", "spec.yaml", *args)
    after = {p: ((folder / p).stat().st_ino, data) for p, data in tree(folder).items()}
    changed = {p for p in after if after[p][1] != before[p][1]}
    assert "extra/gates.txt" in changed
    for path in set(after) - changed:
        assert after[path][0] == before[path][0], f"{path} was rewritten with identical bytes"


def test_parallel_rendering_writes_the_same_bytes(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for source in sorted(SPECS.glob("*.yaml")):
        write_spec(work / "specs", source.name, name=source.name)
    ok(capsys, "generate", "specs", "-o", OUT, "--jobs", "1")
    (work / OUT).rename(work / "serial")  # the same -o for both: the README's commands name it
    ok(capsys, "generate", "specs", "-o", OUT, "--jobs", "2")
    assert tree(work / OUT) == tree(work / "serial")
    ok(capsys, "check", "specs", "-o", OUT)


def test_verbose_lists_every_file_and_dry_run_writes_nothing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT, "--dry-run", "-v")
    assert code == 0
    assert not (work / OUT).exists()
    assert "dry run" in output
    for path in planned(spec):
        assert f"created   {path}" in output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    set_gate(spec, "accuracy", 0.91)
    before = tree(work / OUT)
    ok(capsys, "generate", "spec.yaml", "-o", OUT, "--dry-run")
    assert tree(work / OUT) == before


# ----- hand edits, missing files, user files -----

def test_hand_edits_are_reported_and_repaired(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    good = tree(folder)
    owned = [p for p, e in manifest(folder)["files"].items() if e["mode"] == "owned"]
    assert owned
    for path in owned:
        with (folder / path).open("a") as stream:
            stream.write("# a hurried hand edit\n")
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1
    for path in owned:
        assert f"{OUT}/customer-churn/{path}: hand-edited" in output
    assert "mlops-gen generate spec.yaml -o out" in output
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 0 and f"{len(owned)} updated" in output
    assert tree(folder) == good
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_a_deleted_file_is_missing_and_restored(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    good = tree(folder)
    (folder / ".gitattributes").unlink()
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1 and ".gitattributes: missing" in output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert tree(folder) == good


def test_files_the_user_added_survive_and_are_not_reported(work: Path, extra_files: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT, "--override-dir", "overrides")
    folder = work / OUT / "customer-churn"
    mine = {"NOTES.md": b"mine\n", "extra/fairness/only/mine.txt": b"also mine\n", "extra/local.cfg": b"x=1\n"}
    for path, data in mine.items():
        (folder / path).write_bytes(data)
    ok(capsys, "check", "spec.yaml", "-o", OUT, "--override-dir", "overrides")
    write_spec(work, fairness=None)  # orphans the fairness report, in the same folder as a user file
    code, output = cli(capsys, "generate", str(spec.name), "-o", OUT, "--override-dir", "overrides")
    assert code == 0 and "1 deleted" in output
    assert not (folder / "extra/fairness/only/report.txt").exists()
    for path, data in mine.items():
        assert (folder / path).read_bytes() == data


# ----- orphans -----

def _owned(spec: Path) -> set[str]:
    return {path for path, f in planned(spec).items() if f.mode == "owned"}


@pytest.mark.parametrize("change", [
    pytest.param({"fairness": None}, id="fairness-removed"),
    pytest.param({"platforms": ["github_actions"]}, id="azure-platform-removed"),
    pytest.param({"platforms": ["azure_devops"]}, id="github-platform-removed"),
    pytest.param({"environments": [{"name": "production", "target": "aks", "cluster": "aks-ml-prod",
                                    "namespace": "ml-models", "approval": "required",
                                    "gateway": {"name": "public-gateway"}}]},
                 id="staging-environment-removed"),
])
def test_removing_a_section_deletes_exactly_the_files_only_it_produced(
        work: Path, capsys: pytest.CaptureFixture[str], change: dict[str, object]) -> None:
    spec = write_spec(work)
    before = _owned(spec)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    write_spec(work, **change)
    after = _owned(spec)
    orphans = before - after  # may be empty while the templates for a section are not written yet
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 0 and f"{len(orphans)} deleted" in output, output
    on_disk = {p for p in tree(folder) if not p.startswith(".mlops-gen/")}
    assert on_disk == set(planned(spec))
    assert not on_disk & orphans
    assert set(manifest(folder)["files"]) == set(planned(spec))
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_orphans_are_deleted_with_their_empty_directories(work: Path, extra_files: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    folder = work / OUT / "customer-churn"
    assert (folder / "extra/fairness/only/report.txt").is_file()
    write_spec(work, fairness=None)
    code, output = cli(capsys, "check", "spec.yaml", *args)
    assert code == 1 and "extra/fairness/only/report.txt: orphaned" in output
    code, output = cli(capsys, "generate", "spec.yaml", *args, "-v")
    assert "deleted   extra/fairness/only/report.txt" in output
    assert not (folder / "extra/fairness").exists()
    assert (folder / "extra/gates.txt").is_file()
    ok(capsys, "check", "spec.yaml", *args)


def test_an_edited_orphan_is_kept_and_handed_over(work: Path, extra_files: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    report = work / OUT / "customer-churn/extra/fairness/only/report.txt"
    report.write_text("my own notes now\n")
    write_spec(work, fairness=None)
    code, output = cli(capsys, "generate", "spec.yaml", *args)
    assert code == 0 and "0 deleted" in output and "kept" in output
    assert report.read_text() == "my own notes now\n"
    assert "extra/fairness/only/report.txt" not in manifest(report.parents[3])["files"]
    ok(capsys, "check", "spec.yaml", *args)


def test_a_renamed_model_retires_its_old_folder(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    old = work / OUT / "customer-churn"
    (old / "NOTES.md").write_text("mine\n")
    data = yaml.safe_load(spec.read_text())
    data["model"]["name"] = "churn-v2"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1 and "orphaned model folder" in output and "now defines model 'churn-v2'" in output
    code, output = cli(capsys, "diff", "spec.yaml", "-o", OUT)
    assert code == 1 and "+++ /dev/null" in output
    seeded = {p for p, e in manifest(old)["files"].items() if e["mode"] == "seeded"}
    output = ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert "model folder retired" in output
    assert set(tree(old)) == {"NOTES.md", *seeded}  # generated files and manifest gone; the user's files kept
    assert (work / OUT / "churn-v2" / MANIFEST_PATH).is_file()
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_a_deleted_spec_retires_its_folder_when_its_directory_is_generated(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work / "specs", "customer-churn.yaml", name="churn.yaml")
    write_spec(work / "specs", "house-prices.yaml", name="prices.yaml")
    ok(capsys, "generate", "specs", "-o", OUT)
    seeded = {p for p, e in manifest(work / OUT / "house-prices")["files"].items() if e["mode"] == "seeded"}
    (work / "specs" / "prices.yaml").unlink()
    before = tree(work / OUT)
    ok(capsys, "generate", "specs/churn.yaml", "-o", OUT)  # a single spec says nothing about the others
    assert tree(work / OUT) == before
    code, output = cli(capsys, "check", "specs", "-o", OUT)
    assert code == 1 and "specs/prices.yaml no longer exists" in output
    assert "to fix: mlops-gen generate specs -o out" in output
    ok(capsys, "generate", "specs", "-o", OUT)
    if seeded:  # seeded files belong to the user: only they are left
        assert set(tree(work / OUT / "house-prices")) == seeded
    else:
        assert not (work / OUT / "house-prices").exists()
    ok(capsys, "check", "specs", "-o", OUT)


# ----- seeded files and overrides -----

def test_seeded_files_are_written_once_and_then_belong_to_the_user(work: Path, extra_files: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    seeded = work / OUT / "customer-churn/extra/seeded.txt"
    assert "starter content for customer-churn" in seeded.read_text()
    assert "This file is yours" in seeded.read_text()
    assert manifest(seeded.parents[1])["files"]["extra/seeded.txt"] == {
        "executable": False, "mode": "seeded", "target": "docs"}
    seeded.write_text("edited by its owner\n")
    set_gate(spec, "accuracy", 0.9)  # a spec change regenerates owned files, never the seeded one
    code, output = cli(capsys, "generate", "spec.yaml", *args, "-v")
    assert code == 0 and "kept      extra/seeded.txt" in output
    assert seeded.read_text() == "edited by its owner\n"
    code, output = cli(capsys, "check", "spec.yaml", *args, "-v")
    assert code == 0 and "extra/seeded.txt: user-owned" in output
    seeded.unlink()  # missing seeded files are seeded again
    ok(capsys, "generate", "spec.yaml", *args)
    assert "starter content" in seeded.read_text()


def test_executable_bit_is_written_recorded_and_checked(work: Path, extra_files: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    script = work / OUT / "customer-churn/extra/bin/run.sh"
    assert script.stat().st_mode & 0o777 == 0o755
    assert manifest(script.parents[2])["files"]["extra/bin/run.sh"]["executable"] is True
    script.chmod(0o644)
    code, output = cli(capsys, "check", "spec.yaml", *args)
    assert code == 1 and "extra/bin/run.sh: executable bit differs" in output
    ok(capsys, "generate", "spec.yaml", *args)
    assert script.stat().st_mode & 0o777 == 0o755


# ----- a new model folder is built beside its place and renamed in -----

def test_a_new_folder_is_complete_with_modes_and_leaves_no_temporary_folder(
        work: Path, extra_files: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from mlops_gen.output import writer

    monkeypatch.setattr(writer, "_UMASK", 0o077)  # a strict umask must not decide the modes
    previous = os.umask(0o077)
    try:
        write_spec(work)
        ok(capsys, "generate", "spec.yaml", "-o", OUT, "--override-dir", "overrides")
    finally:
        os.umask(previous)
    folder = work / FOLDER_NAME
    recorded = manifest(folder)["files"]
    assert set(tree(folder)) == {*recorded, MANIFEST_PATH}
    for path, entry in recorded.items():
        assert (folder / path).stat().st_mode & 0o777 == (0o755 if entry["executable"] else 0o644), path
    assert [p.name for p in (work / OUT).iterdir()] == ["customer-churn"]  # nothing hidden left beside it
    assert "1 model folder up to date" in ok(capsys, "check", "spec.yaml", "-o", OUT, "--override-dir", "overrides")


def test_a_temporary_folder_left_by_a_killed_run_is_removed(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    leftover = work / OUT / ".customer-churn.mlops-gen-building-999999"
    (leftover / "src").mkdir(parents=True)
    (leftover / "src" / "half-written.py").write_text("x = ", encoding="utf-8")
    unrelated = [work / OUT / ".notes", work / OUT / ".notes.42.tmp", work / OUT / ".notes.2024.tmp" / "todo.txt",
                 work / OUT / ".x.mlops-gen-building-7"]  # a file named like a leftover: not ours either
    for path in unrelated:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine\n", encoding="utf-8")
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert not leftover.exists()
    assert [path.read_text(encoding="utf-8") for path in unrelated] == ["mine\n"] * len(unrelated)


def test_a_folder_that_appears_before_the_rename_is_written_file_by_file(
        work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """If the model folder turns up between planning and the rename, nothing is lost: the files are written into
    it one by one, the other file stays, and no temporary folder is left."""
    from mlops_gen.output import writer

    real_rename = os.rename

    def someone_creates_the_folder(source: str, target: str) -> None:
        Path(target, "config").mkdir(parents=True)
        Path(target, "NOTES.md").write_text("theirs\n", encoding="utf-8")
        Path(target, "config", "training_config.yaml").write_text("# tuned\n", encoding="utf-8")  # a seeded file
        real_rename(source, target)  # fails: the target is a non-empty directory

    monkeypatch.setattr(writer.os, "rename", someone_creates_the_folder)
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / FOLDER_NAME
    assert (folder / "NOTES.md").read_text(encoding="utf-8") == "theirs\n"
    assert (folder / "config" / "training_config.yaml").read_text(encoding="utf-8") == "# tuned\n"  # kept
    assert set(manifest(folder)["files"]) <= set(tree(folder))
    assert [p.name for p in (work / OUT).iterdir()] == ["customer-churn"]


def many_specs(work: Path, count: int = 6) -> list[Path]:
    """`count` specs of different models in work/specs (enough for worker processes with --jobs 2)."""
    sources = sorted(SPECS.glob("*.yaml"))
    paths = []
    for index in range(count):
        path = write_spec(work / "specs", sources[index % len(sources)].name, name=f"m{index}.yaml")
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data["model"]["name"] = f"model-{index}"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths


@pytest.mark.parametrize("problem", ["invalid", "duplicate"])
def test_new_folders_rendered_while_validating_are_dropped_when_a_spec_fails(
        work: Path, capsys: pytest.CaptureFixture[str], problem: str) -> None:
    """With worker processes, new folders are built hidden while other specs are still being validated: one bad
    spec anywhere, or two specs for one model, and none of them is placed, and none is left behind."""
    paths = many_specs(work)
    last = yaml.safe_load(paths[-1].read_text(encoding="utf-8"))
    if problem == "invalid":
        last["rollout"] = {"strategy": "sideways"}
    else:
        last["model"]["name"] = "model-0"
    paths[-1].write_text(yaml.safe_dump(last, sort_keys=False), encoding="utf-8")
    (work / OUT).mkdir()
    code, output = cli(capsys, "generate", "specs", "-o", OUT, "--jobs", "2")
    assert code == 2 and "m5.yaml" in output, output
    assert list((work / OUT).iterdir()) == []


def test_new_and_existing_folders_in_one_parallel_run(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Existing folders are compared and updated after validation, new ones placed whole; the summary keeps the
    specs' order; the bytes are those of a one-process run."""
    paths = many_specs(work)
    ok(capsys, "generate", "specs/m3.yaml", "specs/m4.yaml", "-o", OUT)
    set_gate(paths[3], "accuracy", 0.91)  # m3 is a customer-churn variant, with an accuracy gate
    output = ok(capsys, "generate", "specs", "-o", OUT, "--jobs", "2", "-v")
    folders = [line.split(":")[0] for line in output.splitlines() if line.startswith(f"{OUT}/")]
    assert folders == [f"{OUT}/model-{index}" for index in range(6)]
    [line] = [line for line in output.splitlines() if line.startswith(f"{OUT}/model-3:")]
    assert re.search(r": 0 created, [1-9][0-9]* updated, [1-9][0-9]* unchanged", line), line
    parallel = {name: tree(work / OUT / name) for name in sorted(p.name for p in (work / OUT).iterdir())}
    assert sorted(parallel) == [f"model-{index}" for index in range(6)]  # nothing hidden left
    assert "6 model folders up to date" in ok(capsys, "check", "specs", "-o", OUT)
    (work / OUT).rename(work / "parallel")  # the same -o for both: the README's commands name it
    ok(capsys, "generate", "specs", "-o", OUT, "--jobs", "1")
    assert parallel == {name: tree(work / OUT / name) for name in parallel}


def test_a_parallel_run_plans_only_existing_folders_again_for_user_files(
        work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The user-file check (commands.generate.check_user_files) runs in the parent after validation: a folder that
    is not there cannot hold a file of the user's, so only the existing folders' specs are planned there again
    (the new folders' plans stayed in the workers that built them). A user's file in an existing folder is still
    found."""
    from mlops_gen.commands import generate as command

    paths = many_specs(work)
    ok(capsys, "generate", "specs/m3.yaml", "-o", OUT)
    planned: list[str] = []
    real = command.planned_files
    parent = os.getpid()

    def counting(spec: Any, targets: Any = None) -> Any:
        if os.getpid() == parent:
            planned.append(spec.model.name)
        return real(spec, targets) if targets is not None else real(spec)

    monkeypatch.setattr(command, "planned_files", counting)
    set_gate(paths[3], "accuracy", 0.91)  # an existing folder to update, beside five new ones
    ok(capsys, "generate", "specs", "-o", OUT, "--jobs", "2")
    assert planned == ["model-3"]
    planned.clear()
    (work / OUT / "model-3" / "extra.txt").write_text("mine\n", encoding="utf-8")
    user_file = next(p for p in sorted((work / OUT / "model-3").rglob("*.py")))
    user_file.write_text("# mine\n", encoding="utf-8")  # a generated path
    relative = user_file.relative_to(work / OUT / "model-3").as_posix()
    manifest_file = work / OUT / "model-3" / ".mlops-gen" / "manifest.json"
    data = json.loads(manifest_file.read_text(encoding="utf-8"))
    del data["files"][relative]  # now a file the manifest does not record: the user's
    manifest_file.write_text(json.dumps(data), encoding="utf-8")
    set_gate(paths[3], "accuracy", 0.93)  # not up to date: validated and written again
    code, output = cli(capsys, "generate", "specs", "-o", OUT, "--jobs", "2")
    assert code == 2 and relative in output and "--adopt" in output, output
    assert "model-3" in planned


def test_an_override_template_is_used_and_recorded(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    overrides = work / "my-templates" / "repo_files"
    overrides.mkdir(parents=True)
    (overrides / "gitattributes.j2").write_text("# ours: {{ generated_paths | length }} generated files\n")
    ok(capsys, "generate", "spec.yaml", "-o", "plain")
    code, _ = cli(capsys, "generate", "spec.yaml", "-o", OUT, "--override-dir", "my-templates")
    assert code == 0
    folder = work / OUT / "customer-churn"
    assert "# ours: " in (folder / ".gitattributes").read_text()
    assert "linguist-generated" not in (folder / ".gitattributes").read_text()
    data, plain = manifest(folder), manifest(work / "plain" / "customer-churn")
    assert data["templates"]["override_dirs"] == ["my-templates"]
    assert data["templates"]["fingerprint"] != plain["templates"]["fingerprint"]
    ok(capsys, "check", "spec.yaml", "-o", OUT, "--override-dir", "my-templates")
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)  # forgetting the override is caught
    assert code == 1 and ".gitattributes: stale" in output
    assert "it was generated with --override-dir my-templates" in output
    (overrides / "gitattributes.j2").write_text("# ours, changed\n")  # so is changing it
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT, "--override-dir", "my-templates")
    assert code == 1 and ".gitattributes: stale" in output


def test_the_documented_stage_script_takeover_works(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/customizing.md: copy the generated script to a path of your own, override its template with a
    delegate; the pipeline's entry point keeps its flags and `check` stays green."""
    doc = (ROOT / "docs" / "customizing.md").read_text(encoding="utf-8")
    delegate = re.search(r"```python\n(\s*# ml/templates/scripts/src/training/train\.py\n.*?)```", doc, re.S)
    assert delegate, "the delegate example is gone from docs/customizing.md"
    code = "\n".join(line[3:] if line.startswith("   ") else line for line in delegate.group(1).splitlines())
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", "plain")
    original = work / "plain/customer-churn/src/training/train.py"
    assert original.is_file()
    template = work / "ml/templates/scripts/src/training/train.py"
    template.parent.mkdir(parents=True)
    template.write_text(code + "\n")
    args = ("-o", OUT, "--override-dir", "ml/templates")
    ok(capsys, "generate", "spec.yaml", *args)
    folder = work / FOLDER_NAME
    (folder / "src/custom").mkdir()
    (folder / "src/custom/training_logic.py").write_bytes(original.read_bytes())
    result = subprocess.run([sys.executable, "src/training/train.py", "--help"], cwd=folder, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "--data-path" in result.stdout and "--output-dir" in result.stdout
    assert "delegates" in (folder / "src/training/train.py").read_text()
    ok(capsys, "check", "spec.yaml", *args)


@pytest.mark.parametrize("template", ["{% if %}\n", "{{ no_such_value }}\n", "{{ 1 / 0 }}\n"],
                         ids=["syntax", "undefined", "raises"])
def test_a_broken_override_template_is_a_user_error(work: Path, capsys: pytest.CaptureFixture[str],
                                                    template: str) -> None:
    write_spec(work)
    write_spec(work, "house-prices.yaml", name="spec2.yaml")
    (work / "mine" / "repo_files").mkdir(parents=True)
    (work / "mine" / "repo_files" / "gitattributes.j2").write_text(template)
    for jobs in ("1", "2"):  # rendered here, and on worker processes
        code, output = cli(capsys, "generate", "spec.yaml", "spec2.yaml", "-o", OUT, "--override-dir", "mine",
                           "--jobs", jobs)
        assert code == 2 and "mine/repo_files/gitattributes.j2:1: " in output, output
        assert "internal error" not in output
        assert not (work / OUT).exists()


def test_missing_override_dir_is_a_usage_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT, "--override-dir", "nope")
    assert code == 2 and "nope" in output
    assert not (work / OUT).exists()


# ----- partial runs, many models, invalid input -----

def test_a_target_subset_leaves_other_targets_files_alone(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    before = tree(folder)
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT, "--target", "docs")
    assert code == 0 and "0 deleted" in output
    assert tree(folder) == before
    set_gate(spec, "accuracy", 0.93)
    ok(capsys, "generate", "spec.yaml", "-o", OUT, "--target", "docs")
    assert manifest(folder)["complete"] is False  # other targets may be stale now: check must render
    assert set(manifest(folder)["files"]) == set(planned(spec))


def test_a_directory_of_specs_renders_every_model(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for source in sorted(SPECS.glob("*.yaml")):
        write_spec(work / "specs", source.name, name=source.name)
    ok(capsys, "generate", "specs", "-o", OUT)
    models = {load_spec(p).spec.model.name for p in (work / "specs").glob("*.yaml")}
    assert {p.name for p in (work / OUT).iterdir()} == models
    ok(capsys, "check", "specs", "-o", OUT)


def test_duplicate_model_names_exit_2_naming_both_files(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work / "specs", name="a.yaml")
    write_spec(work / "specs", name="b.yaml")
    for command in ("generate", "check", "diff"):
        code, output = cli(capsys, command, "specs", "-o", OUT)
        assert code == 2, (command, output)
        assert "specs/a.yaml" in output and "specs/b.yaml" in output
    assert not (work / OUT).exists()


def test_validate_refuses_two_specs_of_one_model_at_the_name_line(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """validate catches what generate refuses (issue 13, item 6), positioned at model.name, not at 1:1."""
    write_spec(work / "specs", name="a.yaml")
    write_spec(work / "specs", name="b.yaml")
    line = next(n for n, text in enumerate((work / "specs/b.yaml").read_text().splitlines(), 1)
                if text.strip().startswith("name: customer-churn"))
    for command in ("validate", "generate"):
        code, output = cli(capsys, command, "specs", *(("-o", OUT) if command == "generate" else ()))
        assert code == 2, output
        assert f"specs/b.yaml:{line}:9: model.name: model 'customer-churn' is also defined in specs/a.yaml" in output


def test_generating_one_spec_never_takes_over_another_specs_folder(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work / "specs", name="a.yaml")
    ok(capsys, "generate", "specs/a.yaml", "-o", OUT)
    write_spec(work / "specs", name="b.yaml")  # a copy whose model name was not changed
    set_gate(work / "specs/b.yaml", "accuracy", 0.9)
    before = tree(work / OUT)
    code, output = cli(capsys, "generate", "specs/b.yaml", "-o", OUT)
    assert code == 2, output
    assert "model.name: model 'customer-churn' is also defined in specs/a.yaml, which generated" in output
    assert tree(work / OUT) == before
    (work / "specs/a.yaml").unlink()  # a renamed spec (git mv) takes its folder over
    ok(capsys, "generate", "specs/b.yaml", "-o", OUT)


def test_an_invalid_spec_writes_nothing(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work / "specs", name="good.yaml")
    write_spec(work / "specs", name="bad.yaml", rollout={"strategy": "sideways"})
    code, output = cli(capsys, "generate", "specs", "-o", OUT)
    assert code == 2 and "bad.yaml" in output
    assert not (work / OUT).exists()
    code, _ = cli(capsys, "generate", "specs", "-o", "deep/er/out")
    assert code == 2 and not (work / "deep").exists()  # no trace, not even the parents of the output dir


# ----- path safety -----

@pytest.mark.parametrize("name", ["../../x", "/etc/x", "a/b", ".."])
def test_a_model_name_that_is_a_path_is_rejected_and_nothing_is_written(
        work: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    data = yaml.safe_load((SPECS / "customer-churn.yaml").read_text(encoding="utf-8"))
    data["model"]["name"] = name
    (work / "spec.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    before = tree(work)  # ../../x from deep/out would land in here
    code, output = cli(capsys, "generate", "spec.yaml", "-o", "deep/out")
    assert code == 2 and "model.name" in output
    assert tree(work) == before and not Path("/etc/x").exists()


def test_a_spec_path_that_collides_with_a_generated_file_is_a_user_error(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    generated = sorted(p for p, f in planned(spec).items() if f.mode == "owned" and re.fullmatch(r"\w[\w./-]*", p))
    data = yaml.safe_load(spec.read_text())
    data["training"]["config"] = generated[0]
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 2 and generated[0] in output and "internal error" not in output
    assert not (work / OUT).exists()


def test_a_manifest_entry_outside_the_folder_is_rejected_before_anything_changes(
        work: Path, extra_files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    folder = work / OUT / "customer-churn"
    (work / OUT / "victim.txt").write_text("not mlops-gen's\n")
    write_spec(work, fairness=None)  # so a run would delete the fairness orphan and rewrite gates.txt
    for bad in ("../victim.txt", "/etc/hostname", "a/../../victim.txt", "./x", "a\\..\\b"):
        data = manifest(folder)
        data["files"][bad] = {"mode": "owned", "target": "docs", "executable": False, "sha256": "0" * 64}
        (folder / MANIFEST_PATH).write_text(json.dumps(data))
        before = tree(work / OUT)
        code, output = cli(capsys, "generate", "spec.yaml", *args)
        assert code == 2, (bad, output)
        assert "invalid manifest" in output and "Nothing was changed" in output
        assert tree(work / OUT) == before
        assert cli(capsys, "check", "spec.yaml", *args)[0] == 2
        del data["files"][bad]
        (folder / MANIFEST_PATH).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def test_a_manifest_entry_through_a_symlink_is_refused(work: Path, extra_files: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    folder = work / OUT / "customer-churn"
    outside = work / "outside"
    (outside / "only").mkdir(parents=True)
    (outside / "only/report.txt").write_bytes((folder / "extra/fairness/only/report.txt").read_bytes())
    import shutil

    shutil.rmtree(folder / "extra/fairness")
    (folder / "extra/fairness").symlink_to(outside)  # the orphan now resolves outside the folder
    write_spec(work, fairness=None)
    before = tree(work)
    code, output = cli(capsys, "generate", "spec.yaml", *args)
    assert code == 2 and "symbolic link" in output
    assert tree(work) == before
    assert (outside / "only/report.txt").exists()


def test_an_unsafe_retired_folder_stops_the_run_before_any_write(work: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    churn = write_spec(work / "specs", "customer-churn.yaml", name="churn.yaml")
    prices = write_spec(work / "specs", "house-prices.yaml", name="prices.yaml")
    ok(capsys, "generate", "specs", "-o", OUT)
    old = work / OUT / "house-prices"
    (work / "outside").mkdir()
    (old / ".gitattributes").unlink()
    (old / ".gitattributes").symlink_to(work / "outside" / "x")  # planted where a retired file was listed
    data = yaml.safe_load(prices.read_text())
    data["model"]["name"] = "prices-v2"  # retires house-prices/
    prices.write_text(yaml.safe_dump(data, sort_keys=False))
    set_gate(churn, "accuracy", 0.93)  # so the other folder would be rewritten
    before = tree(work)
    code, output = cli(capsys, "generate", "specs", "-o", OUT)
    assert code == 2 and "symbolic link" in output
    assert tree(work) == before


def test_symlinked_targets_are_refused(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    victim = work / "victim.txt"
    victim.write_text("precious\n")
    (folder / ".gitattributes").unlink()
    (folder / ".gitattributes").symlink_to(victim)
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 2 and "symbolic link" in output
    assert victim.read_text() == "precious\n"
    # a symlinked model folder is refused too
    (work / "elsewhere").mkdir()
    (work / "linked").mkdir()
    (work / "linked" / "customer-churn").symlink_to(work / "elsewhere")
    code, output = cli(capsys, "generate", "spec.yaml", "-o", "linked")
    assert code == 2 and "symbolic link" in output
    assert not list((work / "elsewhere").iterdir())


def test_output_dir_that_is_a_file_is_a_usage_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    (work / OUT).write_text("a file\n")
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 2 and "is a file" in output


def test_shown_path_matches_the_renderers() -> None:
    from mlops_gen.render.render import shown_path as renderer

    for path in (Path("specs/a.yaml"), Path("/definitely/elsewhere/b.yml"), Path("./c.yaml"), Path.cwd() / "d.yaml"):
        assert shown_path(path) == renderer(path)


# ----- the lock -----

def _generate_process(work: Path, spec: str, out: str = OUT) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "mlops_gen", "generate", spec, "-o", out], cwd=work,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_generate_waits_for_the_lock(work: Path) -> None:
    write_spec(work)
    (work / OUT).mkdir()
    with output_lock(work / OUT):
        process = _generate_process(work, "spec.yaml")
        assert process.stderr is not None
        first = process.stderr.readline()  # blocks until generate reports it is waiting (or exits)
        assert "waiting for another mlops-gen run" in first, first + process.stderr.read()
        assert process.poll() is None
        assert not list((work / OUT).iterdir())  # nothing written while another run holds the lock
    _, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert (work / OUT / "customer-churn" / MANIFEST_PATH).is_file()


def test_concurrent_generate_runs_leave_a_consistent_tree(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # One spec rendered two ways (with and without an override template that changes the README): whichever run
    # finishes last, the tree must be exactly its output, which `check` with the same options accepts. (Two specs
    # of one model are refused: a spec never takes over another spec's folder.)
    write_spec(work)
    override = work / "overrides" / "docs" / "README.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text((ROOT / "templates/docs/README.md.j2").read_text(encoding="utf-8") + "\nOverridden.\n",
                        encoding="utf-8")
    runs = [(), ("--override-dir", "overrides")] * 2
    processes = [subprocess.Popen([sys.executable, "-m", "mlops_gen", "generate", "spec.yaml", "-o", OUT, *extra],
                                  cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for extra in runs]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
    folder = work / OUT / "customer-churn"
    winner = ("--override-dir", "overrides") if manifest(folder)["templates"].get("override_dirs") else ()
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT, *winner)
    assert code == 0, output
    assert ("Overridden." in (folder / "README.md").read_text(encoding="utf-8")) == bool(winner)
    assert not [p for p in tree(work / OUT) if p.endswith(".tmp")]


# ----- a user's file at a newly planned path (issue 13, item 1) -----

def test_a_users_file_at_a_newly_planned_path_stops_generate_and_is_kept(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Adding a platform back plans azure-pipelines/ again: a file the user put there meanwhile is theirs."""
    write_spec(work, platforms=["github_actions"])
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / FOLDER_NAME
    mine = folder / "azure-pipelines" / "training.yml"
    mine.parent.mkdir()
    mine.write_bytes(b"# my own pipeline\n")
    write_spec(work, platforms=["azure_devops", "github_actions"])
    before = tree(folder)
    for dry in ((), ("--dry-run",)):
        code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT, *dry)
        assert code == 2, output
        assert f"{OUT}/customer-churn/azure-pipelines/training.yml" in output
        assert "--adopt" in output and "nothing was written" in output
        assert tree(folder) == before  # nothing written, the user's file intact
    # Handing it over: generate replaces it and tracks it from then on.
    ok(capsys, "generate", "spec.yaml", "-o", OUT, "--adopt", str(mine))
    assert mine.read_bytes() != b"# my own pipeline\n"
    assert "azure-pipelines/training.yml" in manifest(folder)["files"]
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_a_users_k8s_file_is_kept_when_an_environment_becomes_aks(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = yaml.safe_load((SPECS / "customer-churn.yaml").read_text(encoding="utf-8"))
    environments = data["environments"]
    staging = dict(environments[0])
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / FOLDER_NAME
    assert not (folder / "k8s" / "staging").exists()
    mine = folder / "k8s" / "staging" / "deployment.yaml"
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"kind: Deployment # mine\n")
    staging.pop("instance_type", None)  # a managed endpoint's setting: aks does not take it
    aks = {**staging, "target": "aks", "cluster": "aks-ml-dev"}
    write_spec(work, environments=[aks, *environments[1:]])
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 2 and "k8s/staging/deployment.yaml" in output, output
    assert mine.read_bytes() == b"kind: Deployment # mine\n"


def test_a_file_already_holding_the_generated_bytes_is_not_a_conflict(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed before its manifest landed left generated files unrecorded: the next run finishes the job."""
    write_spec(work, platforms=["github_actions"])
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / FOLDER_NAME
    write_spec(work, platforms=["azure_devops", "github_actions"])
    ok(capsys, "generate", "spec.yaml", "-o", "elsewhere")
    written = (work / "elsewhere" / "customer-churn" / "azure-pipelines" / "training.yml").read_bytes()
    (folder / "azure-pipelines").mkdir()
    (folder / "azure-pipelines" / "training.yml").write_bytes(written)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    ok(capsys, "check", "spec.yaml", "-o", OUT)


# ----- the machine's state is not a bug (issue 13, item 2) -----

@pytest.mark.parametrize("code", ["ENOSPC", "EROFS", "EDQUOT", "EACCES"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_a_full_or_read_only_disk_exits_2_naming_the_folder(
        code: str, existing: bool, work: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    from mlops_gen.output import writer

    write_spec(work)
    if existing:
        ok(capsys, "generate", "spec.yaml", "-o", OUT)
        set_gate(work / "spec.yaml", "accuracy", 0.9)
    before = tree(work / OUT)
    number = getattr(errno, code)

    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError(number, os.strerror(number))  # as os.write raises it: no file name

    monkeypatch.setattr(writer, "_write_new", no_room)
    code_, output = cli(capsys, "generate", "spec.yaml", "-o", OUT, "-j", "1")
    assert code_ == 2, output
    assert f"{OUT}/customer-churn: cannot write: {os.strerror(number)}" in output
    assert "internal error" not in output
    assert tree(work / OUT) == before  # no half-written file, no temporary folder


def test_the_model_readmes_commands_name_the_output_directory(work: Path, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    """Following the generated README's regenerate/check commands looks in the folder it was generated into."""
    write_spec(work / "specs", name="churn.yaml")
    ok(capsys, "generate", "specs/churn.yaml", "-o", "deploy/out")
    readme = (work / "deploy/out/customer-churn/README.md").read_text(encoding="utf-8")
    commands = [line.split("#")[0].split() for line in readme.splitlines()
                if line.startswith(("mlops-gen generate ", "mlops-gen check ", "mlops-gen diff "))]
    assert len(commands) == 3, readme
    for words in commands:
        assert words[2:] == ["specs/churn.yaml", "-o", "deploy/out"], words
        assert cli(capsys, *words[1:])[0] == 0, words


def test_a_renamed_model_says_which_of_your_files_to_move(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    old = work / OUT / "customer-churn"
    seeded = sorted(p for p, e in manifest(old)["files"].items() if e["mode"] == "seeded")
    tuned = old / seeded[0]
    tuned.write_bytes(tuned.read_bytes() + b"\n# tuned by me\n")
    data = yaml.safe_load(spec.read_text())
    data["model"]["name"] = "churn-v2"
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    new = work / OUT / "churn-v2"
    for args, stay in ((("--dry-run",), "would stay"), ((), "stay")):
        output = ok(capsys, "generate", "spec.yaml", "-o", OUT, *args)
        assert f"model 'customer-churn' was renamed to 'churn-v2': {len(seeded)} file(s) of yours {stay} in" in output
        for path in seeded:  # each of the user's files, with where it belongs now
            assert f"mv {OUT}/customer-churn/{path} {OUT}/churn-v2/{path}" in output
    assert tuned.read_bytes().endswith(b"# tuned by me\n")  # nothing of the user's moved or overwritten
    assert b"# tuned by me" not in (new / seeded[0]).read_bytes()
