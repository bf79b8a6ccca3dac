"""Render one spec into a sorted {relative path: RenderedFile} map, verified before anything touches disk."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import jinja2
import yaml
from yaml.constructor import SafeConstructor

from mlops_gen.output.paths import shown_path
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


_VERIFIED: set[bytes] = set()  # digests of texts already parsed: most scripts are identical across models


def verify(path: str, text: str) -> None:
    """Parse the rendered text back: a template bug must fail here, not in a user's pipeline."""
    suffix = PurePosixPath(path).suffix
    digest = hashlib.blake2b(f"{suffix}\0{text}".encode(), digest_size=16).digest()
    if digest in _VERIFIED:
        return
    try:
        if suffix in (".yml", ".yaml"):
            _check_yaml(text)
        elif suffix == ".json":
            json.loads(text)
        elif suffix == ".py":
            compile(text, path, "exec")
    except (yaml.YAMLError, ValueError, SyntaxError) as exc:
        raise RuntimeError(f"rendered {path} does not parse: {exc}") from exc
    _VERIFIED.add(digest)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CONSTRUCTOR = SafeConstructor()
_NUMBERS = {"tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
            "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float}
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool",
                         "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})


def _check_yaml(text: str) -> None:
    """What yaml.load_all(CSafeLoader) accepts, without building Python objects for whole documents (slow, pure
    Python): compose with libyaml, construct only the scalars whose construction can fail (int, float), and load in
    full as before when any node could still fail otherwise (another tag, a non-scalar mapping key)."""
    pending: list[yaml.Node] = list(yaml.compose_all(text, Loader=_LOADER))
    seen: set[int] = set()  # aliases share nodes (and can make cycles): visit each once
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        constructor = _NUMBERS.get(node.tag)
        if constructor is not None and isinstance(node, yaml.ScalarNode):
            constructor(_CONSTRUCTOR, node)  # raises as the full load would
            continue
        if node.tag not in _PLAIN_TAGS or (isinstance(node, yaml.MappingNode)
                                           and not all(isinstance(k, yaml.ScalarNode) for k, _ in node.value)):
            list(yaml.load_all(text, Loader=_LOADER))  # let the constructor decide, exactly as before
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                pending.append(key)
                pending.append(value)
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)


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
