"""Azure ML managed online endpoints (azure-ai-ml v2), serving the same image as AKS and ACI.

The deployment runs the serving image as a custom container (routes /health and /predict on port 8080), so
every target answers the same request format and the same endpoint tests apply. The workspace's identity needs
AcrPull on the registry the image lives in. The endpoint uses Entra ID tokens (auth_mode aad_token): no key is
created, printed or stored. Deployment names are fixed (stable, canary): promotion moves the verified image
onto the stable deployment, so the pipeline always knows which name is which.

Every deployment is created with a data collector (the collections of serving/collection.py): the scoring app logs
each batch's inputs and predictions to it, Azure ML registers them as data assets, and the model monitor that
configure_monitoring.py sets up reads them as production data. Without it the monitor has nothing to compare.
"""

from __future__ import annotations

from typing import Any

from support import SERVING_PORT, DeployError

ROUTES = {"liveness_route": {"port": SERVING_PORT, "path": "/health"},
          "readiness_route": {"port": SERVING_PORT, "path": "/health"},
          "scoring_route": {"port": SERVING_PORT, "path": "/predict"}}


def _not_found() -> type[Exception]:
    from azure.core.exceptions import ResourceNotFoundError

    return ResourceNotFoundError


def get_endpoint(client: Any, name: str) -> Any:
    try:
        return client.online_endpoints.get(name)
    except _not_found():
        return None


def get_deployment(client: Any, endpoint: str, name: str) -> Any:
    try:
        return client.online_deployments.get(name=name, endpoint_name=endpoint)
    except _not_found():
        return None


def ensure_endpoint(client: Any, name: str, tags: dict[str, str]) -> Any:
    from azure.ai.ml.entities import ManagedOnlineEndpoint

    endpoint = get_endpoint(client, name)
    if endpoint is None:
        print(f"creating online endpoint {name}")
        endpoint = ManagedOnlineEndpoint(name=name, auth_mode="aad_token", tags=tags)
        endpoint = client.online_endpoints.begin_create_or_update(endpoint).result()
    return endpoint


def set_traffic(client: Any, name: str, traffic: dict[str, int]) -> None:
    endpoint = client.online_endpoints.get(name)
    endpoint.traffic = {key: value for key, value in traffic.items()}
    client.online_endpoints.begin_create_or_update(endpoint).result()
    print(f"traffic on {name}: {traffic}")


def _image_of(deployment: Any) -> str | None:
    environment = getattr(deployment, "environment", None)
    if isinstance(environment, str):
        environment = None
    return getattr(environment, "image", None)


def data_collector() -> Any:
    """Both collections on, every request (azure-ai-ml: DataCollector and DeploymentCollection, whose `enabled`
    is the string "true"; sampling_rate unset means all)."""
    from azure.ai.ml.entities import DataCollector, DeploymentCollection

    from serving.collection import COLLECTIONS  # src/ is on the path once support is imported

    return DataCollector(collections={name: DeploymentCollection(enabled="true") for name in COLLECTIONS})


def collects(deployment: Any) -> bool:
    """Whether a deployment already has every collection the app logs to enabled."""
    from serving.collection import COLLECTIONS

    collections = getattr(getattr(deployment, "data_collector", None), "collections", None) or {}
    return all(str(getattr(collections.get(name), "enabled", "")).lower() == "true" for name in COLLECTIONS)


def upsert_deployment(client: Any, endpoint: str, name: str, image: str, version: str, model_name: str,
                      instance_type: str, instance_count: int) -> None:
    from azure.ai.ml.entities import (
        Environment,
        ManagedOnlineDeployment,
        OnlineRequestSettings,
        ProbeSettings,
    )

    current = get_deployment(client, endpoint, name)
    if (current is not None and _image_of(current) == image and current.instance_count == instance_count
            and collects(current)):
        print(f"deployment {name} on {endpoint} already runs {image}")
        return
    environment = Environment(image=image, inference_config=ROUTES)  # anonymous: versioned with the deployment
    deployment = ManagedOnlineDeployment(
        name=name, endpoint_name=endpoint, environment=environment, instance_type=instance_type,
        instance_count=instance_count,
        environment_variables={"MODEL_VERSION": version, "PORT": str(SERVING_PORT)},
        tags={"model_name": model_name, "model_version": version, "image": image},
        liveness_probe=ProbeSettings(initial_delay=30, period=10, timeout=5, failure_threshold=6),
        readiness_probe=ProbeSettings(initial_delay=10, period=10, timeout=5, failure_threshold=3),
        request_settings=OnlineRequestSettings(request_timeout_ms=10000, max_concurrent_requests_per_instance=4),
        data_collector=data_collector(),
    )
    print(f"deploying {image} (model version {version}) as {name} on {endpoint}")
    client.online_deployments.begin_create_or_update(deployment).result()


def _version_of(deployment: Any) -> str:
    return str((getattr(deployment, "tags", None) or {}).get("model_version", ""))


def deploy(client: Any, endpoint_name: str, stable: str, candidate: str, deployment: str, image: str,
           version: str, model_name: str, instance_type: str, instance_count: int, percentage: int,
           tags: dict[str, str]) -> dict[str, Any]:
    """Create or update `deployment` and set the traffic split.

    A first release (no stable deployment yet) goes to the candidate alone, with all traffic: the monitor watches
    it, promotion moves it onto the stable deployment, a rollback removes it. An in-place update (rolling, direct)
    records the image and version it replaces, so a rollback can put them back.
    """
    ensure_endpoint(client, endpoint_name, tags)
    current_stable = get_deployment(client, endpoint_name, stable)
    previous = None
    if deployment == stable:
        if current_stable is not None:
            previous = {"image": _image_of(current_stable), "version": _version_of(current_stable),
                        "instance_type": current_stable.instance_type,
                        "instance_count": current_stable.instance_count}
        upsert_deployment(client, endpoint_name, stable, image, version, model_name, instance_type, instance_count)
        traffic = {stable: 100}
        if get_deployment(client, endpoint_name, candidate) is not None:
            traffic[candidate] = 0
    else:
        upsert_deployment(client, endpoint_name, candidate, image, version, model_name, instance_type,
                          instance_count)
        if current_stable is None:
            print(f"no stable deployment on {endpoint_name} yet: {candidate} takes all traffic until promoted")
            traffic = {candidate: 100}
        else:
            traffic = {stable: 100 - percentage, candidate: percentage}
    set_traffic(client, endpoint_name, traffic)
    endpoint = client.online_endpoints.get(endpoint_name)
    return {"deployment": deployment, "traffic": traffic, "url": endpoint.scoring_uri, "health_url": None,
            "auth": "aad" if endpoint.auth_mode == "aad_token" else "key", "first_release": current_stable is None,
            "previous": previous}


def delete_deployment(client: Any, endpoint_name: str, name: str) -> None:
    """Take `name` out of the traffic split, then delete it (Azure refuses to delete a deployment with traffic)."""
    if get_deployment(client, endpoint_name, name) is None:
        return
    endpoint = client.online_endpoints.get(endpoint_name)
    rest = {key: value for key, value in (endpoint.traffic or {}).items() if key != name}
    if rest and sum(rest.values()) != 100:
        rest = {key: 100 if index == 0 else 0 for index, key in enumerate(rest)}
    set_traffic(client, endpoint_name, rest)
    client.online_deployments.begin_delete(name=name, endpoint_name=endpoint_name).result()
    print(f"deleted deployment {name} from {endpoint_name}")


def rollback(client: Any, endpoint_name: str, stable: str, candidate: str,
             previous: dict[str, Any] | None = None, model_name: str = "") -> None:
    """Put back what served before this release: the stable deployment with all traffic (its previous image
    when the release updated it in place), and no candidate. With nothing stable before (a first release), what
    the release deployed is removed."""
    if candidate == stable:
        if previous and previous.get("image"):
            upsert_deployment(client, endpoint_name, stable, previous["image"], str(previous.get("version", "")),
                              model_name, previous.get("instance_type") or "Standard_DS3_v2",
                              int(previous.get("instance_count") or 1))
            set_traffic(client, endpoint_name, {stable: 100})
            print(f"restored {previous['image']} (model version {previous.get('version')}) on {stable}")
        else:
            delete_deployment(client, endpoint_name, stable)
        return
    if get_deployment(client, endpoint_name, stable) is not None:
        set_traffic(client, endpoint_name, {stable: 100, candidate: 0}
                    if get_deployment(client, endpoint_name, candidate) else {stable: 100})
    delete_deployment(client, endpoint_name, candidate)
    print(f"rolled back {endpoint_name}: "
          + (f"all traffic on {stable}" if get_deployment(client, endpoint_name, stable) else "nothing serves"))


def promote(client: Any, endpoint_name: str, stable: str, candidate: str, model_name: str) -> str | None:
    """All traffic to the candidate, its image onto stable, traffic back to stable, candidate deleted."""
    current = get_deployment(client, endpoint_name, candidate)
    if current is None:
        print(f"no candidate deployment {candidate}: nothing to move onto {stable}")
        live = get_deployment(client, endpoint_name, stable)
        return (live.tags or {}).get("model_version") if live else None
    image = _image_of(current)
    version = (current.tags or {}).get("model_version", "")
    if not image:
        raise DeployError(f"cannot tell which image {candidate} runs")
    if get_deployment(client, endpoint_name, stable) is not None:
        set_traffic(client, endpoint_name, {stable: 0, candidate: 100})
    upsert_deployment(client, endpoint_name, stable, image, version, model_name, current.instance_type,
                      current.instance_count)
    set_traffic(client, endpoint_name, {stable: 100, candidate: 0})
    delete_deployment(client, endpoint_name, candidate)
    print(f"promoted {image} (model version {version}) onto {stable}")
    return version or None
