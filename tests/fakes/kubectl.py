"""A stand-in for kubectl, enough for the generated aks_target.py and pod_traffic.py: get/apply/patch/scale/
delete/rollout/logs/port-forward on a JSON file.

State lives in $FAKE_KUBE_STATE: {"objects": {"<Kind>/<name>": object}, "calls": [[args...], ...],
"pods": [{"name", "labels", "started": bool, "gone": bool, "restarts": n, "restarts_later": n}, ...],
"logs": [{"pod": name, "time": RFC 3339, "line": text}, ...]}.
Deployments report every replica ready; rollouts succeed at once. As documented:
- RFC 6902: "replace" and "remove" need their target to exist, "add" sets an existing member, "test" fails the
  whole patch when the value differs;
- an HTTPRoute's metadata.generation grows with each spec change, and the Gateway's controller reports Accepted
  and ResolvedRefs for that generation in status.parents (Gateway API RouteParentStatus); with
  $FAKE_ROUTE_REFUSED the listener does not admit it (Accepted False, NotAllowedByListeners);
- without the Gateway API ($FAKE_NO_GATEWAY_API) the server "doesn't have a resource type" httproute; with
  $FAKE_FORBID_ROUTE the identity may not read or change routes (Forbidden);
- `auth can-i` exits 1 for what $FAKE_DENY lists ("verb resource[/subresource]", comma-separated), else 0;
- `kubectl logs POD` of a container not started yet fails ("is waiting to start: ContainerCreating"), of a pod
  that no longer exists fails (NotFound); --since-time keeps lines at or after it, --timestamps prefixes each.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

KINDS = {"deployment": "Deployment", "service": "Service", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
         "poddisruptionbudget": "PodDisruptionBudget", "httproute.gateway.networking.k8s.io": "HTTPRoute"}
ROUTE_KIND = "httproute.gateway.networking.k8s.io"


class Refused(Exception):
    pass


def merge(target: dict[str, Any], patch: dict[str, Any], strategic: bool = False) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value, strategic)
        elif strategic and isinstance(value, list) and isinstance(target.get(key), list) \
                and all(isinstance(item, dict) and "name" in item for item in value):
            by_name = {item["name"]: item for item in target[key]}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item, strategic)
                else:
                    target[key].append(item)
        else:
            target[key] = copy.deepcopy(value)


def json_patch(obj: dict[str, Any], operations: list[dict[str, Any]]) -> None:
    work = copy.deepcopy(obj)
    for op in operations:
        parts = [p.replace("~1", "/") for p in op["path"].strip("/").split("/")]
        parent: Any = work
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        last: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
        exists = last in parent if isinstance(parent, dict) else 0 <= last < len(parent)
        if op["op"] in ("remove", "replace", "test") and not exists:
            raise Refused(f"the server rejected our request due to an error in our request (path {op['path']} "
                          "does not exist)")
        if op["op"] == "test":
            if parent[last] != op["value"]:
                raise Refused(f"the server rejected our request: test operation failed at {op['path']}")
        elif op["op"] == "remove":
            del parent[last]
        else:
            parent[last] = op["value"]
    obj.clear()
    obj.update(work)


def route_status(route: dict[str, Any], previous: dict[str, Any] | None) -> None:
    """What a Gateway controller does with a route: a new generation for a new spec, then its verdict."""
    generation = int((previous or {}).get("metadata", {}).get("generation") or 0)
    if previous is None or previous.get("spec") != route.get("spec"):
        generation += 1
    route["metadata"]["generation"] = generation
    refused = bool(os.environ.get("FAKE_ROUTE_REFUSED"))
    parents = []
    for ref in route["spec"].get("parentRefs", []):
        accepted = {"type": "Accepted", "status": "False" if refused else "True", "observedGeneration": generation,
                    "reason": "NotAllowedByListeners" if refused else "Accepted",
                    "message": "no listener admits routes from this namespace" if refused else ""}
        resolved = {"type": "ResolvedRefs", "status": "True", "observedGeneration": generation,
                    "reason": "ResolvedRefs", "message": ""}
        parents.append({"parentRef": ref, "controllerName": "example.com/gateway", "conditions": [accepted, resolved]})
    route["status"] = {"parents": parents}


def get_pods(state: dict[str, Any], selector: str) -> dict[str, Any]:
    wanted = dict(pair.split("=", 1) for pair in selector.split(",")) if selector else {}
    state["pod_lists"] = state.get("pod_lists", 0) + 1
    items = []
    for pod in state.get("pods", []):
        if not all(pod["labels"].get(k) == v for k, v in wanted.items()):
            continue
        restarts = pod.get("restarts_later", pod.get("restarts", 0)) if state["pod_lists"] > 1 else pod.get(
            "restarts", 0)
        running = {"running": {"startedAt": "2000-01-01T00:00:00Z"}}
        waiting = {"waiting": {"reason": "ContainerCreating"}}
        items.append({"metadata": {"name": pod["name"], "labels": pod["labels"]}, "status": {"containerStatuses": [
            {"name": "serving", "restartCount": restarts, "state": running if pod.get("started", True) else waiting}]}})
    return {"kind": "List", "items": items}


def logs(state: dict[str, Any], args: list[str]) -> str:
    pod_name = args[1]
    pod = next((p for p in state.get("pods", []) if p["name"] == pod_name), None)
    if pod is None or pod.get("gone"):
        raise Refused(f'Error from server (NotFound): pods "{pod_name}" not found')
    if not pod.get("started", True):
        raise Refused(f'Error from server (BadRequest): container "serving" in pod "{pod_name}" is waiting to start: '
                      "ContainerCreating")
    since = next((a.split("=", 1)[1] for a in args if a.startswith("--since-time=")), "")
    lines = [entry for entry in state.get("logs", []) if entry["pod"] == pod_name and entry["time"] >= since]
    stamp = "--timestamps" in args
    return "\n".join((f"{e['time']} " if stamp else "") + e["line"] for e in lines)


def main(argv: list[str]) -> int:
    state_path = Path(os.environ["FAKE_KUBE_STATE"])
    state = json.loads(state_path.read_text()) if state_path.exists() else {"objects": {}, "calls": []}
    args = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--kubeconfig", "--namespace"):
            skip = True
            continue
        args.append(arg)
    state["calls"].append(args)
    objects = state["objects"]
    verb = args[0]
    if verb == "port-forward":
        # Like kubectl: announce the local port, then forward until terminated (to $FAKE_FORWARD_PORT's server).
        state_path.write_text(json.dumps(state, indent=1))
        print(f"Forwarding from 127.0.0.1:{os.environ['FAKE_FORWARD_PORT']} -> 8080", flush=True)
        time.sleep(3600)
        return 0
    try:
        if ROUTE_KIND in args[:2] and os.environ.get("FAKE_NO_GATEWAY_API"):
            raise Refused('error: the server doesn\'t have a resource type "httproute"')
        if ROUTE_KIND in args[:2] and os.environ.get("FAKE_FORBID_ROUTE"):
            raise Refused(f'Error from server (Forbidden): httproutes.gateway.networking.k8s.io "{args[2]}" is '
                          'forbidden: User cannot get resource "httproutes" in API group "gateway.networking.k8s.io"')
        run(state, objects, verb, args)
    except Refused as exc:
        state_path.write_text(json.dumps(state, indent=1))
        print(str(exc), file=sys.stderr)
        return 1
    state_path.write_text(json.dumps(state, indent=1))
    return 0


def run(state: dict[str, Any], objects: dict[str, Any], verb: str, args: list[str]) -> None:
    if verb == "get" and args[1] == "pods":
        print(json.dumps(get_pods(state, args[args.index("--selector") + 1])))
    elif verb == "get":
        key = f"{KINDS[args[1]]}/{args[2]}"
        if key in objects:
            obj = copy.deepcopy(objects[key])
            if obj["kind"] == "Deployment":
                obj["status"] = {"readyReplicas": obj["spec"].get("replicas", 1)}
            print(json.dumps(obj))
    elif verb == "apply":
        for item in json.loads(sys.stdin.read())["items"]:
            if item["kind"] == "HTTPRoute" and os.environ.get("FAKE_NO_GATEWAY_API"):
                raise Refused('error: resource mapping not found for kind "HTTPRoute" in version '
                              '"gateway.networking.k8s.io/v1"; ensure CRDs are installed first')
            key = f"{item['kind']}/{item['metadata']['name']}"
            previous = objects.get(key)
            if item["kind"] == "Deployment" and "replicas" not in item["spec"]:
                item["spec"]["replicas"] = previous["spec"].get("replicas", 1) if previous else 1
            if item["kind"] == "HTTPRoute":
                route_status(item, previous)
            objects[key] = item
            print(f"{key.lower()} configured")
    elif verb == "patch":
        key = f"{KINDS[args[1]]}/{args[2]}"
        kind = args[args.index("--type") + 1]
        patch = json.loads(args[args.index("-p") + 1])
        previous = copy.deepcopy(objects[key])
        if kind == "json":
            json_patch(objects[key], patch)
        else:
            merge(objects[key], patch, strategic=kind == "strategic")
        if objects[key]["kind"] == "HTTPRoute":
            route_status(objects[key], previous)
    elif verb == "scale":
        name = args[1].split("/", 1)[1]
        replicas = int(next(a for a in args if a.startswith("--replicas=")).split("=", 1)[1])
        objects[f"Deployment/{name}"]["spec"]["replicas"] = replicas
    elif verb == "delete":
        key = f"{KINDS[args[1]]}/{args[2]}"
        if key not in objects and "--ignore-not-found" not in args:
            raise Refused(f"Error from server (NotFound): {args[1]} {args[2]} not found")
        objects.pop(key, None)
    elif verb == "logs":
        print(logs(state, args))
    elif verb == "auth":
        # `kubectl auth can-i VERB RESOURCE [--subresource=S] --quiet`: exit 0 when allowed, 1 when not.
        verb_asked, resource = args[2], args[3]
        sub = next((a.split("=", 1)[1] for a in args if a.startswith("--subresource=")), "")
        denied = [item.strip() for item in os.environ.get("FAKE_DENY", "").split(",") if item.strip()]
        if f"{verb_asked} {resource}" + (f"/{sub}" if sub else "") in denied:
            raise Refused("")
    elif verb == "rollout":
        print(f"{args[2]} successfully rolled out")
    else:
        raise Refused(f"fake kubectl: unsupported {args}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
