"""What `generate` would do to one model folder, computed read-only: the plan that generate applies, check reports
and diff prints.

Each planned file is compared with the disk and with the previous manifest, so a difference can be told apart as
stale (disk still holds what mlops-gen wrote; the inputs changed), hand-edited (disk differs from what mlops-gen
wrote), missing, or new. Files the previous manifest lists as owned but that are no longer planned are orphans:
deleted only when untouched, otherwise kept and handed over to the user. Every path, including every manifest entry,
goes through `safe_target` here, before anything is written or deleted.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

from mlops_gen.output.fingerprint import sha256
from mlops_gen.output.manifest import (
    MANIFEST_PATH,
    Entry,
    Manifest,
    all_manifests,
    manifest_file,
    read_manifest,
)
from mlops_gen.output.paths import (
    LinkRefused,
    from_shown,
    is_executable,
    read_checked,
    read_file,
    read_regular,
    safe_target,
    stat_checked,
    validate_relative,
)
from mlops_gen.output.stat_cache import FolderCache

Action = Literal["create", "update", "unchanged", "delete", "keep"]

REASONS = {
    "new": "new file",
    "missing": "missing (deleted since it was generated)",
    "stale": "stale (the spec, the repository configuration, the generator or the templates changed)",
    "hand-edited": "hand-edited (differs from what mlops-gen wrote)",
    "unrecorded": "differs, and the manifest does not record mlops-gen writing it",
    "mode": "executable bit differs",
    "orphaned": "orphaned (no longer generated)",
    "edited-orphan": "no longer generated, but edited by hand: kept, and no longer tracked",
    "seeded": "user-owned (seeded: written once, never overwritten)",
    "seeded-orphan": "user-owned (seeded, no longer planned): kept",
    "link": "replaced by a symbolic link (generate never writes through links: remove it, then generate)",
    "same": "up to date",
}


class Rendered(Protocol):
    """What a planned file needs to be written (mlops_gen.render.render.RenderedFile satisfies it)."""

    @property
    def data(self) -> bytes: ...
    @property
    def mode(self) -> str: ...
    @property
    def executable(self) -> bool: ...
    @property
    def target(self) -> str: ...


class Change(NamedTuple):
    """One file's fate. A named tuple rather than a dataclass: a run makes one per generated file (tens of
    thousands for a monorepo), and `check` sends them between processes."""

    path: str  # relative to the model folder, POSIX
    action: Action
    reason: str  # a key of REASONS
    old: bytes | None = None  # on disk now
    new: bytes | None = None  # what generate writes
    executable: bool = False
    was_executable: bool = False

    @property
    def is_difference(self) -> bool:
        """Would generate touch the disk for this file?"""
        return self.action in ("create", "update", "delete")


@dataclass
class FolderPlan:
    root: Path
    spec_path: str
    changes: list[Change] = field(default_factory=list)
    manifest: Manifest | None = None  # what generate writes
    manifest_old: bytes | None = None  # the manifest on disk now
    retired: str = ""  # why the whole folder is no longer generated (its manifest is then deleted)
    renamed_to: str = ""  # retired because its spec now names this model: the user's files belong there now
    manifest_same: bool = False  # known unchanged (check's fast path compares the manifest with itself)
    # check's fast path on worker processes: `changes` then lists only the files that are not up to date, and every
    # other file of `manifest` is unchanged (making 30 000 records of up-to-date files costs more than comparing).
    elided: bool = False

    def all_changes(self) -> list[Change]:
        """Every file's change, the up-to-date ones included."""
        if self.elided and self.manifest is not None:
            return with_unchanged(self.manifest, self.changes)
        return self.changes

    @property
    def size(self) -> int:
        """How many files the plan covers."""
        return len(self.manifest.files) if self.elided and self.manifest is not None else len(self.changes)

    @property
    def manifest_changed(self) -> bool:
        if self.retired:
            return self.manifest_old is not None
        if self.manifest_same:
            return False
        return self.manifest is not None and self.manifest.to_bytes() != self.manifest_old

    @property
    def differences(self) -> list[Change]:
        return [c for c in self.changes if c.is_difference]

    def count(self, action: Action) -> int:
        listed = sum(1 for c in self.changes if c.action == action)
        return listed + (self.size - len(self.changes) if action == "unchanged" else 0)


@dataclass(frozen=True)
class Inputs:
    """Everything the rendered bytes depend on, as recorded in the manifest."""

    model: str
    spec_path: str
    spec_sha256: str
    generator_version: str
    generator_fingerprint: str
    template_fingerprint: str
    override_dirs: tuple[str, ...] = ()


def _replaced_by_link(root: Path, path: str, exc: LinkRefused) -> bool:
    """Whether a refused link is the file at `path` itself (a difference to report), not a directory above it."""
    return os.path.abspath(exc.path) == os.path.abspath(os.path.join(root, *path.split("/")))


def _planned_change(root: Path, path: str, file: Rendered, previous: Entry | None, checked: set[str]) -> Change:
    try:
        found = read_checked(root, path, "output", checked)
    except LinkRefused as exc:
        if not _replaced_by_link(root, path, exc):
            raise
        return Change(path, "update", "link", new=file.data, executable=file.executable)
    old, was_x = (None, False) if found is None else (found[0], bool(found[1] & 0o111))
    data = file.data

    def change(action: Action, reason: str) -> Change:
        return Change(path, action, reason, old=old, new=data, executable=file.executable, was_executable=was_x)

    if old is None:
        return change("create", "missing" if previous else "new")
    if file.mode == "seeded":
        return change("keep", "seeded")
    if old == data:
        return change("unchanged", "same") if was_x == file.executable else change("update", "mode")
    if previous is None or previous.mode != "owned":
        return change("update", "unrecorded")
    return change("update", "stale" if sha256(old) == previous.sha256 else "hand-edited")


def _orphan(root: Path, path: str, entry: Entry, trusted: bool = True) -> list[Change]:
    """An owned file is deleted only when untouched since mlops-gen wrote it; anything else stays, as the user's.
    `trusted`: False when the manifest was edited by hand: what it claims is never deleted."""
    target = safe_target(root, path, str(manifest_file(root)))
    old = read_regular(target)
    if old is None:
        return []  # already gone: just forget it
    was_x = is_executable(target)
    if entry.mode == "seeded":
        return [Change(path, "keep", "seeded-orphan", old=old, was_executable=was_x)]
    if sha256(old) == entry.sha256 and trusted:
        return [Change(path, "delete", "orphaned", old=old, was_executable=was_x)]
    return [Change(path, "keep", "edited-orphan", old=old, was_executable=was_x)]


def plan_retirement(root: Path, manifest: Manifest, reason: str) -> FolderPlan:
    """A model folder no spec generates any more: its untouched owned files and its manifest go."""
    plan = FolderPlan(root=root, spec_path=manifest.spec_path, manifest=manifest,
                      manifest_old=read_regular(manifest_file(root)), retired=reason)
    for path, entry in sorted(manifest.files.items()):
        plan.changes.extend(_orphan(root, path, entry, trusted=not manifest.edited))
    return plan


def retired_folders(outdir: Path, current: Mapping[str, str], scanned_dirs: Collection[str],
                    manifests: Sequence[tuple[Path, Manifest]] | None = None) -> list[FolderPlan]:
    """Folders whose manifest names a spec that now defines another model, or a spec that was deleted from a
    directory being rendered; `current` maps each rendered spec's shown path to its model. `manifests`: the result
    of all_manifests(outdir) when the caller already read it in this run (under the same lock, before any write)."""
    plans = []
    models = set(current.values())
    for root, manifest in all_manifests(outdir) if manifests is None else manifests:
        if manifest.model in models:
            continue  # some spec still generates this folder
        spec = manifest.spec_path
        scanned = [d for d in scanned_dirs if d == "." or spec.startswith(f"{d}/")]
        if spec in current:
            plan = plan_retirement(root, manifest, f"{spec} now defines model {current[spec]!r}")
            plan.renamed_to = current[spec]
        elif scanned and not from_shown(spec, outdir).exists():
            plan = plan_retirement(root, manifest, f"{spec} no longer exists")
            plan.spec_path = scanned[0]  # what to generate to clean it up
        else:
            continue
        plans.append(plan)
    return plans


def plan_folder(root: Path, files: Mapping[str, Rendered], inputs: Inputs,
                selected_targets: Collection[str] | None = None) -> FolderPlan:
    """The changes generate would make in `root`; `selected_targets` limits orphan handling to a --target subset."""
    fresh = not os.path.lexists(root)  # a new model folder: nothing on disk to read or compare
    previous = None if fresh else read_manifest(root)  # validated: a bad entry raises here, before any change
    raw_manifest = None if fresh else read_regular(manifest_file(root))
    plan = FolderPlan(root=root, spec_path=inputs.spec_path, manifest_old=raw_manifest)
    entries: dict[str, Entry] = {}
    old_files = previous.files if previous else {}
    checked: set[str] = set()  # directories of this folder found to be real directories
    for path, file in files.items():
        if path == MANIFEST_PATH:
            raise RuntimeError(f"a planner targets {MANIFEST_PATH}, which mlops-gen reserves for itself")
        if fresh:
            validate_relative(path, "output")
            change = Change(path, "create", "new", new=file.data, executable=file.executable)
        else:
            change = _planned_change(root, path, file, old_files.get(path), checked)
        plan.changes.append(change)
        entries[path] = Entry(mode=file.mode, target=file.target, executable=file.executable,
                              sha256=sha256(change.new) if change.new is not None and file.mode == "owned" else None)
    for path, entry in old_files.items():
        if path in files:
            continue
        if selected_targets is not None and entry.target not in selected_targets:
            entries[path] = entry  # another target's file: this partial run leaves it alone
            continue
        plan.changes.extend(_orphan(root, path, entry, trusted=previous is None or not previous.edited))
    current = (inputs.spec_path, inputs.spec_sha256, inputs.generator_version, inputs.generator_fingerprint,
               inputs.template_fingerprint)
    complete = selected_targets is None or (previous is not None and previous.complete
                                            and previous.inputs() == current)
    plan.manifest = Manifest(model=inputs.model, spec_path=inputs.spec_path, spec_sha256=inputs.spec_sha256,
                             generator_version=inputs.generator_version,
                             generator_fingerprint=inputs.generator_fingerprint,
                             template_fingerprint=inputs.template_fingerprint,
                             override_dirs=inputs.override_dirs, complete=complete, files=entries)
    plan.changes.sort(key=lambda c: c.path)
    return plan


def verify_folder(root: Path, manifest: Manifest, elided: list[Change] | None = None) -> FolderPlan:
    """The fast path of `check`: the inputs equal the manifest's, so only compare the disk with the manifest.

    `elided`: folder_changes(root, manifest, with_unchanged=False), when a worker process computed it.
    """
    return FolderPlan(root=root, spec_path=manifest.spec_path, manifest=manifest, manifest_old=None,
                      manifest_same=True,  # the manifest on disk is `manifest`: nothing to re-serialise
                      changes=folder_changes(root, manifest) if elided is None else elided,
                      elided=elided is not None)


def folder_changes(root: Path, manifest: Manifest, with_unchanged: bool = True) -> list[Change]:
    """Each file the manifest lists, compared with the disk (read-only); without the up-to-date ones if asked
    (see with_unchanged)."""
    where = str(root / MANIFEST_PATH)  # only names the manifest in messages
    changes = []
    checked: set[str] = set()  # directories of this folder already lstat()ed: each is checked once, not per file
    cache = FolderCache(root)
    for path, entry in sorted(manifest.files.items()):
        try:
            found = stat_checked(root, path, where, checked, validated=True)  # parse_manifest validated every path
        except LinkRefused as exc:
            if not _replaced_by_link(root, path, exc):
                raise
            changes.append(Change(path, "update", "link", executable=entry.executable))
            continue
        if found is None:
            changes.append(Change(path, "create", "missing"))
            continue
        file, info = found
        was_x = bool(info.st_mode & 0o111)
        if entry.mode == "seeded":  # the user's: only whether it is there, never its bytes
            changes.append(Change(path, "keep", "seeded", was_executable=was_x))
            continue
        assert entry.sha256 is not None  # owned entries carry it (parse_manifest)
        if was_x == entry.executable and cache.intact(path, info, entry.sha256):
            if with_unchanged:
                changes.append(unchanged(path, entry))
            continue
        old = read_file(file, info)
        # `old` is kept only for differences: a folder's plan outlives the loop, and up-to-date bytes are never shown
        if sha256(old) != entry.sha256:
            changes.append(Change(path, "update", "hand-edited", old=old, was_executable=was_x,
                                  executable=entry.executable))
        elif was_x != entry.executable:
            changes.append(Change(path, "update", "mode", old=old, was_executable=was_x,
                                  executable=entry.executable))
        else:
            cache.found_intact(path, info, entry.sha256)
            if with_unchanged:
                changes.append(unchanged(path, entry))
    cache.save()
    return changes


def unchanged(path: str, entry: Entry) -> Change:
    return Change(path, "unchanged", "same", was_executable=entry.executable, executable=entry.executable)


def with_unchanged(manifest: Manifest, changes: list[Change]) -> list[Change]:
    """folder_changes(..., with_unchanged=False) completed: every listed file it left out is up to date."""
    found = {change.path: change for change in changes}
    return [found.get(path) or unchanged(path, entry) for path, entry in sorted(manifest.files.items())]
