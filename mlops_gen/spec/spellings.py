"""Booleans and YAML 1.1 number spellings only where the field means exactly that.

PyYAML reads YAML 1.1: `no`, `off` are false, `yes`, `on` true, `0777` is octal 511, `010` is 8, `1:30` is 90.
pydantic then turns a boolean into 0 or 1 where a number is expected, so `accuracy: {min: no}` became a gate that
always passes. A boolean is accepted only where the field is a boolean; a YAML 1.1-only number spelling nowhere.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel

from mlops_gen.spec.loader import LoadedSpec, Path_
from mlops_gen.spec.model import ProjectSpec

_BOOLEAN_WORDS = {"true": "true", "false": "false", "yes": "true", "on": "true", "no": "false", "off": "false"}


def annotation_at(path: Path_, root: type[BaseModel] = ProjectSpec) -> Any:
    """The type a field at `path` of a `root` document expects, or None when the path names no field (reported
    elsewhere)."""
    current: Any = root
    for part in path:
        current = _strip(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {(f.alias or name): f for name, f in current.model_fields.items()}
            if not isinstance(part, str) or part not in fields:
                return None
            current = fields[part].annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is list and args and isinstance(part, int):
            current = args[0]
        elif origin is dict and len(args) == 2 and isinstance(part, str):
            current = args[1]
        else:
            return None
    return current


def _strip(annotation: Any) -> Any:
    """`X | None` to X; Annotated[X, ...] to X."""
    for _ in range(4):
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated or (origin in (typing.Union, types.UnionType) and len(args) == 1):
            annotation = args[0]
        else:
            break
    return annotation


def _kind(annotation: Any) -> str:
    """'boolean', 'number', 'text' or 'other' (a collection or a model: its own errors say what is wrong)."""
    annotation = _strip(annotation)
    if annotation is bool:
        return "boolean"
    if annotation in (int, float):
        return "number"
    if annotation is str or typing.get_origin(annotation) is typing.Literal:
        return "text"
    return "other"


def _why(text: str, value: Any, expected: str) -> str | None:
    word = text.lower()
    if isinstance(value, bool):
        if expected == "boolean":
            return None
        if expected == "number":
            return (f"{text!r} is a boolean ({_BOOLEAN_WORDS.get(word, word)}) where a number is expected; "
                    "write the number itself")
        return f"{text!r} is read as the boolean {_BOOLEAN_WORDS.get(word, word)}; quote it (\"{text}\") for text"
    if ":" in text:
        reading = f"{text!r} is read as the base-60 number {value} (YAML 1.1)"
    elif word.lstrip("+-").startswith("0b"):
        reading = f"{text!r} is read as the binary number {value} (YAML 1.1)"
    elif "_" in text:
        reading = f"{text!r} is read as {value} (YAML 1.1 ignores '_')"
    else:
        reading = f"{text!r} is read as the octal number {value} (YAML 1.1)"
    if expected == "number":
        meant = text.replace("_", "")
        if meant.lstrip("+-").isdigit() and int(meant) != value:
            return f"{reading}; write {value}, or {int(meant)} if you meant decimal"
        return f"{reading}; write the number in plain decimal: {value}"
    return f"{reading}; quote it (\"{text}\") for text, or write a plain decimal number"


def spelling_findings(loaded: LoadedSpec, root: type[BaseModel] = ProjectSpec) -> Iterator[tuple[Path_, str]]:
    """(path, message) for every boolean or YAML 1.1 number spelling where the field does not mean it."""
    for path, text in loaded.spellings.items():
        annotation = annotation_at(path, root)
        if annotation is None:
            continue  # an unknown key: the model's own error names it
        expected = _kind(annotation)
        if expected == "other":
            continue
        value: Any = loaded.data
        for part in path:
            value = value[part]
        message = _why(text, value, expected)
        if message is not None:
            yield path, message
