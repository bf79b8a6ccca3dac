"""A stand-in for the Azure CLI's `az container create|show|delete`, keeping container groups in a JSON file.

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
    elif args[:2] == ["container", "delete"]:
        groups.pop(option(args, "--name"), None)
    else:
        print(f"fake az: unsupported {args}", file=sys.stderr)
        code = 2
    state_path.write_text(json.dumps(state, indent=1))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
