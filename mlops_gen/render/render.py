"""Render one spec into a sorted {relative path: RenderedFile} map, verified before anything touches disk."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2

from mlops_gen.output.paths import shown_path
from mlops_gen.render.context import build_context
from mlops_gen.render.environment import build_env
from mlops_gen.render.headers import with_header
from mlops_gen.render.plan import TARGETS, Mode, OutputFile, plan
from mlops_gen.render.verify import verify
from mlops_gen.spec.validate import SpecFile


@dataclass(frozen=True)
class RenderedFile:
    text: str
    mode: Mode
    executable: bool
    target: str

    @property
    def data(self) -> bytes:
        return self.text.encode("utf-8")


DEFAULT_OUTPUT_DIR = "generated"  # the CLI's default -o


def render_spec(spec_file: SpecFile, targets: Sequence[str] = TARGETS,
                env: jinja2.Environment | None = None, output_dir: str = DEFAULT_OUTPUT_DIR
                ) -> dict[str, RenderedFile]:
    """`output_dir`: the output directory as shown_path names it (the README's commands pass it as -o)."""
    env = env or build_env()
    shown = shown_path(spec_file.path)
    context = {**build_context(spec_file.spec, shown, spec_file.inputs), "output_dir": output_dir}
    return render_outputs(plan(spec_file.spec, targets), context, env, shown)


def render_outputs(outputs: Iterable[OutputFile], context: Mapping[str, Any], env: jinja2.Environment,
                   spec_shown: str = "", shared_by: str = "") -> dict[str, RenderedFile]:
    """Render each output with `context` plus its `extra` and `output_path`, verify it parses, add the header (naming
    `spec_shown`, or, with `shared_by`, the output folder whose models all share the file); sorted by path."""
    rendered: dict[str, RenderedFile] = {}
    for output in outputs:
        body = env.get_template(output.template).render(**context, **output.extra, output_path=output.path)
        verify(output.path, body)  # before the header (comments only), so identical bodies are parsed once
        text = with_header(output.path, body, spec_shown, output.mode, shared_by).rstrip("\n") + "\n"  # LF, one \n
        rendered[output.path] = RenderedFile(text, output.mode, output.executable, output.target)
    return dict(sorted(rendered.items()))
