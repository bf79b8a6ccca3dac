#!/usr/bin/env python3
"""Archive old model versions: keep the newest --keep versions and every version holding an alias; tag the rest
`archived=true`.

Nothing is deleted: an archived version keeps its lineage for audits and can still be redeployed for a rollback,
while MLflow has no undo for a deletion. Deleting is a deliberate, separate decision (retention policy), not a
side effect of a training run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import ScriptError, add_common_arguments, configure_mlflow, describe, guarded
from common.registry import aliased_versions, client, versions

ARCHIVED_TAG = "archived"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--keep", required=True, type=int, help="newest versions to keep")
    parser.add_argument("--dry-run", action="store_true", help="report what would be archived; change nothing")
    return add_common_arguments(parser)


def to_archive(candidates: list[Any], aliased: set[str], keep: int) -> list[Any]:
    """Versions beyond the newest `keep`, excluding aliased and already archived ones, oldest first."""
    newest_first = sorted(candidates, key=lambda v: int(v.version), reverse=True)
    old = [v for v in newest_first[keep:] if str(v.version) not in aliased
           and (v.tags or {}).get(ARCHIVED_TAG) != "true"]
    return sorted(old, key=lambda v: int(v.version))


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.keep < 1:
        raise ScriptError("--keep must be at least 1")
    configure_mlflow(args)
    mlflow_client = client()
    aliased = aliased_versions(mlflow_client, args.model_name)
    found = versions(mlflow_client, args.model_name)
    chosen = to_archive(found, aliased, args.keep)
    verb = "would archive" if args.dry_run else "archived"
    for version in chosen:
        if not args.dry_run:
            mlflow_client.set_model_version_tag(args.model_name, version.version, ARCHIVED_TAG, "true")
        print(f"{verb} {args.model_name} version {version.version}")
    kept = len(found) - len(chosen)
    print(f"{args.model_name}: {len(found)} versions, {len(chosen)} {verb}, {kept} kept "
          f"(newest {args.keep} and aliased {sorted(aliased, key=int) or 'none'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
