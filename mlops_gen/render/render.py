"""Render one spec into a sorted {relative path: RenderedFile} map, verified before anything touches disk."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import jinja2
import yaml

from mlops_gen.render.context import build_context
from mlops_gen.render.environment import build_env
from mlops_gen.render.headers import with_header
from mlops_gen.render.plan import TARGETS, Mode, plan
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


def shown_path(path: Path) -> str:
    """How a spec is named inside generated files: relative to the working directory, never absolute."""
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive on Windows
        relative = path.name
    if relative.startswith(".."):
        relative = path.name
    return PurePosixPath(Path(relative).as_posix()).as_posix()


_VERIFIED: set[bytes] = set()  # digests of texts already parsed: most scripts are identical across models


def verify(path: str, text: str) -> None:
    """Parse the rendered text back: a template bug must fail here, not in a user's pipeline."""
    suffix = PurePosixPath(path).suffix
    digest = hashlib.blake2b(f"{suffix}\0{text}".encode(), digest_size=16).digest()
    if digest in _VERIFIED:
        return
    try:
        if suffix in (".yml", ".yaml"):
            list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
        elif suffix == ".json":
            json.loads(text)
        elif suffix == ".py":
            compile(text, path, "exec")
    except (yaml.YAMLError, ValueError, SyntaxError) as exc:
        raise RuntimeError(f"rendered {path} does not parse: {exc}") from exc
    _VERIFIED.add(digest)


def render_spec(spec_file: SpecFile, targets: Sequence[str] = TARGETS,
                env: jinja2.Environment | None = None) -> dict[str, RenderedFile]:
    env = env or build_env()
    shown = shown_path(spec_file.path)
    context = build_context(spec_file.spec, shown, spec_file.raw)
    rendered: dict[str, RenderedFile] = {}
    for output in plan(spec_file.spec, targets):
        body = env.get_template(output.template).render(**context, **output.extra, output_path=output.path)
        verify(output.path, body)  # before the header (comments only), so identical bodies are parsed once
        text = with_header(output.path, body, shown, output.mode).rstrip("\n") + "\n"  # LF, one trailing newline
        rendered[output.path] = RenderedFile(text, output.mode, output.executable, output.target)
    return dict(sorted(rendered.items()))
