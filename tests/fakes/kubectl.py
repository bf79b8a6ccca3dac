"""A stand-in for kubectl, enough for the generated aks_target.py and pod_traffic.py: get/apply/patch/scale/
delete/rollout/logs on a JSON file.

State lives in $FAKE_KUBE_STATE: {"objects": {"<Kind>/<name>": object}, "calls": [[args...], ...],
"logs": [{"pod": name, "labels": {...}, "time": RFC 3339, "line": text}, ...]}.
Deployments report every replica ready; rollouts succeed at once. As documented:
- a JSON patch "replace" needs its target to exist (RFC 6902 section 4.3): an HTTPRoute backendRef without a
  weight cannot have one replaced;
- `logs --selector` prints only the last 10 lines of each pod unless --tail says otherwise ("--tail: defaults to
  -1 with no selector, showing all log lines otherwise 10, if a selector is provided", kubectl logs --help).
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
SELECTOR_TAIL = 10


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


def _option(args: list[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
        if arg == name and index + 1 < len(args):
            return args[index + 1]
    return None


def logs(entries: list[dict[str, Any]], args: list[str]) -> str:
    selector = _option(args, "--selector") or _option(args, "-l")
    wanted = dict(pair.split("=", 1) for pair in selector.split(",")) if selector else {}
    since = _option(args, "--since-time") or ""
    tail = _option(args, "--tail")
    limit = int(tail) if tail is not None else (SELECTOR_TAIL if selector else -1)
    by_pod: dict[str, list[str]] = {}
    for entry in entries:
        if all(entry["labels"].get(k) == v for k, v in wanted.items()) and entry["time"] >= since:
            prefix = f"[pod/{entry['pod']}/serving] " if "--prefix" in args else ""
            by_pod.setdefault(entry["pod"], []).append(prefix + entry["line"])
    lines = []
    for pod in sorted(by_pod):
        lines += by_pod[pod][max(0, len(by_pod[pod]) - limit):] if limit >= 0 else by_pod[pod]
    return "\n".join(lines)


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
    if verb == "get":
        key = f"{KINDS[args[1]]}/{args[2]}"
        if key in objects:
            obj = copy.deepcopy(objects[key])
            if obj["kind"] == "Deployment":
                obj["status"] = {"readyReplicas": obj["spec"].get("replicas", 1)}
            print(json.dumps(obj))
    elif verb == "apply":
        for item in json.loads(sys.stdin.read())["items"]:
            key = f"{item['kind']}/{item['metadata']['name']}"
            previous = objects.get(key)
            if item["kind"] == "Deployment" and "replicas" not in item["spec"]:
                item["spec"]["replicas"] = previous["spec"].get("replicas", 1) if previous else 1
            objects[key] = item
            print(f"{key.lower()} configured")
    elif verb == "patch":
        key = f"{KINDS[args[1]]}/{args[2]}"
        kind = args[args.index("--type") + 1]
        patch = json.loads(args[args.index("-p") + 1])
        if kind == "json":
            for op in patch:
                parts = [p.replace("~1", "/") for p in op["path"].strip("/").split("/")]
                parent: Any = objects[key]
                for part in parts[:-1]:
                    parent = parent[int(part)] if isinstance(parent, list) else parent[part]
                last: Any = int(parts[-1]) if isinstance(parent, list) else parts[-1]
                if op["op"] in ("remove", "replace") and (
                        last not in parent if isinstance(parent, dict) else not 0 <= last < len(parent)):
                    print(f'The request is invalid: the server rejected our request due to an error in our '
                          f'request (path {op["path"]} does not exist)', file=sys.stderr)
                    return 1
                if op["op"] == "remove":
                    del parent[last]
                else:
                    parent[last] = op["value"]
        else:
            merge(objects[key], patch, strategic=kind == "strategic")
    elif verb == "scale":
        name = args[1].split("/", 1)[1]
        replicas = int(next(a for a in args if a.startswith("--replicas=")).split("=", 1)[1])
        objects[f"Deployment/{name}"]["spec"]["replicas"] = replicas
    elif verb == "delete":
        key = f"{KINDS[args[1]]}/{args[2]}"
        if key not in objects and "--ignore-not-found" not in args:
            print(f"Error from server (NotFound): {args[1]} {args[2]} not found", file=sys.stderr)
            return 1
        objects.pop(key, None)
    elif verb == "logs":
        print(logs(state.get("logs", []), args))
    elif verb == "rollout":
        print(f"{args[2]} successfully rolled out")
    else:
        print(f"fake kubectl: unsupported {args}", file=sys.stderr)
        return 1
    state_path.write_text(json.dumps(state, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
