"""A stand-in for kubectl, enough for the generated aks_target.py: get/apply/patch/scale/delete/rollout on a JSON
file.

State lives in $FAKE_KUBE_STATE: {"objects": {"<Kind>/<name>": object}, "calls": [[args...], ...]}.
Deployments report every replica ready; rollouts succeed at once.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

KINDS = {"deployment": "Deployment", "service": "Service", "horizontalpodautoscaler": "HorizontalPodAutoscaler",
         "poddisruptionbudget": "PodDisruptionBudget"}


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
                parent = objects[key]
                for part in parts[:-1]:
                    parent = parent[part]
                if op["op"] == "remove":
                    del parent[parts[-1]]
                else:
                    parent[parts[-1]] = op["value"]
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
    elif verb == "rollout":
        print(f"{args[2]} successfully rolled out")
    else:
        print(f"fake kubectl: unsupported {args}", file=sys.stderr)
        return 1
    state_path.write_text(json.dumps(state, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
