"""Planner for files about the model folder itself: `.gitattributes` marking every generated file.

Always on (see plan.ALWAYS_ON) and owned. `linguist-generated` lets GitHub and Azure Repos collapse generated files
in pull request views; `eol=lf` keeps checkouts byte-identical to what `mlops-gen check` expects. To change or empty
it, put your own `repo_files/gitattributes.j2` in an --override-dir.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec

GITATTRIBUTES = ".gitattributes"
MANIFEST = ".mlops-gen/manifest.json"  # mlops_gen.output.manifest.MANIFEST_PATH; not imported to keep planners light
_PLAIN_PATH = re.compile(r"[A-Za-z0-9._/-]+")  # no spaces or glob characters: a path is its own exact pattern


def outputs(spec: ProjectSpec, planned: Sequence[OutputFile]) -> list[OutputFile]:
    """`planned`: every file the targets plan for `spec` (see plan._finishers)."""
    owned = sorted({f.path for f in planned if f.mode == "owned"} | {GITATTRIBUTES, MANIFEST})
    unsafe = [p for p in owned if not _PLAIN_PATH.fullmatch(p)]
    if unsafe:  # planners choose paths from validated names; anything else is a bug
        raise RuntimeError(f"generated paths unfit for .gitattributes: {', '.join(unsafe)}")
    return [OutputFile(GITATTRIBUTES, "repo_files/gitattributes.j2", "repo_files",
                       extra={"generated_paths": owned})]
