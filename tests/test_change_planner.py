"""The change planner (mlops_gen/output/changes.py) called directly: every verdict `check`, `diff` and `generate`
act on (new, missing, stale, hand-edited, unrecorded, mode, link, orphaned, edited orphan, seeded), the bytes each
change carries, the manifest it plans, and the fast path that compares the disk with the manifest alone.

The CLI tests (test_check_verdicts, test_check_diff, test_regeneration) show the same verdicts end to end; these
pin each rule on its own, on a folder of a few files, so a wrong line in the planner fails a test named after it."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mlops_gen.errors import UserError
from mlops_gen.output.changes import (
    Change,
    FolderPlan,
    Inputs,
    folder_changes,
    plan_folder,
    plan_retirement,
    retired_folders,
    verify_folder,
    with_unchanged,
)
from mlops_gen.output.fingerprint import sha256
from mlops_gen.output.manifest import MANIFEST_PATH, Entry, Manifest, read_manifest
from mlops_gen.output.paths import LinkRefused
from mlops_gen.output.writer import apply_plan


@dataclass(frozen=True)
class File:
    """A rendered file (what RenderedFile gives the planner)."""

    text: str
    mode: str = "owned"
    executable: bool = False
    target: str = "github_actions"

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


INPUTS = Inputs(model="churn", spec_path="specs/churn.yaml", spec_sha256="a" * 64, generator_version="1.0",
                generator_fingerprint="gen", template_fingerprint="tpl")
FILES = {
    "ci.yml": File("on: push\n"),
    "run.sh": File("#!/bin/sh\n", executable=True, target="azure_devops"),
    "config/train.yaml": File("epochs: 3\n", mode="seeded"),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A model folder generated from FILES."""
    folder = tmp_path / "churn"
    apply_plan(plan_folder(folder, FILES, INPUTS))
    return folder


def _verdicts(plan: FolderPlan | list[Change]) -> dict[str, tuple[str, str]]:
    changes = plan.changes if isinstance(plan, FolderPlan) else plan
    return {change.path: (change.action, change.reason) for change in changes}


def _manifest(root: Path) -> Manifest:
    manifest = read_manifest(root)
    assert manifest is not None
    return manifest


# --- Change and FolderPlan ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("action", "touches"), [("create", True), ("update", True), ("delete", True),
                                                 ("unchanged", False), ("keep", False)])
def test_a_difference_is_what_generate_would_write_or_delete(action: str, touches: bool) -> None:
    assert Change("x", action, "same").is_difference is touches  # type: ignore[arg-type]


def _manifest_of(*paths: str) -> Manifest:
    return Manifest(model="churn", spec_path="s.yaml", spec_sha256="a", generator_version="1",
                    template_fingerprint="t", files={p: Entry("owned", "t", False, "b" * 64) for p in paths})


def test_an_elided_plan_counts_the_files_it_left_out_as_unchanged(tmp_path: Path) -> None:
    edited = Change("b", "update", "hand-edited")
    plan = FolderPlan(tmp_path, "s.yaml", changes=[edited], manifest=_manifest_of("a", "b", "c"), elided=True)
    assert plan.size == 3
    assert [(c.path, c.action) for c in plan.all_changes()] == [("a", "unchanged"), ("b", "update"),
                                                                ("c", "unchanged")]
    assert (plan.count("unchanged"), plan.count("update"), plan.count("create")) == (2, 1, 0)
    assert plan.differences == [edited]


def test_a_listed_plan_is_what_it_lists(tmp_path: Path) -> None:
    changes = [Change("a", "unchanged", "same"), Change("b", "create", "new"), Change("c", "delete", "orphaned")]
    plan = FolderPlan(tmp_path, "s.yaml", changes=changes, manifest=_manifest_of("a", "b", "x", "y"))
    assert plan.size == 3  # not elided: the manifest's file count does not matter
    assert plan.all_changes() == changes
    assert (plan.count("unchanged"), plan.count("create"), plan.count("delete")) == (1, 1, 1)
    assert [c.path for c in plan.differences] == ["b", "c"]
    elided_without_manifest = FolderPlan(tmp_path, "s.yaml", changes=changes, elided=True)
    assert elided_without_manifest.all_changes() == changes and elided_without_manifest.size == 3


def test_when_the_manifest_changes(tmp_path: Path) -> None:
    manifest = _manifest_of("a")
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_old=manifest.to_bytes()).manifest_changed is False
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_old=b"{}").manifest_changed is True
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_old=None).manifest_changed is True
    assert FolderPlan(tmp_path, "s", manifest=None, manifest_old=b"{}").manifest_changed is False
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_same=True).manifest_changed is False
    # A retired folder's manifest goes: a change exactly when there is one on disk.
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_old=b"{}", retired="gone").manifest_changed is True
    assert FolderPlan(tmp_path, "s", manifest=manifest, manifest_old=None, retired="gone").manifest_changed is False


# --- plan_folder: a new folder --------------------------------------------------------------------------------

def test_a_new_folder_creates_every_file_and_records_the_owned_ones(tmp_path: Path) -> None:
    plan = plan_folder(tmp_path / "churn", FILES, INPUTS)
    assert plan.changes == [
        Change("ci.yml", "create", "new", new=b"on: push\n"),
        Change("config/train.yaml", "create", "new", new=b"epochs: 3\n"),
        Change("run.sh", "create", "new", new=b"#!/bin/sh\n", executable=True),
    ]  # sorted by path
    assert plan.manifest_old is None and plan.spec_path == "specs/churn.yaml"
    manifest = plan.manifest
    assert manifest is not None
    assert manifest.files == {
        "ci.yml": Entry("owned", "github_actions", False, sha256(b"on: push\n")),
        "config/train.yaml": Entry("seeded", "github_actions", False, None),  # the user's bytes: no digest
        "run.sh": Entry("owned", "azure_devops", True, sha256(b"#!/bin/sh\n")),
    }
    assert (manifest.model, manifest.spec_path, manifest.spec_sha256, manifest.generator_version,
            manifest.generator_fingerprint, manifest.template_fingerprint, manifest.complete) == (
        "churn", "specs/churn.yaml", "a" * 64, "1.0", "gen", "tpl", True)


def test_the_manifest_path_is_reserved(tmp_path: Path, root: Path) -> None:
    for folder in (tmp_path / "fresh", root):
        with pytest.raises(RuntimeError, match="reserves for itself"):
            plan_folder(folder, {**FILES, MANIFEST_PATH: File("{}")}, INPUTS)


def test_a_new_folder_refuses_an_unsafe_path(tmp_path: Path) -> None:
    with pytest.raises(UserError):
        plan_folder(tmp_path / "churn", {"../escape.yml": File("x")}, INPUTS)


# --- plan_folder: regenerating --------------------------------------------------------------------------------

def test_regenerating_unchanged_inputs_changes_nothing(root: Path) -> None:
    plan = plan_folder(root, FILES, INPUTS)
    assert _verdicts(plan) == {"ci.yml": ("unchanged", "same"), "config/train.yaml": ("keep", "seeded"),
                               "run.sh": ("unchanged", "same")}
    assert plan.manifest_changed is False
    unchanged = plan.changes[0]
    assert (unchanged.old, unchanged.new) == (b"on: push\n", b"on: push\n")
    assert plan.changes[2].was_executable is True


def test_new_template_output_on_an_untouched_file_is_stale(root: Path) -> None:
    plan = plan_folder(root, {**FILES, "ci.yml": File("on: pull_request\n")}, INPUTS)
    change = plan.changes[0]
    assert (change.action, change.reason, change.old, change.new) == ("update", "stale", b"on: push\n",
                                                                      b"on: pull_request\n")
    assert plan.manifest_changed is True
    manifest = plan.manifest
    assert manifest is not None and manifest.files["ci.yml"].sha256 == sha256(b"on: pull_request\n")


def test_a_file_edited_by_hand_is_hand_edited_not_stale(root: Path) -> None:
    (root / "ci.yml").write_text("on: [push]  # mine\n", encoding="utf-8")
    assert _verdicts(plan_folder(root, FILES, INPUTS))["ci.yml"] == ("update", "hand-edited")
    assert _verdicts(plan_folder(root, {**FILES, "ci.yml": File("new\n")}, INPUTS))["ci.yml"] == (
        "update", "hand-edited")


def test_a_deleted_file_is_missing_and_a_never_generated_one_new(root: Path) -> None:
    (root / "ci.yml").unlink()
    (root / "config" / "train.yaml").unlink()
    plan = plan_folder(root, {**FILES, "docs/new.md": File("# new\n")}, INPUTS)
    assert _verdicts(plan) == {"ci.yml": ("create", "missing"), "config/train.yaml": ("create", "missing"),
                               "docs/new.md": ("create", "new"), "run.sh": ("unchanged", "same")}
    assert plan.changes[0].old is None and plan.changes[0].new == b"on: push\n"


def test_a_seeded_file_is_kept_whatever_it_holds(root: Path) -> None:
    (root / "config" / "train.yaml").write_text("epochs: 300\n", encoding="utf-8")
    plan = plan_folder(root, {**FILES, "config/train.yaml": File("epochs: 5\n", mode="seeded")}, INPUTS)
    change = plan.changes[1]
    assert (change.action, change.reason, change.old) == ("keep", "seeded", b"epochs: 300\n")


@pytest.mark.parametrize(("path", "executable"), [("ci.yml", True), ("run.sh", False)])
def test_only_the_executable_bit_differs(root: Path, path: str, executable: bool) -> None:
    mode = 0o755 if executable else 0o644
    (root / path).chmod(mode)
    change = next(c for c in plan_folder(root, FILES, INPUTS).changes if c.path == path)
    assert (change.action, change.reason, change.was_executable) == ("update", "mode", executable)


def test_bytes_equal_to_the_plan_but_with_the_wrong_bit_are_a_mode_change_even_when_unrecorded(root: Path) -> None:
    (root / "new.sh").write_bytes(b"echo\n")
    plan = plan_folder(root, {**FILES, "new.sh": File("echo\n", executable=True)}, INPUTS)
    assert _verdicts(plan)["new.sh"] == ("update", "mode")


def test_a_file_the_manifest_does_not_record_is_unrecorded(root: Path) -> None:
    """A user's file where a newly planned file goes (issue 13 item 1): never stale, never silently mlops-gen's."""
    (root / "azure-pipelines").mkdir()
    (root / "azure-pipelines" / "training.yml").write_text("mine\n", encoding="utf-8")
    plan = plan_folder(root, {**FILES, "azure-pipelines/training.yml": File("theirs\n")}, INPUTS)
    change = plan.changes[0]
    assert (change.path, change.action, change.reason, change.old) == (
        "azure-pipelines/training.yml", "update", "unrecorded", b"mine\n")


def test_a_previously_seeded_file_that_becomes_owned_is_unrecorded(root: Path) -> None:
    (root / "config" / "train.yaml").write_text("epochs: 30\n", encoding="utf-8")
    plan = plan_folder(root, {**FILES, "config/train.yaml": File("epochs: 3\n")}, INPUTS)
    assert _verdicts(plan)["config/train.yaml"] == ("update", "unrecorded")


def test_a_file_replaced_by_a_link_is_reported_and_a_linked_folder_refused(root: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.yml").write_text("x\n", encoding="utf-8")
    (root / "ci.yml").unlink()
    (root / "ci.yml").symlink_to(tmp_path / "elsewhere.yml")
    change = plan_folder(root, FILES, INPUTS).changes[0]
    assert (change.action, change.reason, change.new, change.executable) == ("update", "link", b"on: push\n", False)
    # A link in place of a folder above a planned file is not that file's difference: it is refused outright.
    (tmp_path / "real-config").mkdir()
    (root / "config" / "train.yaml").unlink()
    (root / "config").rmdir()
    (root / "config").symlink_to(tmp_path / "real-config")
    with pytest.raises(LinkRefused):
        plan_folder(root, FILES, INPUTS)


# --- orphans ----------------------------------------------------------------------------------------------------

def _without(*paths: str) -> dict[str, File]:
    return {path: file for path, file in FILES.items() if path not in paths}


def test_an_untouched_orphan_is_deleted_and_dropped_from_the_manifest(root: Path) -> None:
    plan = plan_folder(root, _without("run.sh"), INPUTS)
    change = next(c for c in plan.changes if c.path == "run.sh")
    assert (change.action, change.reason, change.old, change.was_executable) == ("delete", "orphaned",
                                                                                b"#!/bin/sh\n", True)
    assert plan.manifest is not None and "run.sh" not in plan.manifest.files


def test_an_edited_orphan_and_a_seeded_one_are_kept(root: Path) -> None:
    (root / "run.sh").write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    plan = plan_folder(root, _without("run.sh", "config/train.yaml"), INPUTS)
    assert _verdicts(plan) == {"ci.yml": ("unchanged", "same"), "config/train.yaml": ("keep", "seeded-orphan"),
                               "run.sh": ("keep", "edited-orphan")}
    kept = {c.path: c for c in plan.changes}
    assert kept["run.sh"].old == b"#!/bin/sh\necho mine\n" and kept["run.sh"].was_executable is True
    assert kept["config/train.yaml"].old == b"epochs: 3\n"


def test_an_orphan_already_gone_is_forgotten(root: Path) -> None:
    (root / "run.sh").unlink()
    assert _verdicts(plan_folder(root, _without("run.sh"), INPUTS)) == {
        "ci.yml": ("unchanged", "same"), "config/train.yaml": ("keep", "seeded")}


def test_a_hand_edited_manifest_never_deletes_what_it_claims(root: Path) -> None:
    """An entry added by hand (its digest matching a user's file) must not get that file deleted."""
    (root / "notes.md").write_text("mine\n", encoding="utf-8")
    manifest_path = root / MANIFEST_PATH
    manifest = _manifest(root)
    claimed = {**manifest.files, "notes.md": Entry("owned", "github_actions", False, sha256(b"mine\n"))}
    text = manifest_path.read_text(encoding="utf-8")
    forged = replace(manifest, files=claimed).to_bytes().decode("utf-8")
    # Keep the old files_sha256, as a hand edit of the file list would.
    old_digest = next(line for line in text.splitlines() if "files_sha256" in line)
    forged = "\n".join(old_digest if "files_sha256" in line else line for line in forged.splitlines()) + "\n"
    manifest_path.write_text(forged, encoding="utf-8")
    assert _manifest(root).edited is True
    plan = plan_folder(root, FILES, INPUTS)
    assert _verdicts(plan)["notes.md"] == ("keep", "edited-orphan")
    retired = plan_retirement(root, _manifest(root), "gone")
    assert "delete" not in {c.action for c in retired.changes}


def test_a_target_subset_leaves_the_other_targets_files_alone(root: Path) -> None:
    github_only = {p: f for p, f in FILES.items() if f.target == "github_actions"}
    plan = plan_folder(root, github_only, INPUTS, selected_targets=["github_actions"])
    assert "run.sh" not in _verdicts(plan)
    assert plan.manifest is not None and plan.manifest.files["run.sh"] == _manifest(root).files["run.sh"]
    assert plan.manifest.complete is True  # same inputs, and the previous run was complete
    plan_all = plan_folder(root, github_only, INPUTS, selected_targets=["github_actions", "azure_devops"])
    assert _verdicts(plan_all)["run.sh"] == ("delete", "orphaned")


def test_a_target_subset_with_new_inputs_marks_the_manifest_incomplete(root: Path) -> None:
    changed = replace(INPUTS, template_fingerprint="tpl2")
    plan = plan_folder(root, FILES, changed, selected_targets=["github_actions"])
    assert plan.manifest is not None and plan.manifest.complete is False
    apply_plan(plan)
    # Once incomplete, a subset run with the same inputs cannot make it complete; a full run does.
    again = plan_folder(root, FILES, changed, selected_targets=["github_actions"])
    assert again.manifest is not None and again.manifest.complete is False
    full = plan_folder(root, FILES, changed)
    assert full.manifest is not None and full.manifest.complete is True


@pytest.mark.parametrize("field", ["spec_path", "spec_sha256", "generator_version", "generator_fingerprint",
                                   "template_fingerprint"])
def test_every_recorded_input_counts_for_completeness(root: Path, field: str) -> None:
    changed = replace(INPUTS, **{field: "other"})
    plan = plan_folder(root, FILES, changed, selected_targets=["github_actions"])
    assert plan.manifest is not None and plan.manifest.complete is False


# --- retirement -----------------------------------------------------------------------------------------------

def test_a_retired_folder_plans_its_untouched_files_away(root: Path) -> None:
    (root / "run.sh").write_text("edited\n", encoding="utf-8")
    plan = plan_retirement(root, _manifest(root), "specs/churn.yaml no longer exists")
    assert _verdicts(plan) == {"ci.yml": ("delete", "orphaned"), "config/train.yaml": ("keep", "seeded-orphan"),
                               "run.sh": ("keep", "edited-orphan")}
    assert (plan.retired, plan.spec_path) == ("specs/churn.yaml no longer exists", "specs/churn.yaml")
    assert plan.manifest_old == (root / MANIFEST_PATH).read_bytes() and plan.manifest_changed is True


def test_retired_folders_finds_renamed_and_deleted_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("generated")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "kept.yaml").write_text("x", encoding="utf-8")
    for model, spec in [("renamed", "specs/renamed.yaml"), ("deleted", "specs/deleted.yaml"),
                        ("outside", "other/outside.yaml"), ("kept", "specs/kept.yaml"), ("alive", "specs/a.yaml")]:
        apply_plan(plan_folder(out / model, {"f.txt": File(model)},
                               replace(INPUTS, model=model, spec_path=spec)))
    current = {"specs/renamed.yaml": "renamed-v2", "specs/a.yaml": "alive"}
    plans = {plan.root.name: plan for plan in retired_folders(out, current, ["specs"])}
    assert sorted(plans) == ["deleted", "renamed"]  # outside: not scanned; kept: its spec still exists
    assert plans["renamed"].retired == "specs/renamed.yaml now defines model 'renamed-v2'"
    assert plans["renamed"].renamed_to == "renamed-v2"
    assert (plans["deleted"].retired, plans["deleted"].spec_path) == ("specs/deleted.yaml no longer exists", "specs")
    assert plans["deleted"].renamed_to == ""
    # "." scans every spec path; a model some spec still generates is never retired.
    everywhere = {plan.root.name for plan in retired_folders(out, current, ["."])}
    assert everywhere == {"deleted", "renamed", "outside"}
    # A scanned folder is a path prefix by whole components: "spec" does not scan specs/.
    assert [plan.root.name for plan in retired_folders(out, current, ["spec"])] == ["renamed"]


# --- the fast path: the disk against the manifest -------------------------------------------------------------

def test_folder_changes_of_an_intact_folder(root: Path) -> None:
    manifest = _manifest(root)
    assert _verdicts(folder_changes(root, manifest)) == {
        "ci.yml": ("unchanged", "same"), "config/train.yaml": ("keep", "seeded"), "run.sh": ("unchanged", "same")}
    assert folder_changes(root, manifest, with_unchanged=False) == [Change("config/train.yaml", "keep", "seeded")]
    executable = {c.path: (c.executable, c.was_executable) for c in folder_changes(root, manifest)}
    assert executable["run.sh"] == (True, True) and executable["ci.yml"] == (False, False)
    # Twice: the second answer comes from the stat cache the first one saved, and must be the same.
    assert folder_changes(root, manifest) == folder_changes(root, manifest)


def test_folder_changes_finds_every_kind_of_difference(root: Path, tmp_path: Path) -> None:
    manifest = _manifest(root)
    (root / "ci.yml").write_text("edited\n", encoding="utf-8")
    (root / "run.sh").chmod(0o644)
    (root / "config" / "train.yaml").write_text("the user's\n", encoding="utf-8")
    changes = {c.path: c for c in folder_changes(root, manifest)}
    assert (changes["ci.yml"].action, changes["ci.yml"].reason, changes["ci.yml"].old) == (
        "update", "hand-edited", b"edited\n")
    assert (changes["run.sh"].reason, changes["run.sh"].was_executable, changes["run.sh"].executable) == (
        "mode", False, True)
    assert changes["run.sh"].old == b"#!/bin/sh\n"
    assert (changes["config/train.yaml"].action, changes["config/train.yaml"].reason) == ("keep", "seeded")
    (root / "ci.yml").unlink()
    (root / "ci.yml").symlink_to(tmp_path)
    (root / "run.sh").unlink()
    assert _verdicts(folder_changes(root, manifest, with_unchanged=False)) == {
        "ci.yml": ("update", "link"), "config/train.yaml": ("keep", "seeded"), "run.sh": ("create", "missing")}


def test_folder_changes_refuses_a_linked_folder(root: Path, tmp_path: Path) -> None:
    manifest = _manifest(root)
    (tmp_path / "real").mkdir()
    (root / "config" / "train.yaml").unlink()
    (root / "config").rmdir()
    (root / "config").symlink_to(tmp_path / "real")
    with pytest.raises(LinkRefused):
        folder_changes(root, manifest)


def test_a_stale_stat_cache_never_hides_an_edit(root: Path) -> None:
    """Same size, same modification time, other bytes: the cache keys on more than that (or re-reads)."""
    manifest = _manifest(root)
    folder_changes(root, manifest)  # fills the cache
    target = root / "ci.yml"
    info = target.stat()
    target.write_bytes(b"on: pish\n")
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert _verdicts(folder_changes(root, manifest))["ci.yml"] == ("update", "hand-edited")


def test_verify_folder_elided_and_listed_agree(root: Path) -> None:
    manifest = _manifest(root)
    (root / "ci.yml").write_text("edited\n", encoding="utf-8")
    listed = verify_folder(root, manifest)
    elided = verify_folder(root, manifest, folder_changes(root, manifest, with_unchanged=False))
    assert listed.all_changes() == elided.all_changes()
    assert (listed.elided, elided.elided, listed.manifest_same, listed.manifest_changed) == (False, True, True, False)
    assert (listed.spec_path, listed.manifest_old) == ("specs/churn.yaml", None)
    assert [c.path for c in elided.changes] == ["ci.yml", "config/train.yaml"]


def test_with_unchanged_completes_a_short_list() -> None:
    manifest = _manifest_of("a", "b")
    manifest.files["x"] = Entry("owned", "t", True, "c" * 64)
    edited = Change("b", "update", "hand-edited")
    assert with_unchanged(manifest, [edited]) == [Change("a", "unchanged", "same"), edited,
                                                  Change("x", "unchanged", "same", executable=True,
                                                         was_executable=True)]


# --- every field of a change, and the loops past their special cases --------------------------------------------

def test_an_unsafe_planned_path_is_refused_naming_the_output(tmp_path: Path, root: Path) -> None:
    for folder in (tmp_path / "fresh", root):
        with pytest.raises(UserError, match=r"^output: path '\.\./escape\.yml' "):
            plan_folder(folder, {"../escape.yml": File("x")}, INPUTS)


def test_planned_changes_carry_both_executable_bits(root: Path, tmp_path: Path) -> None:
    (root / "run.sh").write_text("#!/bin/sh\necho mine\n", encoding="utf-8")  # keeps its executable bit
    (root / "ci.yml").unlink()
    plan = {c.path: c for c in plan_folder(root, FILES, INPUTS).changes}
    assert plan["run.sh"] == Change("run.sh", "update", "hand-edited", old=b"#!/bin/sh\necho mine\n",
                                    new=b"#!/bin/sh\n", executable=True, was_executable=True)
    assert plan["ci.yml"] == Change("ci.yml", "create", "missing", new=b"on: push\n")
    (root / "run.sh").unlink()
    (root / "run.sh").symlink_to(tmp_path)
    link = next(c for c in plan_folder(root, FILES, INPUTS).changes if c.path == "run.sh")
    assert link == Change("run.sh", "update", "link", new=b"#!/bin/sh\n", executable=True)


@pytest.mark.parametrize(("mode", "executable"), [(0o646, False), (0o645, True), (0o744, True)])
def test_only_execute_bits_count_as_executable(root: Path, mode: int, executable: bool) -> None:
    """Write permission for others (0o002) is not an execute bit; execute for others alone (0o001) is one."""
    (root / "ci.yml").chmod(mode)
    planned = next(c for c in plan_folder(root, FILES, INPUTS).changes if c.path == "ci.yml")
    assert (planned.action, planned.was_executable) == (("update", True) if executable else ("unchanged", False))
    found = next(c for c in folder_changes(root, _manifest(root)) if c.path == "ci.yml")
    assert (found.reason, found.was_executable) == (("mode", True) if executable else ("same", False))


def test_folder_changes_carry_both_executable_bits(root: Path, tmp_path: Path) -> None:
    manifest = _manifest(root)
    (root / "run.sh").write_text("edited\n", encoding="utf-8")
    (root / "config" / "train.yaml").chmod(0o755)
    (root / "ci.yml").chmod(0o755)
    changes = {c.path: c for c in folder_changes(root, manifest)}
    assert changes["run.sh"] == Change("run.sh", "update", "hand-edited", old=b"edited\n", executable=True,
                                       was_executable=True)
    assert changes["config/train.yaml"] == Change("config/train.yaml", "keep", "seeded", was_executable=True)
    assert changes["ci.yml"] == Change("ci.yml", "update", "mode", old=b"on: push\n", executable=False,
                                       was_executable=True)
    (root / "run.sh").unlink()
    (root / "run.sh").symlink_to(tmp_path)
    link = next(c for c in folder_changes(root, manifest) if c.path == "run.sh")
    assert link == Change("run.sh", "update", "link", executable=True)


def test_a_seeded_orphan_keeps_its_executable_bit(root: Path) -> None:
    (root / "config" / "train.yaml").chmod(0o755)
    orphan = next(c for c in plan_folder(root, _without("config/train.yaml"), INPUTS).changes
                  if c.path == "config/train.yaml")
    assert orphan == Change("config/train.yaml", "keep", "seeded-orphan", old=b"epochs: 3\n", was_executable=True)


def test_folder_changes_go_on_past_a_missing_file(root: Path) -> None:
    (root / "ci.yml").unlink()  # the first file in order
    (root / "run.sh").write_text("edited\n", encoding="utf-8")
    assert _verdicts(folder_changes(root, _manifest(root), with_unchanged=False)) == {
        "ci.yml": ("create", "missing"), "config/train.yaml": ("keep", "seeded"),
        "run.sh": ("update", "hand-edited")}


def test_the_stat_cache_answers_for_what_it_recorded(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records older than the recording run (by the racy margin) are trusted without reading the file; a change
    after them is still found. The recording run is moved an hour ahead instead of waiting out the margin."""
    from types import SimpleNamespace

    from mlops_gen.output import changes as planner
    from mlops_gen.output import stat_cache

    manifest = _manifest(root)
    an_hour_later = time.time_ns() + 3600 * 10**9
    monkeypatch.setattr(stat_cache, "time", SimpleNamespace(time_ns=lambda: an_hour_later))
    first = folder_changes(root, manifest)  # reads and hashes every owned file, records them
    real_read = planner.read_file
    reads: list[str] = []

    def counting_read(path: str, info: os.stat_result) -> bytes:
        reads.append(os.path.basename(path))
        return real_read(path, info)

    monkeypatch.setattr(planner, "read_file", counting_read)
    assert folder_changes(root, manifest) == first and reads == []  # all from the cache
    assert folder_changes(root, manifest, with_unchanged=False) == [Change("config/train.yaml", "keep", "seeded")]
    (root / "run.sh").write_text("edited later\n", encoding="utf-8")  # a new inode state: the cache is not asked
    (root / "run.sh").chmod(0o755)
    assert _verdicts(folder_changes(root, manifest, with_unchanged=False)) == {
        "config/train.yaml": ("keep", "seeded"), "run.sh": ("update", "hand-edited")}
    assert reads == ["run.sh"]
    # The intact file before it in order was answered by the cache, and the loop went on to run.sh.


def test_a_target_subset_goes_on_past_another_targets_file(tmp_path: Path) -> None:
    files = {"a.sh": File("a\n", target="azure_devops"), "b.yml": File("b\n"), "c.yml": File("c\n")}
    root = tmp_path / "churn"
    apply_plan(plan_folder(root, files, INPUTS))
    plan = plan_folder(root, {"b.yml": files["b.yml"]}, INPUTS, selected_targets=["github_actions"])
    assert _verdicts(plan) == {"b.yml": ("unchanged", "same"), "c.yml": ("delete", "orphaned")}
    assert plan.manifest is not None and sorted(plan.manifest.files) == ["a.sh", "b.yml"]


def test_the_manifest_records_the_template_override_folders(tmp_path: Path) -> None:
    plan = plan_folder(tmp_path / "churn", FILES, replace(INPUTS, override_dirs=("platform/templates",)))
    assert plan.manifest is not None and plan.manifest.override_dirs == ("platform/templates",)


def test_plans_name_their_folder_and_manifest(root: Path) -> None:
    manifest = _manifest(root)
    retired = plan_retirement(root, manifest, "gone")
    assert retired.manifest is manifest and retired.root == root
    verified = verify_folder(root, manifest)
    assert (verified.root, verified.manifest, verified.manifest_old) == (root, manifest, None)


def test_retired_folders_uses_the_manifests_it_is_given(root: Path) -> None:
    """Read once under the output's lock by the caller: the disk is not read again."""
    out = root.parent
    assert retired_folders(out, {}, ["."], manifests=[]) == []
    assert [p.root for p in retired_folders(out, {}, ["."])] == [root]  # specs/churn.yaml does not exist
