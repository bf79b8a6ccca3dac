"""`mlops-gen schema`: print (or write) the JSON Schema of the spec."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gen.schema import config_schema_text, schema_text


def run_schema(output: str | None, document: str = "spec") -> int:
    text = config_schema_text() if document == "config" else schema_text()
    if output:
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)  # as `init -o newdir/spec.yaml` does
        target.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0
