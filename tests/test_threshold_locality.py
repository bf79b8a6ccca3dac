"""Changing one threshold in a spec changes only the lines that carry it, on both platforms.

A copy of customer-churn.yaml with `quality_gates.metrics.accuracy.min` raised from 0.85 to 0.9 is rendered next
to the original, from the same relative path so the headers name the same spec. Every changed line must be a
one-for-one replacement that is one of:
  - the threshold: the old line with "0.85" replaced by "0.9" (YAML, shell, README table and diagram);
  - the spec hash: the old line with the old spec hash replaced by the new one (lineage tags such as
    `--tag spec_hash=...`), since the spec's bytes changed.
Nothing else may move: no reordering, no added or removed lines, no other file touched. In the manifest that
`generate` writes, only the spec's hash and the hashes of the files that changed may differ.
"""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest

from mlops_gen.cli import run
from mlops_gen.commands.generate import render_all
from mlops_gen.render.context import spec_hash
from mlops_gen.render.plan import TARGETS
from tests.conftest import SPECS
from tests.pipeline_calls import AZURE, GITHUB, platform_of

OLD, NEW = "0.85", "0.9"
ORIGINAL = "accuracy: {min: 0.85}"
RAISED = "accuracy: {min: 0.9}"


def _render_from(base: Path, spec_text: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    (base / "specs").mkdir(parents=True)
    (base / "specs" / "customer-churn.yaml").write_text(spec_text, encoding="utf-8")
    shutil.copy(SPECS / "mlops-gen.schema.json", base / "specs")
    monkeypatch.chdir(base)
    _spec_file, files = render_all(["specs/customer-churn.yaml"], TARGETS)[0]
    return {path: rendered.text for path, rendered in files.items()}


def _allowed(old: str, new: str, hashes: tuple[str, str]) -> bool:
    candidates = {old.replace(OLD, NEW), old.replace(hashes[0], hashes[1]),
                  old.replace(OLD, NEW).replace(hashes[0], hashes[1])}
    return new != old and new in candidates


def test_raising_one_gate_changes_only_its_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = (SPECS / "customer-churn.yaml").read_text(encoding="utf-8")
    assert original.count(ORIGINAL) == 1, "the fixture line moved: update this test"
    raised = original.replace(ORIGINAL, RAISED)
    hashes = (spec_hash(original.encode()), spec_hash(raised.encode()))

    before = _render_from(tmp_path / "before", original, monkeypatch)
    after = _render_from(tmp_path / "after", raised, monkeypatch)
    assert sorted(before) == sorted(after), "the set of files changed"

    problems = []
    threshold_changes: dict[str, int] = {}
    for path in sorted(before):
        if before[path] == after[path]:
            continue
        old_lines, new_lines = before[path].splitlines(), after[path].splitlines()
        matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal":
                continue
            if tag != "replace" or i2 - i1 != j2 - j1:
                problems.append(f"{path}: {tag} of lines {i1 + 1}-{i2} -> {j1 + 1}-{j2}")
                continue
            for old, new in zip(old_lines[i1:i2], new_lines[j1:j2], strict=True):
                if not _allowed(old, new, hashes):
                    problems.append(f"{path}:{i1 + 1}: {old.strip()!r} -> {new.strip()!r}")
                elif OLD in old:
                    threshold_changes[path] = threshold_changes.get(path, 0) + 1
    assert not problems, "lines changed that do not carry the threshold:\n" + "\n".join(problems)

    changed_platforms = {platform_of(path) for path in threshold_changes}
    assert AZURE in changed_platforms, f"the Azure DevOps pipelines do not carry the gate: {threshold_changes}"
    assert GITHUB in changed_platforms, f"the GitHub workflows do not carry the gate: {threshold_changes}"
    assert "README.md" in threshold_changes, "the README's threshold table does not show the gate"


def test_manifest_changes_only_in_hashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = (SPECS / "customer-churn.yaml").read_text(encoding="utf-8")
    manifests = []
    for name, text in (("before", original), ("after", original.replace(ORIGINAL, RAISED))):
        files = _render_from(tmp_path / name, text, monkeypatch)
        assert run(["generate", "specs/customer-churn.yaml", "-o", "out"]) == 0
        manifest = json.loads((tmp_path / name / "out/customer-churn/.mlops-gen/manifest.json").read_text())
        manifests.append((files, manifest))
    (old_files, old), (new_files, new) = manifests
    changed = {path for path in old_files if old_files[path] != new_files[path]}
    assert changed, "raising the gate changed no file"
    assert old["files"].keys() == new["files"].keys()
    for path, entry in old["files"].items():
        other = new["files"][path]
        differing = {key for key in entry.keys() | other.keys() if entry.get(key) != other.get(key)}
        assert differing == ({"sha256"} if path in changed else set()), path
    old_top = {key: value for key, value in old.items() if key != "files"}
    new_top = {key: value for key, value in new.items() if key != "files"}
    assert old_top["spec"]["sha256"] != new_top["spec"]["sha256"]
    old_top["spec"].pop("sha256")
    new_top["spec"].pop("sha256")
    # The digest of the files list moves with any file's hash, and only then.
    assert old_top.pop("files_sha256") != new_top.pop("files_sha256")
    assert old_top == new_top
