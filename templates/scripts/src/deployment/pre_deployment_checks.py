#!/usr/bin/env python3
"""Checks before a deployment touches traffic: the version about to be deployed (--version-file) is the one that
passed the earlier environment (it holds --alias, e.g. staging), came from a tracked run whose metrics still pass
the quality gates, has an input signature, and carries the registry tags the spec requires.

Exit 0 when every check passes, 1 naming each failed check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import DeployError, add_common_flags, configure_mlflow, guarded_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Verify a model version before deploying it.")
    add_common_flags(parser)
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--alias", help="alias the version must hold (the earlier environment's); none for the "
                        "first environment")
    parser.add_argument("--serving-alias", help="this environment's own alias: a version holding it passes the "
                        "--alias check too (it is what the environment was last promoted to; a rollback redeploys it)")
    parser.add_argument("--version-file", help="JSON from register_model.py: the version about to be deployed "
                        "(without it, the version holding --alias is checked)")
    parser.add_argument("--pipeline-config", required=True, help="config/pipeline.yaml (quality gates, tags)")
    return parser


def gate_failures(metrics: dict[str, float], gates: dict[str, dict[str, float]]) -> list[str]:
    failures = []
    for metric, bound in gates.items():
        if metric not in metrics:
            failures.append(f"metric {metric} was not logged by the training run")
            continue
        value = metrics[metric]
        if "min" in bound and value < bound["min"]:
            failures.append(f"{metric} {value:.4f} < min {bound['min']}")
        if "max" in bound and value > bound["max"]:
            failures.append(f"{metric} {value:.4f} > max {bound['max']}")
    return failures


def check(name: str, alias: str | None, config: dict[str, Any],
          version_file: str | None = None, serving_alias: str | None = None) -> tuple[str, list[str]]:
    import mlflow

    from common.registry import client, resolve_version, run_metrics, version_by_alias

    if not alias and not version_file:
        raise DeployError("give --version-file (the version to deploy), --alias, or both")
    mlflow_client = client()
    holder = version_by_alias(mlflow_client, name, alias) if alias else None
    failures = []
    if version_file:
        version = resolve_version(mlflow_client, name, version_file=version_file)
        found = mlflow_client.get_model_version(name, version)
        serving = version_by_alias(mlflow_client, name, serving_alias) if serving_alias else None
        if alias and (holder is None or str(holder.version) != version) and \
                (serving is None or str(serving.version) != version):
            held = f"version {holder.version}" if holder is not None else "no version"
            failures.append(f"version {version} has not passed the earlier environment: {alias!r} holds {held}")
    elif holder is None:
        raise DeployError(f"model {name!r} has no version with alias {alias!r}")
    else:
        found = holder
        version = str(found.version)
    if not found.run_id:
        failures.append(f"version {version} has no training run (no lineage)")
    else:
        failures += gate_failures(run_metrics(mlflow_client, found.run_id), config.get("quality_gates") or {})
    from mlflow.exceptions import MlflowException

    try:
        signature = mlflow.models.get_model_info(f"models:/{name}/{version}").signature
    except (MlflowException, OSError) as exc:  # the model's files cannot be read
        failures.append(f"cannot read the model of version {version}: {exc}")
    else:
        if signature is None or signature.inputs is None:
            failures.append(f"version {version} has no input signature: the serving app cannot validate requests")
    tags = found.tags or {}
    for key in (config.get("registry") or {}).get("tags") or {}:
        if key not in tags:
            failures.append(f"version {version} lacks the registry tag {key!r}")
    return version, failures


def _main(argv: list[str] | None) -> int:
    from common.files import read_yaml

    args = build_parser().parse_args(argv)
    config = read_yaml(args.pipeline_config) or {}
    configure_mlflow(args)
    version, failures = check(args.model_name, args.alias, config, args.version_file, args.serving_alias)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    if failures:
        print(f"pre-deployment checks failed for {args.model_name} version {version} ({len(failures)} problems)")
        return 1
    passed = f" (holds {args.alias})" if args.alias else ""
    print(f"pre-deployment checks passed for {args.model_name} version {version}{passed}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
