#!/usr/bin/env python3
"""Roll back a release at any point before its promotion: what served before serves again, alone.

- canary / blue-green: all traffic to the stable deployment, the candidate removed;
- rolling / direct (the stable deployment updated in place): its previous image and version put back, as
  deploy.py recorded them in the endpoint file (Kubernetes: `rollout undo`; ACI: the container group recreated);
- a first release (nothing served before): what it deployed is removed.
The alias (e.g. production) is untouched: it only moves when promote.py succeeds, the release's last step.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import add_common_flags, add_release_flags, backend_of, guarded_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Send all traffic back to the stable deployment.")
    add_common_flags(parser)
    add_release_flags(parser)
    parser.add_argument("--manifests", help="the environment's Kubernetes manifests (aks): whether a route carries "
                        "its requests")
    parser.add_argument("--endpoint-file", help="JSON written by deploy.py (what the release replaced); a missing "
                        "file means the release failed before deploying")
    return parser


def endpoint_info(path: str | None) -> dict[str, Any]:
    if not path or not Path(path).is_file():
        return {}
    info: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return info


def undo_in_place(args: argparse.Namespace, info: dict[str, Any]) -> int:
    """Rolling and direct releases update the stable deployment itself: put back what it served before."""
    if not info:
        print(f"no endpoint file: the release failed before deploying, {args.stable_deployment} is unchanged")
        return 0
    previous = info.get("previous")
    if backend_of(args) == "local":
        import local_target

        local_target.restore(args.workdir, args.endpoint_name, args.stable_deployment, previous)
        return 0
    if args.target == "azureml_online_endpoint":
        import azureml_target
        from support import ml_client

        azureml_target.rollback(ml_client(args), args.endpoint_name, args.stable_deployment,
                                args.stable_deployment, previous, str((info.get("model") or {}).get("name", "")))
        return 0
    if args.target == "aks":
        import aks_target

        kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
        kubectl = aks_target.Kubectl(aks_target.namespace_of(args.namespace), kubeconfig)
        if info.get("first_release"):  # nothing served before: `rollout undo` has no revision to go back to
            kubectl.run("delete", "deployment", args.stable_deployment, "--ignore-not-found")
            print(f"{args.stable_deployment} had nothing before this release: removed")
            return 0
        kubectl.run("rollout", "undo", f"deployment/{args.stable_deployment}")
        kubectl.rollout(args.stable_deployment)
        print(f"rolled {args.stable_deployment} back to its previous revision")
        return 0
    import aci_target

    if previous and previous.get("image"):  # deploy.py recorded the container group it replaced
        aci_target.create(args.resource_group, args.stable_deployment, previous["image"], str(previous["version"]),
                          previous["location"], previous["size"])
        print(f"restored {previous['image']} (model version {previous['version']}) on {args.stable_deployment}")
    else:
        aci_target.delete(args.resource_group, args.stable_deployment)
        print(f"{args.stable_deployment} had nothing before this release: removed")
    return 0


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    info = endpoint_info(args.endpoint_file)
    if args.candidate_deployment == args.stable_deployment:
        return undo_in_place(args, info)
    if backend_of(args) == "local":
        import local_target

        local_target.rollback(args.workdir, args.endpoint_name, args.stable_deployment, args.candidate_deployment)
    elif args.target == "aks":
        import aks_target

        kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
        kubectl = aks_target.Kubectl(aks_target.namespace_of(args.namespace), kubeconfig)
        manifests = aks_target.load_manifests(args.manifests) if args.manifests else None
        aks_target.rollback(kubectl, args.candidate_deployment, manifests)
    elif args.target == "azureml_online_endpoint":
        import azureml_target
        from support import ml_client

        azureml_target.rollback(ml_client(args), args.endpoint_name, args.stable_deployment,
                                args.candidate_deployment)
    else:
        import aci_target

        aci_target.delete(args.resource_group, args.candidate_deployment)
    print(f"rolled back {args.endpoint_name}: all traffic on {args.stable_deployment}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
