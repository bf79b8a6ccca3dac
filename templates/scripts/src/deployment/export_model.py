#!/usr/bin/env python3
"""Download a registered model version (an MLflow model directory) into the image build context.

The serving image carries its model (COPY model/ in the Dockerfile): the running container needs no registry
access or credentials, and the image tag names exactly one model version. --output records that version.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (
    DeployError,
    add_common_flags,
    configure_mlflow,
    guarded_main,
    resolve_version,
    write_json,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Download a model version for the serving image.")
    add_common_flags(parser)
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--alias", help="alias of the version (when no --version-file)")
    parser.add_argument("--version-file", help="JSON from register_model.py naming the exact version")
    parser.add_argument("--output-dir", required=True, help="directory to fill, e.g. model (replaced)")
    parser.add_argument("--output", help="JSON file recording name, version and URI")
    return parser


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    configure_mlflow(args)
    version = resolve_version(args.model_name, args.alias, args.version_file)
    import mlflow

    uri = f"models:/{args.model_name}/{version}"
    target = Path(args.output_dir)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=str(target))
    if not (target / "MLmodel").exists():
        raise DeployError(f"{uri} did not download as an MLflow model (no MLmodel file in {target})")
    if args.output:
        write_json(args.output, {"name": args.model_name, "version": version, "uri": uri})
    print(f"exported {uri} to {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
