"""Reading and writing the small JSON/YAML/CSV files stages hand to each other."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from common.backend import ScriptError


def read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{path}: invalid JSON: {exc}") from None


def write_json(path: str | Path, data: Any) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return target


def write_text(path: str | Path, text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def read_yaml(path: str | Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScriptError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ScriptError(f"{path}: invalid YAML: {exc}") from None


def parse_pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """`--flag key=value` repeated -> {key: value}, in order."""
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScriptError(f"{flag} {item!r}: expected KEY=VALUE")
        pairs[key.strip()] = value.strip()
    return pairs


def parse_thresholds(values: list[str] | None, flag: str) -> dict[str, float]:
    thresholds = {}
    for key, value in parse_pairs(values, flag).items():
        try:
            thresholds[key] = float(value)
        except ValueError:
            raise ScriptError(f"{flag} {key}={value}: not a number") from None
    return thresholds


def read_table(path: str | Path) -> Any:
    """A pandas DataFrame from a CSV or Parquet file, or from the first such file in a folder (a mounted asset)."""
    import pandas as pd

    source = Path(path)
    if source.is_dir():
        candidates = sorted(p for p in source.rglob("*") if p.suffix.lower() in (".csv", ".parquet"))
        if not candidates:
            raise ScriptError(f"{path}: folder holds no .csv or .parquet file")
        source = candidates[0]
    if not source.exists():
        raise ScriptError(f"{path}: file not found")
    if source.suffix.lower() == ".parquet":
        return pd.read_parquet(source)
    return pd.read_csv(source)


def read_job(path: str | Path) -> dict[str, Any]:
    """The job file written by submit_training.py: backend, run id, experiment and status."""
    job = read_json(path)
    if not isinstance(job, dict) or not job.get("run_id"):
        raise ScriptError(f"{path}: not a job file (no run_id); run submit_training.py first")
    return job


def data_fingerprint(path: str | Path) -> str:
    """sha256 over a table's bytes: one file, or a folder's files (relative names and bytes, in sorted order)."""
    root = Path(path)
    digest = hashlib.sha256()
    files = [root] if root.is_file() else sorted(item for item in root.rglob("*") if item.is_file())
    for item in files:
        digest.update(item.relative_to(root).as_posix().encode() if item != root else b"")
        digest.update(item.read_bytes())
    return digest.hexdigest()


def pinned_data(path: str | Path) -> dict[str, Any]:
    """The data validation pinned (validate_data.py --data-output): an asset version, or a file's fingerprint."""
    pinned = read_json(path)
    if not isinstance(pinned, dict) or not ({"dataset", "version"} <= pinned.keys()
                                            or {"data_path", "sha256"} <= pinned.keys()):
        raise ScriptError(f"{path}: not a data pin written by validate_data.py --data-output")
    return pinned
