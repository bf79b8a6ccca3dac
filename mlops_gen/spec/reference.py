"""Render the spec reference (Markdown) from the JSON Schema, so the docs cannot drift from the model."""

from __future__ import annotations

import json
from typing import Any

from mlops_gen.schema import spec_schema
from mlops_gen.spec.model import CLASSIFICATION_METRICS, LOWER_IS_BETTER, RATIO_METRICS, REGRESSION_METRICS
from mlops_gen.spec.semantic import TARGET_SETTINGS

# What each target puts on the network, as its deployment script and manifests make it (tests/test_trust_docs.py
# checks each fact against the templates).
TARGET_EXPOSURE: dict[str, str] = {
    "aci": "An Azure Container Instances group with a **public** IP address and DNS name label, plain HTTP on port "
           "8080 (`/predict`, `/health`), and **no authentication**: anyone who knows the name can call it. Keep ACI "
           "for test environments. It cannot split traffic, so rollout strategies `canary` and `blue_green` are "
           "refused for a production-like `aci` environment.",
    "aks": "Kubernetes `ClusterIP` services on port 80 in `namespace`: reachable **inside the cluster only**, with no "
           "authentication in the app. With `gateway`, an HTTPRoute attaches the model to that Gateway API "
           "Gateway, whose listeners decide what is exposed and how (TLS, authentication); a canary needs it, "
           "and its percentage is a share of the requests through it. Without, expose the service named after "
           "the model through your own ingress. One more service per track (`stable`, and `canary` for canary "
           "and blue-green rollouts) for the rollout's route, tests and monitoring.",
    "azureml_online_endpoint": "An Azure ML managed online endpoint (HTTPS) with **Entra ID token** authentication "
                               "(`auth_mode: aad_token`): callers send a bearer token for `https://ml.azure.com`; "
                               "no endpoint key is created, printed or stored. Traffic is split between the "
                               "`stable` and `canary` deployments.",
}


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
    out += _metrics() + _targets()
    return "\n".join(out).rstrip("\n") + "\n"


def _metrics() -> list[str]:
    out = ["## Metrics", "",
           "Ratio metrics are fractions: a gate's `min` and `max` for them must lie within [0, 1]; the bounds of the "
           "other metrics must not be negative. Champion/challenger compares lower-is-better metrics the other way "
           "round.", "",
           "| metric | task | kind | better |", "|---|---|---|---|"]
    for task, names in (("classification", CLASSIFICATION_METRICS), ("regression", REGRESSION_METRICS)):
        for name in names:
            kind = "ratio, within [0, 1]" if name in RATIO_METRICS else "non-negative"
            better = "lower" if name in LOWER_IS_BETTER else "higher"
            out.append(f"| `{name}` | {task} | {kind} | {better} |")
    return [*out, ""]


def _targets() -> list[str]:
    out = ["## Deployment targets", "",
           "Each environment's `target` decides which of its settings apply; a setting of another target is an "
           "error, not a no-op. Every target serves the same image and answers the same requests.", "",
           "| target | settings it uses | what it exposes |", "|---|---|---|"]
    for target in sorted(TARGET_SETTINGS):
        settings = ", ".join(f"`{name}`" for name in TARGET_SETTINGS[target])
        out.append(f"| `{target}` | {settings} | {TARGET_EXPOSURE[target]} |")
    return [*out, ""]
