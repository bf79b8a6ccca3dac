"""`mlops-gen schema`: print (or write) the JSON Schema of the spec."""

from __future__ import annotations

from pathlib import Path

import click

from mlops_gen.schema import schema_text


def run_schema(output: str | None) -> int:
    text = schema_text()
    if output:
        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)  # as `init -o newdir/spec.yaml` does
        target.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    return 0
