"""The spec's JSON Schema (draft 2020-12), exported from the pydantic model with defaults and descriptions."""

from __future__ import annotations

import json
from typing import Any

from mlops_gen.spec.model import ProjectSpec

SCHEMA_ID = "https://mlops-gen.dev/schemas/mlops-gen-v1.schema.json"
SCHEMA_FILE = "mlops-gen.schema.json"


def spec_schema() -> dict[str, Any]:
    schema = ProjectSpec.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"


CONFIG_SCHEMA_ID = "https://mlops-gen.dev/schemas/mlops-gen-config-v1.schema.json"


def config_schema() -> dict[str, Any]:
    """The repository configuration's schema; its `defaults` is the spec's schema with nothing required, minus
    what a spec cannot inherit (apiVersion, kind, model.name)."""
    from mlops_gen.repo_config.model import RepositoryConfig

    schema = RepositoryConfig.model_json_schema(by_alias=True, mode="validation")
    spec = spec_schema()
    definitions = {**spec.pop("$defs", {}), **schema.pop("$defs", {})}
    partial = {key: value for key, value in spec.items() if key not in ("$schema", "$id", "required", "title")}
    partial["properties"] = {key: value for key, value in partial["properties"].items()
                             if key not in ("apiVersion", "kind")}
    partial["title"] = "Defaults every spec inherits"
    model = dict(definitions["ModelInfo"])
    model["properties"] = {k: v for k, v in model["properties"].items() if k != "name"}
    model.pop("required", None)
    definitions["ModelDefaults"] = model
    partial["properties"]["model"] = {"$ref": "#/$defs/ModelDefaults"}
    definitions["SpecDefaults"] = partial
    description = schema["properties"]["defaults"].get("description", "")
    schema["properties"]["defaults"] = {"$ref": "#/$defs/SpecDefaults", "description": description}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": CONFIG_SCHEMA_ID, **schema,
            "$defs": definitions}


def config_schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"
