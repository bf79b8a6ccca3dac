"""`check` and `diff`: what they report, their exit codes, check's fast path, git-applicable diffs, the spec change
summary from git, and the pre-commit hook definition."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_gen.commands.generate import render_all
from mlops_gen.output.manifest import MANIFEST_PATH
from mlops_gen.output.spec_changes import changes
from tests.conftest import ROOT
from tests.test_regeneration import OUT, cli, extra_files, ok, set_gate, tree, work, write_spec

__all__ = ["extra_files", "work"]  # fixtures shared with test_regeneration

FOLDER = f"{OUT}/customer-churn"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    result = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd,
                            env=env, capture_output=True, text=True, check=True)
    return result.stdout


# ----- check -----

def test_check_needs_a_generate_first(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1
    assert f"{FOLDER}/.gitattributes: missing (not generated yet)" in output
    assert "to fix: mlops-gen generate spec.yaml -o out" in output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert "up to date" in ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_fast_check_imports_neither_jinja2_nor_pydantic(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    probe = ("import sys\nfrom mlops_gen.cli import run\ncode = run(['check', 'spec.yaml', '-o', 'out'])\n"
             "print('RESULT', code, 'jinja2' in sys.modules, 'pydantic' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=work, capture_output=True, text=True, check=False)
    assert "RESULT 0 False False" in result.stdout, result.stdout + result.stderr
    set_gate(work / "spec.yaml", "accuracy", 0.9)  # inputs changed: the full path renders, and says so
    result = subprocess.run([sys.executable, "-c", probe], cwd=work, capture_output=True, text=True, check=False)
    assert "RESULT 1 True True" in result.stdout, result.stdout + result.stderr


def test_many_folders_are_compared_on_several_processes_with_the_same_verdicts(
        work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """check's fast path splits folders across worker processes when there are many: the plans must be the ones
    a single process makes, hand edits included."""
    from mlops_gen.output import fastpath
    from mlops_gen.output.manifest import all_manifests

    for index in range(4):
        write_spec(work / "specs", name=f"m{index}.yaml", model={"name": f"model-{index}", "task": "classification",
                                                                 "owners": ["ml@example.com"]})
    ok(capsys, "generate", "specs", "-o", OUT)
    (work / OUT / "model-2" / "src" / "training" / "train.py").write_text("# edited\n", encoding="utf-8")
    folders = all_manifests(work / OUT)
    monkeypatch.setattr(fastpath, "FOLDERS_PER_WORKER", 1)
    parallel = fastpath.verified(folders, jobs=2)
    serial = fastpath.verified(folders, jobs=1)
    assert [(p.root, p.all_changes()) for p in parallel] == [(p.root, p.changes) for p in serial]
    assert [p.count("unchanged") for p in parallel] == [p.count("unchanged") for p in serial]
    assert [p.differences for p in parallel] == [p.differences for p in serial]
    edited = [c.path for p in parallel for c in p.changes if c.reason == "hand-edited"]
    assert edited == ["src/training/train.py"]
    assert sum(p.size for p in parallel) == sum(len(m.files) for _, m in folders)


def test_a_spec_change_is_reported_stale(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    before = {path: f.data for path, f in render_all(["spec.yaml"])[0][1].items()}
    set_gate(spec, "accuracy", 0.91)
    after = {path: f.data for path, f in render_all(["spec.yaml"])[0][1].items()}
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1
    for path in sorted(p for p in after if after[p] != before.get(p)):
        assert f"{FOLDER}/{path}: stale" in output
    if after == before:  # no template shows this gate yet: the manifest still records the old spec
        assert f"{FOLDER}/{MANIFEST_PATH}: stale" in output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_stale_and_hand_edited_are_told_apart(work: Path, extra_files: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    set_gate(spec, "accuracy", 0.9)
    with (work / FOLDER / "extra/bin/run.sh").open("a") as stream:
        stream.write("echo extra\n")
    code, output = cli(capsys, "check", "spec.yaml", *args)
    assert code == 1
    assert f"{FOLDER}/extra/gates.txt: stale" in output
    assert f"{FOLDER}/extra/bin/run.sh: hand-edited" in output
    assert "to fix: mlops-gen generate spec.yaml -o out --override-dir overrides" in output
    assert "generate overwrites hand edits" in output


def test_a_spec_edit_that_changes_no_output_still_needs_generate(work: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    spec.write_text(spec.read_text() + "# a comment changes the spec's hash, maybe nothing else\n")
    assert cli(capsys, "check", "spec.yaml", "-o", OUT)[0] == 1
    assert cli(capsys, "diff", "spec.yaml", "-o", OUT)[0] == 1
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_a_changed_generator_is_caught_even_with_the_same_version(work: Path, capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    import mlops_gen.commands.generate as generate_module
    import mlops_gen.output.fastpath as fastpath_module

    for module in (fastpath_module, generate_module):
        monkeypatch.setattr(module, "generator_fingerprint", lambda: "sha256:" + "1" * 64)
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1 and "the generator's code changed" in output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    ok(capsys, "check", "spec.yaml", "-o", OUT)


def test_a_corrupt_manifest_is_a_clear_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    (work / FOLDER / MANIFEST_PATH).write_text("{not json")
    for command in ("check", "diff", "generate"):
        code, output = cli(capsys, command, "spec.yaml", "-o", OUT)
        assert code == 2 and "invalid manifest" in output, (command, output)


def test_a_renamed_spec_file_is_checked_in_full(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    (work / "spec.yaml").rename(work / "renamed.yaml")  # headers name the spec: a rename changes the output
    code, output = cli(capsys, "check", "renamed.yaml", "-o", OUT)
    assert code == 1 and "stale" in output


# ----- diff -----

def test_diff_is_empty_and_exits_0_when_up_to_date(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert ok(capsys, "diff", "spec.yaml", "-o", OUT) == ""
    assert ok(capsys, "diff", "--stat", "spec.yaml", "-o", OUT) == ""


def test_diff_after_a_threshold_change_shows_old_and_new_lines(work: Path, extra_files: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    before = tree(work / OUT)
    set_gate(spec, "accuracy", 0.9)
    code, output = cli(capsys, "diff", "spec.yaml", *args)
    assert code == 1
    lines = output.splitlines()
    assert "diff --git a/customer-churn/extra/gates.txt b/customer-churn/extra/gates.txt" in lines
    assert "--- a/customer-churn/extra/gates.txt" in lines and "+++ b/customer-churn/extra/gates.txt" in lines
    assert "-accuracy >= 0.85" in lines and "+accuracy >= 0.9" in lines
    code, output = cli(capsys, "diff", "--stat", "spec.yaml", *args)
    assert code == 1
    assert any(line.startswith(" customer-churn/extra/gates.txt") and "| " in line for line in output.splitlines())
    assert "files changed" in output
    assert tree(work / OUT) == before  # diff writes nothing


def test_diff_shows_every_file_a_threshold_change_touches(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    old = {path: f.text for path, f in render_all(["spec.yaml"])[0][1].items()}
    set_gate(spec, "accuracy", 0.91)
    new = {path: f.text for path, f in render_all(["spec.yaml"])[0][1].items()}
    code, output = cli(capsys, "diff", "spec.yaml", "-o", OUT)
    assert code == 1
    lines = output.splitlines()
    changed = sorted(p for p in new if new[p] != old.get(p))
    for path in changed:
        assert f"diff --git a/customer-churn/{path} b/customer-churn/{path}" in lines
    headers = ("--- a/", "--- /dev/null", "+++ b/", "+++ /dev/null")
    removed = {line[1:] for line in lines if line.startswith("-") and not line.startswith(headers)}
    added = {line[1:] for line in lines if line.startswith("+") and not line.startswith(headers)}
    for path in changed:  # every line the change touched shows up, old and new
        old_lines, new_lines = set(old[path].splitlines()), set(new[path].splitlines())
        assert old_lines - new_lines <= removed
        assert new_lines - old_lines <= added


def test_diff_marks_created_deleted_and_mode_changes_like_git(work: Path, extra_files: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    code, output = cli(capsys, "diff", "spec.yaml", *args)
    assert code == 1 and "new file mode 100755" in output and "--- /dev/null" in output
    ok(capsys, "generate", "spec.yaml", *args)
    (work / FOLDER / "extra/bin/run.sh").chmod(0o644)
    write_spec(work, fairness=None)
    code, output = cli(capsys, "diff", "spec.yaml", *args)
    assert code == 1
    assert "deleted file mode 100644" in output and "+++ /dev/null" in output
    assert "old mode 100644\nnew mode 100755" in output


def test_diff_into_a_reader_that_stops_early_is_not_an_error(work: Path) -> None:
    write_spec(work)  # never generated: the diff creates every file, far more than a pipe buffer holds
    process = subprocess.Popen([sys.executable, "-m", "mlops_gen", "diff", "spec.yaml", "-o", OUT], cwd=work,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline()
    process.stdout.close()  # like `| head -1`
    error = process.stderr.read().decode()
    assert process.wait(timeout=120) == 1
    assert "internal error" not in error and "Traceback" not in error, error


def test_the_diff_applies_with_git_and_leaves_an_up_to_date_tree(work: Path, extra_files: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work)
    args = ("-o", OUT, "--override-dir", "overrides")
    ok(capsys, "generate", "spec.yaml", *args)
    set_gate(spec, "recall", 0.7)
    with (work / FOLDER / ".gitattributes").open("a", newline="") as stream:  # what naive line splitting breaks:
        stream.write("-- dashes\n+++ pluses\nform\x0cfeed and carriage\rreturn\na hand edit without a final newline")
    write_spec(work, fairness=None, quality_gates={"metrics": {"accuracy": {"min": 0.8}}})
    code, patch = cli(capsys, "diff", "spec.yaml", *args)
    assert code == 1 and "\\ No newline at end of file" in patch
    (work / "change.patch").write_text(patch)
    git(work / OUT, "apply", str(work / "change.patch"))
    ok(capsys, "check", "spec.yaml", *args)


# ----- the spec change summary -----

def test_diff_summarizes_the_spec_change_since_the_last_commit(work: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(work / "specs")
    git(work, "init", "-q")
    git(work, "add", "specs/spec.yaml")
    git(work, "commit", "-qm", "spec")
    ok(capsys, "generate", "specs", "-o", OUT)
    assert "# spec change" not in ok(capsys, "diff", "specs", "-o", OUT)
    data = yaml.safe_load(spec.read_text())
    data["quality_gates"]["metrics"]["accuracy"]["min"] = 0.9
    data["rollout"]["increments"] = [10, 25, 50, 75, 100]
    data.pop("fairness")
    spec.write_text(yaml.safe_dump(data, sort_keys=False))
    _, output = cli(capsys, "diff", "specs", "-o", OUT)
    summary = output.splitlines()[0]
    assert summary.startswith("# spec change: specs/spec.yaml since HEAD: ")
    assert "quality_gates.metrics.accuracy.min: 0.85 → 0.9" in summary
    assert "rollout.increments: 75 added" in summary
    assert "fairness: removed" in summary
    git(work, "commit", "-qam", "tighter")
    _, output = cli(capsys, "diff", "specs", "-o", OUT, "--base", "HEAD~1")
    assert "quality_gates.metrics.accuracy.min: 0.85 → 0.9" in output


def test_no_summary_outside_git(work: Path, capsys: pytest.CaptureFixture[str],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    set_gate(spec, "accuracy", 0.9)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(work.parent))  # tmp dirs might sit inside a work tree
    _, output = cli(capsys, "diff", "spec.yaml", "-o", OUT)
    assert "# spec change" not in output
    assert "-accuracy" not in output or "+accuracy" in output


@pytest.mark.parametrize(("old", "new", "expected"), [
    ({"a": {"b": 1}}, {"a": {"b": 2}}, ["a.b: 1 → 2"]),
    ({"a": 1}, {"a": 1, "c": "x"}, ["c: added (x)"]),
    ({"a": 1, "c": [1]}, {"a": 1}, ["c: removed (was [1])"]),
    ({"r": [10, 50, 100]}, {"r": [10, 25, 100]}, ["r: 25 added; 50 removed"]),
    ({"r": [1, 2]}, {"r": [2, 1]}, ["r: reordered"]),
    ({"e": [{"name": "staging", "x": 1}, {"name": "prod", "x": 2}]},
     {"e": [{"name": "staging", "x": 1}, {"name": "prod", "x": 3}, {"name": "dr"}]},
     ["e[prod].x: 2 → 3", "e[dr]: added"]),
    ({"flag": True}, {"flag": False}, ["flag: true → false"]),
    ({"t": 1}, {"t": "1"}, ['t: 1 → "1"']),
    ({"same": [1, {"a": 1}]}, {"same": [1, {"a": 1}]}, []),
])
def test_spec_changes_walks_old_and_new_data(old: object, new: object, expected: list[str]) -> None:
    assert changes(old, new) == expected


# ----- pre-commit -----

def test_pre_commit_hook_runs_check_on_the_specs() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "mlops-gen-check")
    assert hook["entry"].split() == ["mlops-gen", "check"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["args"] == ["specs"]
    assert "specs/" in hook["files"] and "generated/" in hook["files"]
    assert re.search(hook["files"], "mlops-gen.yaml"), "the repository configuration feeds every model"
    assert set(hook) <= {"id", "name", "description", "entry", "language", "files", "pass_filenames", "args",
                         "require_serial", "types_or", "minimum_pre_commit_version"}
    assert json.dumps(hook)  # plain data only


# ----- one verdict wherever it runs (issue 13, item 8) -----

@pytest.mark.parametrize("checkout", [b"\r\n", b"\r\n\xef\xbb\xbf"], ids=["crlf", "crlf-bom"])
def test_a_crlf_checkout_of_the_spec_is_up_to_date(checkout: bytes, work: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Git on Windows checks the spec out with CRLF (and editors add a BOM): same spec, same verdict, same bytes."""
    spec = write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    before = tree(work / OUT)
    ending, bom = checkout[:2], checkout[2:]
    spec.write_bytes(bom + spec.read_bytes().replace(b"\n", ending))
    ok(capsys, "check", "spec.yaml", "-o", OUT)
    assert "0 created, 0 updated" in ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert tree(work / OUT) == before


def test_check_reaches_one_verdict_from_any_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Spec paths are named relative to the repository root, not the working directory."""
    repo = tmp_path / "repo"
    write_spec(repo / "specs", name="churn.yaml")
    git(repo, "init", "-q")
    monkeypatch.chdir(repo)
    ok(capsys, "generate", "specs", "-o", "generated")
    before = tree(repo / "generated")
    for cwd, args in [(repo / "specs", ("churn.yaml", "-o", "../generated")),
                      (repo / "specs", (".", "-o", "../generated")),
                      (tmp_path, ("repo/specs", "-o", "repo/generated")),
                      (repo / "generated", ("../specs/churn.yaml", "-o", "."))]:
        monkeypatch.chdir(cwd)
        output = ok(capsys, "check", *args)
        assert "up to date" in output, (cwd, output)
        assert "0 created, 0 updated" in ok(capsys, "generate", *args), cwd
        assert tree(repo / "generated") == before, cwd
    header = (repo / "generated/customer-churn/Dockerfile").read_text(encoding="utf-8").splitlines()[0]
    assert header == "# Generated by mlops-gen from specs/churn.yaml."


def test_check_reports_a_generated_file_replaced_by_a_symlink_as_a_difference(
        work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Exit 1 naming the file (a difference), not exit 2 (issue 13, item 10); generate still refuses the link."""
    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    victim = work / "victim.txt"
    victim.write_text("precious\n")
    (folder / "Dockerfile").unlink()
    (folder / "Dockerfile").symlink_to(victim)
    for extra in ((), ("-j", "2")):
        code, output = cli(capsys, "check", "spec.yaml", "-o", OUT, *extra)
        assert code == 1, output
        assert f"{OUT}/customer-churn/Dockerfile: replaced by a symbolic link" in output
    set_gate(work / "spec.yaml", "accuracy", 0.9)  # the slow path (render and compare) says the same
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1 and "Dockerfile: replaced by a symbolic link" in output, output
    before = tree(folder)
    code, output = cli(capsys, "generate", "spec.yaml", "-o", OUT)
    assert code == 2 and "symbolic link" in output
    assert tree(folder) == before and victim.read_text() == "precious\n"


@pytest.mark.parametrize("command", ["validate", "generate", "check", "diff"])
def test_a_fifo_spec_is_named_for_what_it_is(command: str, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(work / "spec.yaml")
    code, output = cli(capsys, command, "spec.yaml", *(("-o", OUT) if command != "validate" else ()))
    assert code == 2 and "spec.yaml: not a regular file or directory" in output, output
    assert "no such file" not in output


@pytest.mark.parametrize("exists", [True, False], ids=["claims-a-users-file", "claims-a-missing-file"])
def test_a_manifest_edited_to_claim_an_extra_file_is_reported_and_deletes_nothing(
        exists: bool, work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import hashlib

    write_spec(work)
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    folder = work / OUT / "customer-churn"
    mine = folder / "NOTES.md"
    if exists:
        mine.write_text("my notes\n", encoding="utf-8")
    path = folder / MANIFEST_PATH
    data = json.loads(path.read_text(encoding="utf-8"))
    data["files"]["NOTES.md"] = {"executable": False, "mode": "owned", "target": "docs",
                                 "sha256": hashlib.sha256(b"my notes\n").hexdigest()}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    code, output = cli(capsys, "check", "spec.yaml", "-o", OUT)
    assert code == 1, output
    assert ("NOTES.md" if exists else "manifest.json: stale") in output, output
    ok(capsys, "generate", "spec.yaml", "-o", OUT)
    assert mine.exists() == exists  # a claim in an edited manifest never deletes the user's file
    ok(capsys, "check", "spec.yaml", "-o", OUT)
