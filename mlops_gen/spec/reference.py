"""Render the spec reference (Markdown) from the JSON Schema, so the docs cannot drift from the model."""

from __future__ import annotations

import json
from typing import Any

from mlops_gen.schema import spec_schema


def _type_of(prop: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in prop:
        return "mapping"
    if "enum" in prop:
        return " \\| ".join(f"`{v}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{prop['const']}`"
    if "anyOf" in prop:
        return " or ".join(_type_of(option, defs) for option in prop["anyOf"] if option.get("type") != "null")
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}), defs)}"
    if kind == "object":
        return "mapping"
    return str(kind)


def _default(prop: dict[str, Any]) -> str:
    if "default" not in prop:
        return "**required**"
    value = prop["default"]
    if isinstance(value, dict) and value:
        return "see below"
    return f"`{json.dumps(value)}`"


def _section(path: str, schema: dict[str, Any], defs: dict[str, Any], out: list[str]) -> None:
    nested: list[tuple[str, dict[str, Any]]] = []
    out += [f"### `{path}`" if path else "### top level", "", "| key | type | default | description |",
            "|---|---|---|---|"]
    for key, prop in schema.get("properties", {}).items():
        ref = prop.get("$ref") or next((o["$ref"] for o in prop.get("anyOf", []) if "$ref" in o), None)
        items_ref = prop.get("items", {}).get("$ref")
        ref = ref or items_ref or prop.get("additionalProperties", {}).get("$ref")
        description = prop.get("description", "").replace("|", "\\|")
        out.append(f"| `{key}` | {_type_of(prop, defs)} | {_default(prop)} | {description} |")
        if ref:
            nested.append((f"{path}.{key}" if path else key, defs[ref.split("/")[-1]]))
    out.append("")
    for child_path, child in nested:
        _section(child_path, child, defs, out)


def reference_markdown() -> str:
    schema = spec_schema()
    out = ["# Spec reference", "",
           "Generated from the JSON Schema (`mlops-gen schema`); every key, its type, default and meaning.", ""]
    _section("", schema, schema["$defs"], out)
    return "\n".join(out).rstrip("\n") + "\n"
