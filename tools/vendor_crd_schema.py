"""Turn a CustomResourceDefinition's served schema into a strict JSON Schema for the tests' referee.

kubernetes-validate knows built-in kinds only ("Couldn't find schema" for custom resources), so the generated
HTTPRoute is checked against the Gateway API's own CRD. kubectl apply validates fields strictly on the server
(--validate=strict, the default since Kubernetes 1.27: unknown fields are errors), so every object schema that
lists its properties gets additionalProperties: false unless the CRD keeps unknown fields.

Usage: python tools/vendor_crd_schema.py CRD.yaml VERSION OUT.json
(tests/schemas/gateway-api-v1.6.1-httproute.json: kubernetes-sigs/gateway-api tag v1.6.1,
config/crd/standard/gateway.networking.k8s.io_httproutes.yaml, version v1)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml


def strict(schema: Any) -> Any:
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items() if not key.startswith("x-kubernetes-")}
    if "properties" in schema and "additionalProperties" not in schema \
            and not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def main(argv: list[str]) -> int:
    source, version, target = argv
    crd = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = strict(served["schema"]["openAPIV3Schema"])
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata", "spec"})
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    bundle = crd["metadata"].get("annotations", {}).get("gateway.networking.k8s.io/bundle-version", "?")
    schema["title"] = f"{kind} {group}/{version}, bundle {bundle}"
    Path(target).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
