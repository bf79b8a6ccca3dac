"""`mlops-gen resolve SPEC [--full]`: the spec as mlops-gen reads it, after the repository configuration's
defaults, each inherited value marked with the configuration line it comes from (and, with --full, every
built-in default that applies too, marked `default`). Either output is itself a valid spec."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import click
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mlops_gen.errors import Problem, SpecError
from mlops_gen.repo_config.find import find_config
from mlops_gen.repo_config.load import load_settings
from mlops_gen.repo_config.merge import DEFAULTS, resolved
from mlops_gen.spec.loader import LoadedSpec, Path_, load_file
from mlops_gen.spec.semantic import AZURE_TARGET_ONLY, TARGET_ONLY, TARGET_SETTINGS
from mlops_gen.spec.validate import validate_loaded


def run_resolve(spec: str, full: bool = False, config_option: str | None = None) -> int:
    config = find_config(config_option)
    loaded = load_file(Path(spec))
    if isinstance(loaded, Problem):
        raise SpecError([loaded])
    origin: dict[Path_, str] = {}
    if config is not None:
        settings = load_settings(config)
        result = settings.validate(loaded)  # resolves it, positioning findings in the file each part came from
        loaded = resolved(settings.document, loaded)
        for path in loaded.inherited:
            line = settings.document.key_positions.get((*DEFAULTS, *path), (1, 1))[0]
            origin[path] = f"from {config.shown_as}:{line}"
    else:
        result = validate_loaded(loaded)
    if isinstance(result, list):
        raise SpecError(result)
    data = _what_applies(result.model_dump(mode="json", by_alias=True)) if full else loaded.data
    document = _annotated(data, (), origin, loaded if full else None)
    out = io.StringIO()
    yaml = YAML()
    yaml.width = 120
    yaml.indent(mapping=2, sequence=4, offset=2)
    where = f", resolved against {config.shown_as}" if config else ""
    out.write(f"# {loaded.file}{where}\n")
    yaml.dump(document, out)
    # ruamel.yaml puts one space before an end-of-line comment; YAML linters (yamllint's default) want two. A
    # value holding " # " is always quoted, so only our notes match.
    click.echo(_NOTE.sub(r"\1  # \2", out.getvalue()), nl=False)
    return 0


def _what_applies(data: dict[str, Any]) -> dict[str, Any]:
    """Every setting the spec uses, without the built-in defaults of another target or strategy: written, the
    spec rules would refuse them (so --full prints a valid spec too)."""
    for env in data.get("environments") or []:
        for name in TARGET_ONLY:
            if name not in TARGET_SETTINGS[env["target"]]:
                env.pop(name, None)
        for name, targets in AZURE_TARGET_ONLY.items():
            if env["target"] not in targets:
                (env.get("azure") or {}).pop(name, None)
    if data["rollout"]["strategy"] != "canary":
        data["rollout"].pop("increments", None)
    return data


_NOTE = re.compile(r"(\S) # (from .*|default)$", re.MULTILINE)


def _annotated(value: Any, path: Path_, origin: dict[Path_, str], written: LoadedSpec | None) -> Any:
    """`value` as ruamel.yaml data, with an end-of-line comment on each key whose value was not written in the
    spec: inherited ones name their configuration line; with `written`, values nobody wrote are `default`."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for key, item in value.items():
            here = (*path, key)
            mapping[key] = _annotated(item, here, origin, written)
            note = _note(here, origin, written)
            if note:
                mapping.yaml_add_eol_comment(f"# {note}", key, column=0)
        return mapping
    if isinstance(value, list):
        return CommentedSeq(_annotated(item, (*path, index), origin, written) for index, item in enumerate(value))
    return value


def _note(path: Path_, origin: dict[Path_, str], written: LoadedSpec | None) -> str:
    if path in origin:
        return origin[path]
    if written is not None and path not in written.value_positions and not _under(path, origin):
        parent_written = path[:-1] == () or path[:-1] in written.value_positions
        return "default" if parent_written else ""
    return ""


def _under(path: Path_, origin: dict[Path_, str]) -> bool:
    return any(path[:cut] in origin for cut in range(1, len(path)))
