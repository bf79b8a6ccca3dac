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
