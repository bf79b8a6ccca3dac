#!/usr/bin/env python3
"""Point an MLflow alias (e.g. staging, production) at a model version: the registry's promotion, without stages.

The version comes from --version, --version-file (register_model.py output) or --from-alias (promote whatever
holds that alias, e.g. staging to production).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import add_common_arguments, configure_mlflow, describe, guarded
from common.registry import client, resolve_version, set_alias, version_by_alias


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--version", help="version number to promote")
    parser.add_argument("--version-file", help="version file from register_model.py")
    parser.add_argument("--from-alias", help="promote the version holding this alias")
    parser.add_argument("--alias", required=True, help="alias to set")
    return add_common_arguments(parser)


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_mlflow(args)
    mlflow_client = client()
    version = resolve_version(mlflow_client, args.model_name, version=args.version, version_file=args.version_file,
                              alias=args.from_alias)
    previous = version_by_alias(mlflow_client, args.model_name, args.alias)
    set_alias(mlflow_client, args.model_name, args.alias, version)
    before = f" (was version {previous.version})" if previous is not None else ""
    print(f"{args.model_name}@{args.alias} -> version {version}{before}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
