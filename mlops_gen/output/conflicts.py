"""Files a user put where generate now plans to write: found before anything is written, never overwritten.

A file in a model folder that the folder's manifest does not record is the user's (mlops-gen records every file
it writes). When a spec change plans a generated file at such a path (a platform added back, an environment that
became `aks`), generate stops and names each one, unless its bytes already equal what would be written (a run
killed before its manifest landed) or the user hands it over with `--adopt PATH`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from mlops_gen.errors import UserError
from mlops_gen.output.changes import Rendered, recorded_files
from mlops_gen.output.manifest import MANIFEST_PATH, PER_MODEL
from mlops_gen.output.paths import read_checked


def adopted_paths(paths: Sequence[str]) -> frozenset[str]:
    """`--adopt` arguments as absolute paths, so that any spelling of a file matches it."""
    return frozenset(os.path.abspath(path) for path in paths)


def unrecorded_in(root: Path, planned: Collection[str], manifest_path: str = MANIFEST_PATH,
                  layout: str = PER_MODEL) -> list[str]:
    """Planned paths of `root` where a file exists that the manifest does not record (cheap: no rendering).
    `manifest_path` and `layout`: the unit's (see plan_folder); a previous layout's manifest counts too."""
    if not os.path.isdir(root):
        return []
    recorded = recorded_files(root, manifest_path, layout)[1]
    return sorted(path for path in planned if path not in recorded
                  and os.path.lexists(os.path.join(root, *path.split("/"))))


def conflicts_in(root: Path, candidates: Sequence[str], files: Mapping[str, Rendered],
                 adopted: frozenset[str]) -> list[Path]:
    """The candidates (see unrecorded_in) generate would overwrite: generated (not seeded), with other bytes, not
    adopted."""
    found = []
    checked: set[str] = set()
    for path in candidates:
        file = files.get(path)
        if file is None or file.mode == "seeded":
            continue  # a seeded file at a user's path is kept as it is
        target = root / path
        if os.path.abspath(target) in adopted:
            continue
        on_disk = read_checked(root, path, "output", checked)
        if on_disk is None or on_disk[0] != file.data:
            found.append(target)
    return found


def refuse_conflicts(roots: Sequence[tuple[Path, Collection[str]] | tuple[Path, Collection[str], str, str]],
                     render: Callable[[int], Mapping[str, Rendered]], adopted: frozenset[str]) -> None:
    """Raise one UserError naming every user file generate would overwrite; `roots`: each model folder (or unit:
    root, planned paths, manifest path, layout) and the paths planned in it, `render(index)`: the rendered files of
    the folder at that index (called only when needed)."""
    conflicts: list[Path] = []
    for index, (root, planned, *place) in enumerate(roots):
        candidates = unrecorded_in(root, planned, *place)
        if candidates:
            conflicts.extend(conflicts_in(root, candidates, render(index), adopted))
    if not conflicts:
        return
    listed = "\n".join(f"  {path}" for path in conflicts)
    adopt = " ".join(f"--adopt {path}" for path in conflicts)
    raise UserError(
        f"mlops-gen generate: {len(conflicts)} file{'s' if len(conflicts) != 1 else ''} that mlops-gen did not write "
        f"would be overwritten (the manifest does not record {'them' if len(conflicts) != 1 else 'it'}); nothing "
        f"was written:\n{listed}\nmove {'them' if len(conflicts) != 1 else 'it'} away, or hand "
        f"{'them' if len(conflicts) != 1 else 'it'} over to mlops-gen (replaced and tracked from then on) with: "
        f"{adopt}")
