#!/usr/bin/env python3
"""Deploy a model version: Azure ML managed online endpoint, AKS (the generated manifests) or ACI, with the
candidate's share of traffic; `--backend local` serves it on 127.0.0.1 instead.

Writes --output, the endpoint file the tests, the monitor and the docs read:
{"name", "target", "environment", "url", "health_url", "auth", "deployment", "stable_deployment", "traffic",
 "model": {"name", "version"}, "image", ...}. No key or token is ever written or printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (
    TARGETS,
    DeployError,
    add_common_flags,
    backend_of,
    configure_mlflow,
    environment_settings,
    guarded_main,
    model_uri,
    percentage_of,
    resolve_version,
    write_json,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Deploy a registered model version and write the endpoint file.")
    add_common_flags(parser)
    parser.add_argument("--target", required=True, choices=TARGETS,
                        help="where to serve (ignored by --backend local, which serves on 127.0.0.1)")
    parser.add_argument("--environment", required=True, help="environment name from the spec")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--alias", help="MLflow alias of the version to deploy (when no --version-file)")
    parser.add_argument("--version-file", help="JSON from register_model.py naming the exact version")
    parser.add_argument("--endpoint-name", required=True, help="endpoint (Azure ML), service prefix or group name")
    parser.add_argument("--image", help="serving image with its model, e.g. <registry>.azurecr.io/<model>:<tag>")
    parser.add_argument("--deployment-name", help="deployment to create or update (default: the stable one)")
    parser.add_argument("--traffic-percentage", help="share of traffic for the candidate deployment, 0-100")
    parser.add_argument("--namespace", help="Kubernetes namespace (aks)")
    parser.add_argument("--cluster", help="AKS cluster name; credentials via az aks get-credentials")
    parser.add_argument("--manifests", help="manifest folder (aks; default k8s/<environment>)")
    parser.add_argument("--instance-type", help="VM size (azureml_online_endpoint)")
    parser.add_argument("--instance-count", help="instances (azureml_online_endpoint)")
    parser.add_argument("--location", help="Azure region (aci)")
    parser.add_argument("--output", required=True, help="endpoint JSON file to write")
    return parser


def names(args: argparse.Namespace) -> tuple[str, str]:
    """The environment's stable and candidate deployment names (fixed per environment: see the README's rollout
    section), from config/pipeline.yaml."""
    known = environment_settings(args.environment).get("deployments") or {}
    return str(known.get("stable", "stable")), str(known.get("candidate", "canary"))


def deploy_local(args: argparse.Namespace, version: str) -> dict[str, Any]:
    """Serve the version on 127.0.0.1 behind the endpoint's local router, with the requested split. A first
    release (nothing stable yet) takes all traffic; an in-place update records what it replaced."""
    import local_target
    import mlflow

    os.environ["MLFLOW_TRACKING_URI"] = mlflow.get_tracking_uri()  # the scoring server reads the same registry

    stable, _ = names(args)
    endpoint = args.endpoint_name
    deployment = args.deployment_name or stable
    before = local_target.load(args.workdir, endpoint, stable)
    previous = ({"version": before["version"], "model_uri": before["model_uri"]}
                if before and deployment == stable else None)
    local_target.start(args.workdir, endpoint, deployment, model_uri(args.model_name, version), version)
    pct = percentage_of(args.traffic_percentage)
    traffic = {deployment: 100} if deployment == stable or before is None else \
        {stable: 100 - pct, deployment: pct}
    local_target.set_traffic(args.workdir, endpoint, traffic)
    return {**local_target.endpoint_urls(args.workdir, endpoint), "auth": "none", "deployment": deployment,
            "traffic": traffic, "first_release": before is None, "previous": previous}


def deploy_aks(args: argparse.Namespace, version: str) -> dict[str, Any]:
    import aks_target

    stable, candidate = names(args)
    kubeconfig = aks_target.credentials(args.cluster, args.resource_group, args.workdir)
    manifests = aks_target.load_manifests(args.manifests or f"k8s/{args.environment}")
    namespace = args.namespace or manifests[0]["metadata"].get("namespace") or "default"
    kubectl = aks_target.Kubectl(namespace, kubeconfig)
    result = aks_target.deploy(kubectl, manifests, stable, candidate, args.deployment_name or stable, args.image,
                               version, percentage_of(args.traffic_percentage))
    return {**aks_target.endpoint_info(namespace, kubeconfig, args.cluster, args.resource_group), **result}


def deploy_azureml(args: argparse.Namespace, version: str) -> dict[str, Any]:
    import azureml_target
    from support import ml_client

    stable, candidate = names(args)
    tags = {"model_name": args.model_name, "environment": args.environment}
    return azureml_target.deploy(
        ml_client(args), args.endpoint_name, stable, candidate, args.deployment_name or stable, args.image, version,
        args.model_name, args.instance_type or "Standard_DS3_v2", int(args.instance_count or 1),
        percentage_of(args.traffic_percentage), tags)


def deploy_aci(args: argparse.Namespace, version: str) -> dict[str, Any]:
    import aci_target

    stable, _ = names(args)
    deployment = args.deployment_name or stable
    if not args.location:
        raise DeployError("--location is required for target aci")
    size = environment_settings(args.environment).get("container_size") or aci_target.DEFAULT_SIZE
    before = aci_target.show(args.resource_group, deployment)
    # An in-place update replaces the container group: record what it ran, so a rollback can put it back.
    previous = None
    if before is not None and deployment == stable:
        image, was = aci_target.image_of(before)
        previous = {"image": image, "version": was, "location": before.get("location") or args.location,
                    "size": aci_target.size_of(before)}
    base = aci_target.create(args.resource_group, deployment, args.image, version, args.location, size)
    return {**aci_target.route(base), "auth": "none", "deployment": deployment, "traffic": {deployment: 100},
            "deployments": {deployment: aci_target.route(base)}, "first_release": before is None,
            "previous": previous}


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    local = backend_of(args) == "local"
    if local or not args.version_file:  # the registry is needed for these only
        configure_mlflow(args)
    version = resolve_version(args.model_name, args.alias, args.version_file)
    if local:
        target = "local"
        result = deploy_local(args, version)
    else:
        target = args.target
        if not args.image:
            raise DeployError(f"--image is required for target {target}")
        deploy = {"aks": deploy_aks, "azureml_online_endpoint": deploy_azureml, "aci": deploy_aci}[target]
        result = deploy(args, version)
    stable, _ = names(args)
    info = {"name": args.endpoint_name, "target": target, "environment": args.environment,
            "stable_deployment": stable, "model": {"name": args.model_name, "version": version},
            "image": args.image, **result}
    write_json(args.output, info)
    print(f"deployed {args.model_name} version {version} to {target} {args.endpoint_name}: {info['url']} "
          f"(deployment {info['deployment']}, traffic {info['traffic']})")
    return 0


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
