"""`mlops-gen validate PATH...`: report every problem of every spec, exit 2 when any is invalid."""

from __future__ import annotations

import click

from mlops_gen.parallel import few_collections
from mlops_gen.repo_config.find import find_config
from mlops_gen.spec.validate import load_specs


def run_validate(paths: tuple[str, ...], config_option: str | None = None) -> int:
    config = find_config(config_option)
    with few_collections():
        specs = load_specs(paths, config)
    for spec_file in specs:
        click.echo(f"{spec_file.shown_as}: ok ({spec_file.spec.model.name})")
    return 0
