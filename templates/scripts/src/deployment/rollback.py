#!/usr/bin/env python3
"""Roll back a canary or blue-green release: all traffic to the stable deployment, the candidate removed.

The production alias is untouched (it only moves when promote.py succeeds), so nothing else needs undoing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import add_common_flags, backend_of, guarded_main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Send all traffic back to the stable deployment.")
    add_common_flags(parser)
    parser.add_argument("--target", required=True, choices=["azureml_online_endpoint", "aks", "aci"])
    parser.add_argument("--endpoint-name", required=True)
    parser.add_argument("--stable-deployment", required=True)
    parser.add_argument("--candidate-deployment", required=True)
    parser.add_argument("--namespace", help="Kubernetes namespace (aks)")
    parser.add_argument("--cluster", help="AKS cluster name (aks)")
    return parser


def undo_in_place(args: argparse.Namespace) -> int:
    """Rolling and direct releases update the stable deployment itself: only Kubernetes keeps the previous one."""
    if backend_of(args) != "local" and args.target == "aks":
        import aks_target

        kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
        kubectl = aks_target.Kubectl(aks_target.namespace_of(args.namespace), kubeconfig)
        kubectl.run("rollout", "undo", f"deployment/{args.stable_deployment}")
        kubectl.rollout(args.stable_deployment)
        print(f"rolled {args.stable_deployment} back to its previous revision")
        return 0
    print(f"{args.stable_deployment} was updated in place and {args.target} keeps no previous revision: "
          "redeploy the previous model version to roll back")
    return 1


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    if args.candidate_deployment == args.stable_deployment:
        return undo_in_place(args)
    if backend_of(args) == "local":
        import local_target

        local_target.stop(args.workdir, args.candidate_deployment)
    elif args.target == "aks":
        import aks_target

        kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
        kubectl = aks_target.Kubectl(aks_target.namespace_of(args.namespace), kubeconfig)
        aks_target.rollback(kubectl, args.candidate_deployment)
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
