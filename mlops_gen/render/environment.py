"""The one jinja environment: StrictUndefined, the safe-literal filters, user overrides before built-ins."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import jinja2

from mlops_gen import pins
from mlops_gen.render import filters
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
    )
    env.filters.update(
        yaml_str=filters.yaml_str,
        sh=filters.sh,
        py=filters.py,
        json=filters.to_json,
        yaml_block=filters.yaml_block,
        pascal=filters.pascal,
        snake=filters.snake,
        number=filters.number,
        md=filters.md,
        md_code=filters.md_code,
        mermaid=filters.mermaid,
    )
    env.globals.update(script_call=filters.script_call, shell_raw=filters.ShellRaw, uses=pins.uses,
                       trivy_version=pins.TRIVY_VERSION, kubectl_version=pins.KUBECTL_VERSION)
    return env
