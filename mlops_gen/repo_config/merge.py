"""A spec as resolved against the configuration's defaults: the data, and where each part of it was written.

Merge rules (documented in the README; `mlops-gen resolve` shows the result): a mapping in both merges key by key,
and where both give a value the spec's wins; lists, values and `quality_gates.metrics` (a gate set is one decision)
are taken whole from the spec when it has them. Inherited parts keep their positions in the configuration file, so
a finding about them points there.
"""

from __future__ import annotations

import copy
from typing import Any

from mlops_gen.spec.loader import LoadedSpec, Path_

DEFAULTS: Path_ = ("defaults",)
NOT_INHERITED: tuple[Path_, ...] = (("apiVersion",), ("kind",), ("model", "name"))
REPLACED_WHOLE: frozenset[Path_] = frozenset({("quality_gates", "metrics")})


def resolved(config: LoadedSpec, spec: LoadedSpec) -> LoadedSpec:
    """`spec` with the defaults of `config` (a loaded configuration document) merged under it."""
    defaults = config.data.get("defaults")
    if not isinstance(defaults, dict) or not defaults:
        return spec
    result = LoadedSpec(file=spec.file, data={}, raw=spec.raw, key_positions=dict(spec.key_positions),
                        value_positions=dict(spec.value_positions), spellings=dict(spec.spellings))
    result.data = _merged(defaults, spec.data, (), config, result)
    return result


def _merged(default: dict[str, Any], own: dict[str, Any], path: Path_, config: LoadedSpec,
            into: LoadedSpec) -> dict[str, Any]:
    merged = dict(own)
    for key, value in default.items():
        here = (*path, key)
        if here in NOT_INHERITED:
            continue  # the configuration's own validation reports it
        if key not in own:
            merged[key] = copy.deepcopy(value)
            _inherit(here, config, into)
        elif isinstance(value, dict) and isinstance(own[key], dict) and here not in REPLACED_WHOLE:
            merged[key] = _merged(value, own[key], here, config, into)
    return merged


def _inherit(path: Path_, config: LoadedSpec, into: LoadedSpec) -> None:
    """Record `path` as inherited, with the positions of its whole subtree in the configuration."""
    into.inherited[path] = config.file
    prefix = (*DEFAULTS, *path)
    for source, target in ((config.key_positions, into.key_positions),
                           (config.value_positions, into.value_positions)):
        for where, position in source.items():
            if where[:len(prefix)] == prefix:
                target[where[len(DEFAULTS):]] = position
    for where, text in config.spellings.items():
        if where[:len(prefix)] == prefix:
            into.spellings[where[len(DEFAULTS):]] = text
