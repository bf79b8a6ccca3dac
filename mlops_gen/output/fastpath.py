"""Which specs need rendering at all: a folder whose manifest records the same spec (path and bytes), generator and
templates as now can only render to the bytes it records, so comparing the disk with the manifest is enough.

Light imports only: an up-to-date `check` never imports pydantic or jinja2.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops_gen import __version__
from mlops_gen.output.changes import FolderPlan, verify_folder
from mlops_gen.output.fingerprint import generator_fingerprint, sha256, template_fingerprint
from mlops_gen.output.manifest import Manifest, all_manifests
from mlops_gen.output.options import shown_overrides
from mlops_gen.output.paths import shown_path


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


def triage(specs: Sequence[Path], outdir: Path, override_dirs: Sequence[Path], fingerprint: str | None = None
           ) -> Triage:
    """`fingerprint`: template_fingerprint(override_dirs), when the caller already computed it for this run."""
    result = Triage(manifests=all_manifests(outdir))
    fingerprint = fingerprint or template_fingerprint(override_dirs)
    overrides = shown_overrides(override_dirs)
    index = manifest_index(outdir, result.manifests)
    for path in specs:
        shown = shown_path(path)
        try:
            digest = sha256(path.read_bytes())
        except OSError:
            result.slow.append(path)  # the loader reports it properly
            continue
        current = (shown, digest, __version__, generator_fingerprint(), fingerprint)
        match = [(root, m) for root, m in index.get(shown, [])
                 if m.complete and m.inputs() == current and m.override_dirs == overrides]
        if match and match[0][1].model not in result.known:
            root, manifest = match[0]
            result.fast[path] = verify_folder(root, manifest)
            result.known[manifest.model] = shown
        else:
            result.slow.append(path)
    return result
