"""`mlops-gen init NAME`: write an annotated starter spec that validates as written."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gen.errors import SpecError, UserError
from mlops_gen.spec.loader import LoadedSpec, load_text
from mlops_gen.spec.validate import validate_loaded
from mlops_gen.templates_dir import template_path


def starter_spec(name: str) -> str:
    template = template_path("init/spec.yaml.tmpl").read_text(encoding="utf-8")
    return template.replace("@NAME@", name)


def run_init(name: str, output: str | None, force: bool) -> int:
    from pydantic import TypeAdapter, ValidationError

    from mlops_gen.spec.types import ModelName

    try:  # check NAME alone first: it is pasted into YAML text
        TypeAdapter(ModelName).validate_python(name)
    except ValidationError as exc:
        raise UserError(f"{name!r} cannot be a model name: "
                        f"{exc.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    target = Path(output or f"{name}.yaml")
    text = starter_spec(name)
    loaded = load_text(text, str(target))
    result = validate_loaded(loaded) if isinstance(loaded, LoadedSpec) else [loaded]
    if isinstance(result, list):  # an mlops-gen bug: the starter template must always validate
        raise RuntimeError(f"starter spec does not validate: {SpecError(result)}")
    if target.exists() and not force:
        raise UserError(f"{target}: already exists; pass --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {target}; edit it, then run: mlops-gen validate {target} && mlops-gen generate {target}")
    return 0
