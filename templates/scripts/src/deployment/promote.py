#!/usr/bin/env python3
"""Promote a verified candidate: all traffic to it, its image onto the stable deployment, the candidate removed,
then the MLflow alias (e.g. production) set on the promoted model version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (
    DeployError,
    add_common_flags,
    add_release_flags,
    backend_of,
    configure_mlflow,
    guarded_main,
    read_version,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Shift all traffic to the candidate and move the model alias.")
    add_common_flags(parser)
    add_release_flags(parser)
    parser.add_argument("--manifests", help="the environment's Kubernetes manifests (aks): the stable Deployment is "
                        "created from them when a first release is promoted")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--alias", required=True, help="alias to set on the promoted version, e.g. production")
    parser.add_argument("--version-file", help="JSON from register_model.py; default: the version deployed")
    return parser


def shift(args: argparse.Namespace) -> str | None:
    """Move the candidate onto the stable deployment; returns the model version it serves, when known."""
    if args.candidate_deployment == args.stable_deployment:
        print(f"{args.stable_deployment} already serves the release (updated in place)")
        return None
    if backend_of(args) == "local":
        import local_target

        state = local_target.promote(args.workdir, args.endpoint_name, args.stable_deployment,
                                     args.candidate_deployment)
        return str(state["version"]) if state else None
    if args.target == "aks":
        import aks_target

        kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
        manifests = aks_target.load_manifests(args.manifests) if args.manifests else None
        return aks_target.promote(aks_target.Kubectl(aks_target.namespace_of(args.namespace), kubeconfig),
                                  args.stable_deployment, args.candidate_deployment, manifests)
    if args.target == "azureml_online_endpoint":
        import azureml_target
        from support import ml_client

        return azureml_target.promote(ml_client(args), args.endpoint_name, args.stable_deployment,
                                      args.candidate_deployment, args.model_name)
    import aci_target

    candidate = aci_target.show(args.resource_group, args.candidate_deployment)
    if candidate is None:
        stable = aci_target.show(args.resource_group, args.stable_deployment)
        return aci_target.image_of(stable)[1] if stable else None
    image, version = aci_target.image_of(candidate)
    aci_target.create(args.resource_group, args.stable_deployment, image, version, candidate["location"],
                      aci_target.size_of(candidate))
    aci_target.delete(args.resource_group, args.candidate_deployment)
    return version


def set_alias(args: argparse.Namespace, version: str) -> None:
    """Through the registry module, like promote_model.py: a registry that refuses aliases (Azure ML's MLflow
    server has not always served them) still gets the alias as the version tag every reader falls back to."""
    from common.registry import client
    from common.registry import set_alias as point

    configure_mlflow(args)
    point(client(), args.model_name, args.alias, version)
    print(f"alias {args.alias} -> {args.model_name} version {version}")


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    served = shift(args)
    version = read_version(args.version_file) or served
    if not version:
        raise DeployError("cannot tell which model version was promoted: pass --version-file")
    if served and version != served:
        raise DeployError(f"the deployment serves version {served}, the version file says {version}")
    set_alias(args, version)
    print(f"promoted {args.model_name} version {version} on {args.endpoint_name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
