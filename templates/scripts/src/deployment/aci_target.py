"""Azure Container Instances through the Azure CLI (`az container`), for pre-production environments.

One container group per deployment, pulling the serving image with a user-assigned managed identity that has
AcrPull on the registry ($ACI_ACR_IDENTITY: its resource id); no registry password. ACI has no traffic split,
so a canary is a second group tested on its own address, and promotion recreates the stable group with the
candidate's image. The group gets a public DNS name: keep ACI for test environments.
"""

from __future__ import annotations

import json
import os
from typing import Any

from support import SERVING_PORT, DeployError, run

# CPU cores and memory (GB) when config/pipeline.yaml gives no container_size for the environment.
DEFAULT_SIZE = {"cpu": 1.0, "memory_gb": 1.5}


def show(resource_group: str, name: str) -> dict[str, Any] | None:
    result = run(["az", "container", "show", "--resource-group", resource_group, "--name", name, "-o", "json",
                  "--only-show-errors"], capture=True, check=False)
    if result.returncode != 0:
        return None
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def create(resource_group: str, name: str, image: str, version: str, location: str,
           size: dict[str, float]) -> str:
    identity = os.environ.get("ACI_ACR_IDENTITY")
    if not identity:
        raise DeployError("set ACI_ACR_IDENTITY to the resource id of a managed identity with AcrPull (a pipeline "
                          "variable in Azure DevOps, a repository or environment variable on GitHub)")
    registry = image.split("/", 1)[0]
    run(["az", "container", "create", "--resource-group", resource_group, "--name", name, "--image", image,
         "--location", location, "--os-type", "Linux", "--restart-policy", "Always",
         "--cpu", str(size["cpu"]), "--memory", str(size["memory_gb"]), "--ports", str(SERVING_PORT),
         "--ip-address", "Public", "--dns-name-label", name,
         "--assign-identity", identity, "--acr-identity", identity, "--registry-login-server", registry,
         "--environment-variables", f"MODEL_VERSION={version}", f"PORT={SERVING_PORT}",
         "--only-show-errors", "-o", "none"])
    group = show(resource_group, name)
    fqdn = (group or {}).get("ipAddress", {}).get("fqdn")
    if not fqdn:
        raise DeployError(f"container group {name} has no public address")
    return f"http://{fqdn}:{SERVING_PORT}"


def delete(resource_group: str, name: str) -> None:
    if show(resource_group, name) is not None:
        run(["az", "container", "delete", "--resource-group", resource_group, "--name", name, "--yes",
             "--only-show-errors", "-o", "none"])


def image_of(group: dict[str, Any]) -> tuple[str, str]:
    container = group["containers"][0]
    env = {item["name"]: item.get("value") for item in container.get("environmentVariables", [])}
    return container["image"], str(env.get("MODEL_VERSION") or "")


def size_of(group: dict[str, Any]) -> dict[str, float]:
    asked = group["containers"][0].get("resources", {}).get("requests", {})
    return {"cpu": float(asked.get("cpu", DEFAULT_SIZE["cpu"])),
            "memory_gb": float(asked.get("memoryInGb", DEFAULT_SIZE["memory_gb"]))}


def route(base: str) -> dict[str, str]:
    return {"url": f"{base}/predict", "health_url": f"{base}/health"}
