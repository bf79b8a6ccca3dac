"""The one jinja environment: StrictUndefined, the safe-literal filters, user overrides before built-ins."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import jinja2

from mlops_gen import pins
from mlops_gen.cache import cache_root, private_dir
from mlops_gen.render import filters
from mlops_gen.render.headers import marker_sentences
from mlops_gen.templates_dir import builtin_templates


def build_env(override_dirs: Sequence[Path] = ()) -> jinja2.Environment:
    loader = jinja2.FileSystemLoader([*map(str, override_dirs), str(builtin_templates())])
    env = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - output is YAML/shell/Python, escaped by the explicit filters below
        auto_reload=False,  # templates do not change during a run: no stat() per get_template
        bytecode_cache=compiled_templates(),
    )
    env.filters.update(
        yaml_str=filters.yaml_str,
        yaml_block=filters.yaml_block,
        json_block=filters.json_block,
        sh=filters.sh,
        py=filters.py,
        json=filters.to_json,
        pascal=filters.pascal,
        snake=filters.snake,
        number=filters.number,
        md=filters.md,
        md_code=filters.md_code,
        mermaid=filters.mermaid,
    )
    env.globals.update(generated_marker=marker_sentences, script_call=filters.script_call,
                       shell_raw=filters.ShellRaw, uses=pins.uses,
                       trivy_version=pins.TRIVY_VERSION, kubectl_version=pins.KUBECTL_VERSION,
                       install_kube_tools=pins.install_kube_tools())
    return env


def compiled_templates() -> jinja2.BytecodeCache | None:
    """Jinja's on-disk cache of compiled templates, in the user's mlops-gen cache folder (None where that folder
    cannot be made private to the user: compiled code is loaded from it).

    Compiling the ~80 templates costs every process ~0.3 s; loading them from the cache a tenth of that. Jinja keys
    each entry by template file and checks the source's hash; the file names here also carry the jinja version and
    this generator's code fingerprint, because the environment's options above change the compiled code too.
    """
    from mlops_gen.output.fingerprint import generator_fingerprint

    directory = private_dir(cache_root() / "templates")
    if directory is None:
        return None
    tag = hashlib.sha256(f"{jinja2.__version__}\0{generator_fingerprint()}".encode()).hexdigest()[:16]
    return jinja2.FileSystemBytecodeCache(str(directory), pattern=f"{tag}-%s.cache")
