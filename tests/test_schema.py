"""The exported JSON Schema: valid draft 2020-12, accepts every example spec, and the committed copy is current."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlops_gen.schema import SCHEMA_FILE, schema_text, spec_schema
from tests.conftest import SPECS, example_specs


def test_schema_is_valid_draft_2020_12() -> None:
    schema = spec_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_committed_schema_copy_is_current() -> None:
    committed = (SPECS / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == schema_text(), "specs/mlops-gen.schema.json is stale: run `mlops-gen schema -o " \
                                       "specs/mlops-gen.schema.json`"


@pytest.mark.parametrize("path", example_specs(), ids=lambda p: p.stem)
def test_schema_accepts_example_spec(path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(spec_schema()).validate(data)


@pytest.mark.parametrize("path", example_specs(), ids=lambda p: p.stem)
def test_example_specs_reference_the_schema(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith(f"# yaml-language-server: $schema=./{SCHEMA_FILE}\n")


def test_schema_rejects_unknown_keys_and_shows_defaults() -> None:
    schema = spec_schema()
    validator = jsonschema.Draft202012Validator(schema)
    minimal = {"apiVersion": "mlops-gen/v1", "kind": "ModelPipeline", "model": {"name": "abc"},
               "environments": [{"name": "dev"}]}
    validator.validate(minimal)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**minimal, "modle": {}})
    rollout = schema["$defs"]["Rollout"]["properties"]
    assert rollout["increments"]["default"] == [10, 25, 50, 100]
    assert rollout["strategy"]["default"] == "canary"
    assert all("description" in prop for prop in rollout.values())


def test_schema_output_is_deterministic_json() -> None:
    assert json.loads(schema_text()) == spec_schema()
    assert schema_text() == schema_text()


def test_spec_reference_doc_is_current() -> None:
    from mlops_gen.spec.reference import reference_markdown

    committed = (SPECS.parent / "docs" / "spec-reference.md").read_text(encoding="utf-8")
    assert committed == reference_markdown(), (
        "docs/spec-reference.md is stale: run python -c 'from mlops_gen.spec.reference import reference_markdown; "
        "open(\"docs/spec-reference.md\", \"w\").write(reference_markdown())'")
