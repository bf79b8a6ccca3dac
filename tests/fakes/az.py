"""A stand-in for the Azure CLI's `az container create|show|delete` (container groups kept in a JSON file) and
`az aks get-credentials`.

State lives in $FAKE_AZ_STATE: {"groups": {"<name>": group}, "calls": [[args...], ...]}.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def main(args: list[str]) -> int:
    state_path = Path(os.environ["FAKE_AZ_STATE"])
    state = json.loads(state_path.read_text()) if state_path.exists() else {"groups": {}, "calls": []}
    state["calls"].append(args)
    groups = state["groups"]
    code = 0
    if args[:2] == ["container", "create"]:
        name = option(args, "--name")
        env_start = args.index("--environment-variables") + 1
        env_vars = [a for a in args[env_start:] if "=" in a and not a.startswith("--")]
        groups[name] = {
            "name": name, "location": option(args, "--location"),
            "ipAddress": {"fqdn": f"{option(args, '--dns-name-label')}.{option(args, '--location')}.azurecontainer.io"},
            "containers": [{"image": option(args, "--image"),
                            "resources": {"requests": {"cpu": float(option(args, "--cpu")),
                                                       "memoryInGb": float(option(args, "--memory"))}},
                            "environmentVariables": [{"name": k, "value": v} for k, _, v in
                                                     (item.partition("=") for item in env_vars)]}]}
    elif args[:2] == ["container", "show"]:
        name = option(args, "--name")
        if name in groups:
            print(json.dumps(groups[name]))
        else:
            print(f"ERROR: container group {name} not found", file=sys.stderr)
            code = 3
    elif args[:2] == ["aks", "get-credentials"]:
        # What `az aks get-credentials` writes: a client certificate for a cluster with local accounts, the
        # kubelogin exec plugin for a cluster with Entra ID (Azure RBAC) when FAKE_AKS_ENTRA is set.
        user: dict[str, object] = {"client-certificate-data": "Y2VydA=="}
        if os.environ.get("FAKE_AKS_ENTRA"):
            user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin",
                             "args": ["get-token", "--login", "devicecode", "--server-id", "6dae42f8"]}}
        cluster = option(args, "--name")
        Path(option(args, "--file")).write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": cluster,
            "clusters": [{"name": cluster, "cluster": {"server": f"https://{cluster}.hcp.example:443"}}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": "user"}}],
            "users": [{"name": "user", "user": user}]}))
    elif args[:2] == ["container", "delete"]:
        groups.pop(option(args, "--name"), None)
    else:
        print(f"fake az: unsupported {args}", file=sys.stderr)
        code = 2
    state_path.write_text(json.dumps(state, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
