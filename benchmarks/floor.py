"""The floor: the same templates rendered by a bare, pre-built jinja2 Environment, writing the same bytes.

Specs, plans and contexts are prepared with mlops-gen's own modules outside the timed region; the timed region is
only `env.get_template(...).render(...)`, the header every generated file carries, and writing the files. No
validation, no verification, no comparison with existing files: what any jinja-based generator must pay at least.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Job:
    """One output file: the inputs of its render and where its bytes go."""

    model: str
    path: str
    template: str
    context: dict[str, Any]
    extra: dict[str, Any]
    mode: str
    executable: bool
    spec_shown: str


def prepare(root: Path, spec_dirs: Sequence[str]) -> list[Job]:
    """Load and plan every spec under root/<spec_dirs> exactly as `generate` run from `root` would."""
    from mlops_gen.render.context import build_context
    from mlops_gen.render.plan import TARGETS, plan
    from mlops_gen.render.render import shown_path
    from mlops_gen.spec.validate import load_specs

    previous = Path.cwd()
    os.chdir(root)  # spec paths appear in file headers relative to the working directory
    try:
        jobs = []
        for spec_file in load_specs(list(spec_dirs)):
            shown = shown_path(spec_file.path)
            context = build_context(spec_file.spec, shown, spec_file.raw)
            for output in plan(spec_file.spec, TARGETS):
                jobs.append(Job(spec_file.spec.model.name, output.path, output.template, context,
                                dict(output.extra), output.mode, output.executable, shown))
        return jobs
    finally:
        os.chdir(previous)


def render(jobs: Sequence[Job], out: Path) -> float:
    """Render every job into out/<model>/<path>; return the seconds spent rendering and writing."""
    from mlops_gen.render.environment import build_env
    from mlops_gen.render.headers import with_header

    env = build_env()  # pre-built, outside the timed region; templates compile inside it, as in any run
    started = time.perf_counter()
    made: set[Path] = set()
    for job in jobs:
        text = env.get_template(job.template).render(**job.context, **job.extra, output_path=job.path)
        text = with_header(job.path, text, job.spec_shown, job.mode).rstrip("\n") + "\n"
        target = out / job.model / job.path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        target.write_bytes(text.encode("utf-8"))
        if job.executable:
            target.chmod(0o755)
    return time.perf_counter() - started
