#!/usr/bin/env python3
"""Smoke test of a deployed endpoint: health (where exposed), then one prediction per test record.

Exits 0 when the endpoint answers and returns one prediction per record, 1 otherwise (standard library only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Smoke-test a deployed scoring endpoint.")
    parser.add_argument("--backend", default=os.environ.get("MLOPS_BACKEND", "azure"), choices=["azure", "local"],
                        help="azure or local (default: $MLOPS_BACKEND or azure); the test itself is the same")
    parser.add_argument("--workspace", help="Azure ML workspace (unused: the endpoint file says where to go)")
    parser.add_argument("--resource-group", help="Azure resource group (unused)")
    parser.add_argument("--subscription-id", help="Azure subscription (unused)")
    for flag in ("--registry-workspace", "--registry-resource-group", "--registry-subscription-id"):
        parser.add_argument(flag, help="the model registry's coordinates (unused)")
    parser.add_argument("--workdir", default=os.environ.get("MLOPS_WORKDIR", "."), help="work directory (unused)")
    parser.add_argument("--endpoint-file", required=True, help="JSON written by src/deployment/deploy.py --output")
    parser.add_argument("--test-data", required=True, help='JSON file: {"records": [{...}, ...]}')
    parser.add_argument("--deployment-name",
                        help="test this deployment directly, bypassing the traffic split (an idle blue-green one)")
    return parser


def main(argv: list[str] | None = None) -> int:
    from serving.client import open_endpoint, predictions_of

    args = build_parser().parse_args(argv)
    records = json.loads(Path(args.test_data).read_text(encoding="utf-8"))["records"]
    failures: list[str] = []
    with open_endpoint(args.endpoint_file, args.deployment_name) as endpoint:
        health = endpoint.health()
        if health is not None:
            print(f"GET health: {health.status or health.error} ({health.latency_ms:.0f} ms)")
            if not health.ok:
                failures.append(f"health check failed: {health.status or health.error}")
        reply = endpoint.predict(records)
        print(f"POST predict ({len(records)} records): {reply.status or reply.error} ({reply.latency_ms:.0f} ms)")
        if not reply.ok:
            failures.append(f"prediction failed: {reply.status or reply.error} {reply.body}")
        elif predictions_of(reply.body, len(records)) is None:
            failures.append(f"expected a list of {len(records)} prediction results, one per record, "
                            f"got {str(reply.body)[:200]}")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print("smoke test passed" if not failures else "smoke test failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
