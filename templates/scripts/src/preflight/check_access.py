#!/usr/bin/env python3
"""Check, before a job's work starts, that its Azure identity holds the roles that work needs, and name each
missing role with its scope (exit 2) instead of failing minutes later with a raw 403.

Reads the identity's effective permissions at each scope from Azure Resource Manager ("Permissions - List For
Resource" / "List For Resource Group": GET <scope>/providers/Microsoft.Authorization/permissions, api-version
2022-04-01): the actions and data actions of every role assignment that applies there, inherited ones included.
An action is held when one entry's actions match it (`*` matches any text) and the same entry's notActions do not.
Blob data access is only warned about: it may be granted on the data's container, which the account's list does
not show. The local backend needs no roles: it says so and exits 0.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import (
    ScriptError,
    add_common_arguments,
    backend_of,
    describe,
    guarded,
    ml_client,
    workspace_coordinates,
)

API_VERSION = "2022-04-01"
ARM = "https://management.azure.com"  # AZURE_RESOURCE_MANAGER_ENDPOINT overrides it (sovereign clouds)
SETUP = "the model README's 'Azure identity and roles'"


class Need(NamedTuple):
    role: str  # the built-in role that grants it, as the README assigns it
    scope: str  # workspace | registry_workspace | storage | cluster | resource_group
    action: str
    data: bool = False  # a data action (blob reads), not a control-plane action


# What each kind of work needs, one representative action per role (AzureML Data Scientist grants
# Microsoft.MachineLearningServices/workspaces/*/write but not workspaces/write; Storage Blob Data Reader the blob
# read data action; the AKS Cluster User Role listClusterUserCredential; Contributor container groups).
NEEDS: dict[str, tuple[Need, ...]] = {
    "training": (Need("AzureML Data Scientist", "workspace",
                      "Microsoft.MachineLearningServices/workspaces/jobs/write"),),
    "data": (Need("Storage Blob Data Reader", "storage",
                  "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", data=True),),
    "registry": (Need("AzureML Data Scientist", "registry_workspace",
                      "Microsoft.MachineLearningServices/workspaces/models/write"),),
    "endpoint": (Need("AzureML Data Scientist", "workspace",
                      "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments/write"),),
    "aks": (Need("Azure Kubernetes Service Cluster User Role", "cluster",
                 "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action"),),
    "aci": (Need("Contributor", "resource_group", "Microsoft.ContainerInstance/containerGroups/write"),),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--need", action="append", required=True, choices=sorted(NEEDS),
                        help="work the job does: its roles are checked (repeatable)")
    parser.add_argument("--cluster", help="AKS cluster (--need aks), in --resource-group")
    return add_common_arguments(parser)


def _matches(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in patterns)


def holds(permissions: list[dict[str, Any]], need: Need) -> bool:
    """Whether one permission entry grants the action without excluding it (Azure RBAC's rule for one role)."""
    allow, deny = ("dataActions", "notDataActions") if need.data else ("actions", "notActions")
    return any(_matches(entry.get(allow) or [], need.action) and not _matches(entry.get(deny) or [], need.action)
               for entry in permissions)


def _arm() -> str:
    return os.environ.get("AZURE_RESOURCE_MANAGER_ENDPOINT", ARM).rstrip("/")


def _token() -> str:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise ScriptError("the azure backend needs the Azure SDKs: pip install -r requirements-azure.txt") from None

    return str(DefaultAzureCredential().get_token(f"{_arm()}/.default").token)


def permissions_at(scope: str, token: str) -> list[dict[str, Any]] | None:
    """Every permission entry the caller has at `scope`, following nextLink pages; None when Resource Manager
    refuses to say (HTTP 403: the identity holds no role there that lets it read even its own permissions)."""
    url: str | None = f"{_arm()}{scope}/providers/Microsoft.Authorization/permissions?api-version={API_VERSION}"
    found: list[dict[str, Any]] = []
    while url:
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310  # nosec B310
                page = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            if exc.code == 403:
                return None
            if exc.code == 404:
                raise ScriptError(f"{scope} does not exist: check the spec's Azure coordinates") from None
            raise ScriptError(f"reading the identity's permissions at {scope} failed: HTTP {exc.code}") from None
        found.extend(page.get("value") or [])
        url = page.get("nextLink")
    return found


def _complete(args: argparse.Namespace, registry: bool) -> tuple[str, str, str]:
    subscription, group, workspace = workspace_coordinates(args, registry)
    if not subscription:
        subscription = ml_client(args, registry).subscription_id  # the Azure CLI's, as the scripts use it
    if not (subscription and group and workspace):
        raise ScriptError("the azure backend needs --subscription-id, --resource-group and --workspace")
    return str(subscription), str(group), str(workspace)


def _workspace_id(subscription: str, group: str, workspace: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
            f"Microsoft.MachineLearningServices/workspaces/{workspace}")


def scopes(args: argparse.Namespace, needed: set[str]) -> dict[str, str]:
    """The Resource Manager id of each scope the needs name but the storage account, from the coordinates."""
    subscription, group, workspace = _complete(args, registry=False)
    out = {"resource_group": f"/subscriptions/{subscription}/resourceGroups/{group}",
           "workspace": _workspace_id(subscription, group, workspace)}
    if needed & {"registry_workspace", "storage"}:
        out["registry_workspace"] = _workspace_id(*_complete(args, registry=True))
    if "cluster" in needed:
        if not args.cluster:
            raise ScriptError("--need aks needs --cluster")
        out["cluster"] = f"{out['resource_group']}/providers/Microsoft.ContainerService/managedClusters/{args.cluster}"
    return out


def storage_account(args: argparse.Namespace) -> str:
    """The registry workspace's default storage account (where its data assets are), as Azure ML reports it."""
    client = ml_client(args, registry=True)
    try:
        found = client.workspaces.get(client.workspace_name).storage_account
    except Exception as exc:  # the SDK raises HttpResponseError subclasses; any of them means "cannot tell"
        raise ScriptError(f"cannot read workspace {client.workspace_name} to find its storage account "
                          f"({type(exc).__name__}): the identity needs 'AzureML Data Scientist' there") from None
    if not found:
        raise ScriptError(f"workspace {client.workspace_name} names no storage account")
    return str(found)


def missing(needs: list[Need], where: dict[str, str], token: str) -> list[str]:
    """One line per role the identity lacks, naming the role, the scope and the action it was checked by."""
    cache: dict[str, list[dict[str, Any]] | None] = {}
    lines = []
    for need in needs:
        scope = where[need.scope]
        if scope not in cache:
            cache[scope] = permissions_at(scope, token)
        held = cache[scope]
        if held is None:
            lines.append(f"missing role {need.role!r} on {scope} (the identity may not even read its "
                         "permissions there: HTTP 403)")
        elif not holds(held, need):
            kind = "data action" if need.data else "action"
            lines.append(f"missing role {need.role!r} on {scope} (checked by the {kind} {need.action})")
    return lines


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if backend_of(args) != "azure":
        print("local backend: no Azure roles to check")
        return 0
    needs = list(dict.fromkeys(need for kind in args.need for need in NEEDS[kind]))
    where = scopes(args, {need.scope for need in needs})
    token = _token()
    lines = missing([need for need in needs if need.scope != "storage"], where, token)
    storage = [need for need in needs if need.scope == "storage"]
    if storage:
        # Only a warning: the data may sit on another datastore's account, and a grant scoped to its container
        # (or carrying an ABAC condition) does not show at the account; the data validation step reads the data
        # itself and names the role on a 403 (common.backend.download_data_asset).
        try:
            doubts = missing(storage, {**where, "storage": storage_account(args)}, token)
        except ScriptError as exc:
            doubts = [str(exc)]
        for line in doubts:
            print(f"warning: {line} (not confirmed at the account: a grant on the data's container counts too)",
                  file=sys.stderr)
    for line in lines:
        print(f"error: {line}", file=sys.stderr)
    if lines:
        print(f"assign the missing roles to this pipeline's identity as {SETUP} shows, then run again",
              file=sys.stderr)
        return 2
    print(f"the identity holds every role this job needs ({', '.join(sorted(set(args.need)))})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
