"""Which specs need rendering at all: a folder whose manifest records the same spec (path and bytes), generator and
templates as now can only render to the bytes it records, so comparing the disk with the manifest is enough.

Light imports only: an up-to-date `check` never imports pydantic or jinja2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gen import __version__
from mlops_gen.output import stat_cache
from mlops_gen.output.changes import Change, FolderPlan, folder_changes, verify_folder
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_fingerprint
from mlops_gen.output.manifest import MANIFEST_PATH, PER_MODEL, Manifest, all_manifests
from mlops_gen.output.options import shown_overrides
from mlops_gen.output.paths import shown_path
from mlops_gen.parallel import process_pool, workers
from mlops_gen.spec.canonical import canonical_spec_bytes, input_bytes


@dataclass
class Triage:
    fast: dict[Path, FolderPlan] = field(default_factory=dict)  # verified from the manifest, not rendered
    slow: list[Path] = field(default_factory=list)  # to load, validate and render
    known: dict[str, str] = field(default_factory=dict)  # model -> spec path shown, for the fast ones
    manifests: list[tuple[Path, Manifest]] | None = None  # all_manifests(outdir) as read by triage

    def up_to_date(self) -> dict[Path, FolderPlan]:
        return {path: plan for path, plan in self.fast.items()
                if not plan.differences and not plan.manifest_changed}


def manifest_index(outdir: Path, manifests: list[tuple[Path, Manifest]] | None = None
                   ) -> dict[str, list[tuple[Path, Manifest]]]:
    """Manifests of OUTDIR/*/ by the spec path they record; unreadable ones are left to the full path."""
    index: dict[str, list[tuple[Path, Manifest]]] = {}
    for root, manifest in all_manifests(outdir) if manifests is None else manifests:
        index.setdefault(manifest.spec_path, []).append((root, manifest))
    return index


def triage(specs: Sequence[Path], outdir: Path, override_dirs: Sequence[Path], fingerprint: str | None = None,
           jobs: int = 0, config_raw: bytes = b"") -> Triage:
    """`fingerprint`: template_fingerprint(override_dirs), when the caller already computed it for this run;
    `jobs`: worker processes for comparing folders with their manifests (0: one per core for many folders);
    `config_raw`: the repository configuration's bytes, part of every model's inputs."""
    result = Triage(manifests=all_manifests(outdir))
    fingerprint = fingerprint or template_fingerprint(override_dirs)
    overrides = shown_overrides(override_dirs)
    index = manifest_index(outdir, result.manifests)
    matched: list[tuple[Path, Path, Manifest]] = []
    for path in specs:
        shown = shown_path(path)
        try:
            digest = sha256(input_bytes(canonical_spec_bytes(path.read_bytes()), config_raw))  # as SpecFile.inputs
        except OSError:
            result.slow.append(path)  # the loader reports it properly
            continue
        current = (shown, digest, __version__, generator_fingerprint(), fingerprint)
        match = [(root, m) for root, m in index.get(shown, [])
                 if m.complete and not m.edited and m.inputs() == current and m.override_dirs == overrides
                 and m.layout == PER_MODEL]
        if match and match[0][1].model not in result.known:
            root, manifest = match[0]
            matched.append((path, root, manifest))
            result.known[manifest.model] = shown
        else:
            result.slow.append(path)
    for (path, _, _), plan in zip(matched, verified([(root, m) for _, root, m in matched], jobs), strict=True):
        result.fast[path] = plan
    return result


FOLDERS_PER_WORKER = 64  # comparing a folder costs ~1.5 ms; a worker process costs ~30 ms to start

_folders: list[tuple[Path, Manifest, str]] = []  # what forked workers compare, inherited rather than pickled


def _compare_range(start: int, stop: int) -> tuple[list[list[Change]], stat_cache.Pending]:
    """In a worker: only what is not up to date travels back (the parent has the manifests, and sending a record
    of every file costs more than comparing it), with the stat records for the parent to write."""
    changes = [folder_changes(root, manifest, with_unchanged=False, manifest_path=where)
               for root, manifest, where in _folders[start:stop]]
    return changes, stat_cache.take()


def verified(folders: Sequence[tuple[Path, Manifest]], jobs: int = 0,
             manifest_paths: Sequence[str] | None = None) -> list[FolderPlan]:
    """verify_folder of each (root, manifest), in order: on several cores for many folders (reading and hashing
    tens of thousands of files is the whole cost of an up-to-date `check`). `manifest_paths`: each unit's manifest
    path relative to its root, for the monorepo layout's units."""
    where = list(manifest_paths) if manifest_paths is not None else [MANIFEST_PATH] * len(folders)
    units = [(root, manifest, path) for (root, manifest), path in zip(folders, where, strict=True)]
    with stat_cache.deferred() as records:  # one write of the records, not one per folder
        return _verified(units, workers(jobs, len(folders), FOLDERS_PER_WORKER), records)


def _verified(units: list[tuple[Path, Manifest, str]], count: int, records: stat_cache.Pending) -> list[FolderPlan]:
    global _folders
    _folders = units  # before the workers fork
    pool = process_pool(count) if count > 1 else None
    if pool is None:
        _folders = []
        return [verify_folder(root, manifest, manifest_path=path) for root, manifest, path in units]
    try:
        size = -(-len(units) // (count * 2))
        futures = [pool.submit(_compare_range, start, start + size) for start in range(0, len(units), size)]
        changes: list[list[Change]] = []
        for future in futures:
            found, recorded = future.result()
            changes += found
            stat_cache.merge(records, recorded)
        return [verify_folder(root, manifest, found, path)
                for (root, manifest, path), found in zip(units, changes, strict=True)]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _folders = []
