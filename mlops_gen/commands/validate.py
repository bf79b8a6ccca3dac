"""`mlops-gen validate PATH...`: report every problem of every spec, exit 2 when any is invalid."""

from __future__ import annotations

from collections.abc import Sequence

import click

from mlops_gen.errors import Problem, SpecError
from mlops_gen.parallel import few_collections, process_pool, slice_size, workers
from mlops_gen.repo_config.find import ConfigFile, find_config
from mlops_gen.spec.validate import Valid, collect_specs, config_settings, discover, duplicate_models


def run_validate(paths: tuple[str, ...], config_option: str | None = None, jobs: int = 0) -> int:
    config = find_config(config_option)
    with few_collections():
        valid = validated(paths, config, jobs)
    for spec in valid:
        click.echo(f"{spec.shown_as}: ok ({spec.model})")
    return 0


def _validate_slice(paths: list[str], config: ConfigFile | None) -> tuple[list[Valid], list[Problem]]:
    """In a worker: only a line per valid spec travels back, not the spec (pickling it costs more than loading)."""
    specs, problems = collect_specs(paths, config)
    return [Valid.of(spec_file) for spec_file in specs], problems


def validated(paths: Sequence[str], config: ConfigFile | None, jobs: int = 0) -> list[Valid]:
    """Every spec under `paths` validated, in order, on several cores for many specs; all problems raised at once
    (SpecError), as load_specs raises them: the configuration's first, then each spec's, then duplicate models."""
    if config is not None:
        config_settings(config)  # its problems are raised here, once, not by every worker
    found = discover(paths)
    count = workers(jobs, len(found))
    pool = process_pool(count) if count > 1 else None
    if pool is None:
        valid, problems = _validate_slice([str(path) for path in found], config)
    else:
        size = slice_size(len(found), count)
        try:
            futures = [pool.submit(_validate_slice, [str(path) for path in found[start:start + size]], config)
                       for start in range(0, len(found), size)]
            valid, problems = [], []
            for future in futures:
                briefs, trouble = future.result()
                valid += briefs
                problems += trouble
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    problems += duplicate_models(valid)
    if problems:
        raise SpecError(problems)
    return valid
