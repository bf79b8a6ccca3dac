#!/usr/bin/env python3
"""Write the deployment record of one environment (Markdown): which model version serves where, with lineage.

Reads the endpoint file from deploy.py and the version file from register_model.py; the pipeline publishes the
record as an artifact so every environment's current state is documented next to the model card.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, describe, guarded
from common.files import read_json, write_text

LINEAGE = ("build_id", "build_number", "branch", "commit", "spec_hash")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--environment", required=True, help="environment deployed to")
    parser.add_argument("--endpoint-file", required=True, help="endpoint JSON written by deploy.py")
    parser.add_argument("--version-file", help="version file from register_model.py")
    parser.add_argument("--output", required=True, help="Markdown file to write")
    return add_common_arguments(parser)


def render(model: str, environment: str, endpoint: dict[str, Any], version: dict[str, Any] | None) -> str:
    lines = [f"# Deployment: {model} in {environment}", "", "| Field | Value |", "|---|---|"]
    rows = [("Target", endpoint.get("target")), ("Endpoint", endpoint.get("name")),
            ("Scoring URL", endpoint.get("url")), ("Health URL", endpoint.get("health_url")),
            ("Deployment", endpoint.get("deployment")), ("Stable deployment", endpoint.get("stable_deployment")),
            ("Traffic", endpoint.get("traffic"))]
    if version:
        tags = version.get("tags") or {}
        rows += [("Model version", version.get("version")), ("Model URI", version.get("model_uri")),
                 ("Training run", version.get("run_id"))]
        rows += [(key.replace("_", " ").capitalize(), tags.get(key)) for key in LINEAGE if tags.get(key)]
    for label, value in rows:
        if value not in (None, "", {}):
            text = ", ".join(f"{k}: {v}%" for k, v in value.items()) if isinstance(value, dict) else str(value)
            lines.append(f"| {label} | {text.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    version = read_json(args.version_file) if args.version_file and Path(args.version_file).exists() else None
    text = render(args.model_name, args.environment, read_json(args.endpoint_file), version)
    write_text(args.output, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
