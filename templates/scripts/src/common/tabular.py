"""Splitting a training table into features and label, and grouping sensitive columns for fairness checks."""

from __future__ import annotations

from typing import Any

from common.backend import ScriptError

# A numeric sensitive column with more distinct values than this (e.g. age) is compared in quantile bands.
MAX_GROUPS = 10
BANDS = 4


def split_features(frame: Any, target: str) -> tuple[Any, Any]:
    if target not in frame.columns:
        raise ScriptError(f"target column {target!r} not in the data (columns: {', '.join(map(str, frame.columns))})")
    return frame.drop(columns=[target]), frame[target]


def categorical_columns(features: Any) -> list[str]:
    return [str(c) for c in features.columns if not _is_numeric(features[c])]


def numeric_columns(features: Any) -> list[str]:
    return [str(c) for c in features.columns if _is_numeric(features[c])]


def _is_numeric(series: Any) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def sensitive_groups(series: Any) -> Any:
    """Group labels for a sensitive column: categories as they are, many-valued numbers as quantile bands."""
    import pandas as pd

    if _is_numeric(series) and series.nunique(dropna=True) > MAX_GROUPS:
        bands = pd.qcut(series, q=BANDS, duplicates="drop")
        return bands.astype(str).rename(series.name)
    return series.astype(str)
