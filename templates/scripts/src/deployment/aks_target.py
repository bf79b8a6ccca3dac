"""AKS through the generated manifests (k8s/<environment>/) and kubectl.

Traffic split without a service mesh or ingress controller: the main Service selects the pods of both
Deployments (stable and canary), so a share of p % goes to the canary by running canary replicas in proportion
(p = canary / (stable + canary), rounded to whole pods; the effective share is printed and recorded).
At 100 % the main Service's selector is switched to the canary pods alone; promotion then rolls the candidate's
image onto the stable Deployment, restores the selector and scales the canary to zero. Blue-green uses the same
objects with the main Service selecting the stable pods only, so the candidate gets no traffic before the switch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from support import (
    REPO_ROOT,
    SELECTOR_ANNOTATION,
    TRACK_LABEL,
    VERSION_LABEL,
    DeployError,
    model_name,
    run,
)

ROLLOUT_TIMEOUT = "600s"
CONTAINER = "serving"


def main_service() -> str:
    """The Service clients use, named after the model; <model>-stable and <model>-canary address one track."""
    return model_name()


class Kubectl:
    def __init__(self, namespace: str, kubeconfig: str | None) -> None:
        self.namespace = namespace
        self.kubeconfig = kubeconfig

    def command(self, *args: str) -> list[str]:
        base = ["kubectl"]
        if self.kubeconfig:
            base += ["--kubeconfig", self.kubeconfig]
        return [*base, "--namespace", self.namespace, *args]

    def run(self, *args: str, stdin: str | None = None) -> str:
        return run(self.command(*args), stdin=stdin, capture=True).stdout

    def get(self, kind: str, name: str) -> dict[str, Any] | None:
        result = run(self.command("get", kind, name, "--ignore-not-found", "-o", "json"), capture=True)
        text = result.stdout.strip()
        return json.loads(text) if text else None

    def apply(self, objects: list[dict[str, Any]]) -> None:
        document = {"apiVersion": "v1", "kind": "List", "items": objects}
        print(self.run("apply", "-f", "-", stdin=json.dumps(document)), end="")

    def rollout(self, deployment: str) -> None:
        print(self.run("rollout", "status", f"deployment/{deployment}", f"--timeout={ROLLOUT_TIMEOUT}"), end="")

    def patch(self, kind: str, name: str, patch: dict[str, Any]) -> None:
        self.run("patch", kind, name, "--type", "merge", "-p", json.dumps(patch))


def namespace_of(namespace: str | None) -> str:
    if not namespace:
        raise DeployError("--namespace is required for target aks")
    return namespace


def uses_kubelogin(kubeconfig: str) -> bool:
    """An Entra ID (Azure RBAC) cluster's kubeconfig authenticates through the kubelogin exec plugin."""
    import yaml

    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8")) or {}
    return any(((user.get("user") or {}).get("exec") or {}).get("command") == "kubelogin"
               for user in config.get("users") or [])


def credentials(cluster: str | None, resource_group: str, workdir: str) -> str | None:
    """A kubeconfig for --cluster: `az aks get-credentials`, then, for a cluster with Entra ID, `kubelogin
    convert-kubeconfig -l azurecli` so kubectl uses the pipeline's Azure CLI login without a browser
    (learn.microsoft.com/azure/aks/kubelogin-authentication). A missing kubelogin is an error here, not a failed
    kubectl call later."""
    if not cluster:
        return None  # use the current context, e.g. set by azure/aks-set-context or KubernetesManifest
    path = Path(workdir).resolve() / "kubeconfig"
    path.parent.mkdir(parents=True, exist_ok=True)
    run(["az", "aks", "get-credentials", "--resource-group", resource_group, "--name", cluster,
         "--file", str(path), "--overwrite-existing", "--only-show-errors"])
    if uses_kubelogin(str(path)):
        if shutil.which("kubelogin") is None:
            raise DeployError(f"cluster {cluster} uses Entra ID and kubectl needs kubelogin, which is not on PATH: "
                              "install it before this step (`az aks install-cli`)")
        run(["kubelogin", "convert-kubeconfig", "--login", "azurecli", "--kubeconfig", str(path)])
    return str(path)


def load_manifests(directory: str) -> list[dict[str, Any]]:
    import yaml

    folder = Path(directory)
    if not folder.is_absolute():
        folder = REPO_ROOT / folder
    objects: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yaml")):
        objects.extend(doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc)
    if not objects:
        raise DeployError(f"no manifests in {folder}")
    return objects


def _named(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any] | None:
    return next((o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name), None)


def _with_image(deployment: dict[str, Any], image: str, version: str, replicas: int | None) -> dict[str, Any]:
    deployment = json.loads(json.dumps(deployment))
    template = deployment["spec"]["template"]
    template["metadata"]["labels"][VERSION_LABEL] = version
    deployment["metadata"]["labels"][VERSION_LABEL] = version
    for container in template["spec"]["containers"]:
        container["image"] = image
        env = [e for e in container.get("env", []) if e["name"] != "MODEL_VERSION"]
        container["env"] = [*env, {"name": "MODEL_VERSION", "value": version}]
    if replicas is None:
        deployment["spec"].pop("replicas", None)  # the HorizontalPodAutoscaler owns it
    else:
        deployment["spec"]["replicas"] = replicas
    return deployment


def serving_replicas(manifests: list[dict[str, Any]], stable: str) -> int:
    """The pods the stable Deployment would run: its autoscaler's minimum, else its own replicas, else one."""
    autoscaler = next((o for o in manifests if o["kind"] == "HorizontalPodAutoscaler"
                       and o["spec"].get("scaleTargetRef", {}).get("name") == stable), None)
    if autoscaler is not None:
        return int(autoscaler["spec"].get("minReplicas") or 1)
    manifest = _named(manifests, "Deployment", stable) or {}
    return int(manifest.get("spec", {}).get("replicas") or 1)


def canary_replicas(stable_replicas: int, percentage: int) -> int:
    """Canary pods so that canary / (stable + canary) comes closest to the percentage, at least one pod."""
    if percentage <= 0:
        return 0
    return max(1, round(stable_replicas * percentage / (100 - percentage)))


def deploy(kubectl: Kubectl, manifests: list[dict[str, Any]], stable: str, candidate: str, deployment: str,
           image: str, version: str, percentage: int) -> dict[str, Any]:
    """Apply the manifests with the image; returns what the endpoint file records about traffic."""
    service = _named(manifests, "Service", main_service())
    if service is None:
        raise DeployError("the manifests define no Service")
    others = [o for o in manifests if o["kind"] != "Deployment"]
    live_stable = kubectl.get("deployment", stable)
    stable_manifest = _named(manifests, "Deployment", stable)
    if stable_manifest is None:
        raise DeployError(f"the manifests define no Deployment {stable!r}")
    if deployment == stable:
        # A direct or rolling release: the stable Deployment gets the image (a rolling update).
        kubectl.apply([*others, _with_image(stable_manifest, image, version, None)])
        kubectl.rollout(stable)
        return {"deployment": stable, "traffic": {stable: 100}, "first_release": live_stable is None}
    canary_manifest = _named(manifests, "Deployment", candidate)
    if canary_manifest is None:
        raise DeployError(f"the manifests define no canary Deployment {candidate!r}")
    if live_stable is None:
        # A first release (nothing stable yet) runs on the candidate alone, with all traffic, as on Azure ML
        # endpoints: the monitor watches it, promote creates the stable Deployment from it, a rollback removes it.
        pods = serving_replicas(manifests, stable)
        kubectl.apply([*others, _with_image(canary_manifest, image, version, pods)])
        kubectl.rollout(candidate)
        switch_to(kubectl, main_service(), candidate)
        print(f"no stable deployment {stable} yet: {candidate} ({pods} pods) takes all traffic until promoted")
        return {"deployment": candidate, "traffic": {candidate: 100}, "first_release": True}
    stable_pods = int(live_stable.get("status", {}).get("readyReplicas") or live_stable["spec"].get("replicas") or 1)
    pods = stable_pods if percentage >= 100 or not _splits(service) else canary_replicas(stable_pods, percentage)
    kubectl.apply([*others, _with_image(canary_manifest, image, version, pods)])
    kubectl.rollout(candidate)
    if percentage >= 100:
        switch_to(kubectl, service["metadata"]["name"], candidate)
        return {"deployment": candidate, "traffic": {stable: 0, candidate: 100}, "first_release": False}
    if not _splits(service):  # blue-green: the candidate waits without traffic until the switch
        return {"deployment": candidate, "traffic": {stable: 100, candidate: 0}, "first_release": False}
    share = round(100 * pods / (pods + stable_pods))
    print(f"canary: {pods} of {pods + stable_pods} pods, about {share} % of requests (asked for {percentage} %)")
    return {"deployment": candidate, "traffic": {stable: 100 - share, candidate: share}, "first_release": False}


def _splits(service: dict[str, Any]) -> bool:
    return TRACK_LABEL not in service["spec"]["selector"]


def switch_to(kubectl: Kubectl, service: str, deployment: str) -> None:
    """Send all traffic of the main Service to one Deployment's pods, remembering the selector to restore."""
    live = kubectl.get("service", service)
    if live is None:
        raise DeployError(f"service {service} not found")
    selector = live["spec"]["selector"]
    annotations = live["metadata"].get("annotations", {})
    saved = annotations.get(SELECTOR_ANNOTATION) or json.dumps(selector, sort_keys=True)
    target = kubectl.get("deployment", deployment)
    if target is None:
        raise DeployError(f"deployment {deployment} not found")
    pods = target["spec"]["selector"]["matchLabels"]
    kubectl.patch("service", service, {"metadata": {"annotations": {SELECTOR_ANNOTATION: saved}},
                                       "spec": {"selector": pods}})
    print(f"service {service} now sends all traffic to {deployment}")


def restore_selector(kubectl: Kubectl, service: str) -> None:
    live = kubectl.get("service", service)
    if live is None:
        return
    saved = live["metadata"].get("annotations", {}).get(SELECTOR_ANNOTATION)
    if not saved:
        return
    # A merge patch cannot drop selector keys, so replace the selector with a JSON patch.
    kubectl.run("patch", "service", service, "--type", "json", "-p", json.dumps([
        {"op": "replace", "path": "/spec/selector", "value": json.loads(saved)},
        {"op": "remove", "path": "/metadata/annotations/" + SELECTOR_ANNOTATION.replace("/", "~1")}]))
    print(f"service {service} selector restored")


def rollback(kubectl: Kubectl, candidate: str) -> None:
    restore_selector(kubectl, main_service())
    if kubectl.get("deployment", candidate) is not None:
        kubectl.run("scale", f"deployment/{candidate}", "--replicas=0")
        print(f"canary {candidate} scaled to zero: all traffic back on the stable deployment")


def promote(kubectl: Kubectl, stable: str, candidate: str,
            manifests: list[dict[str, Any]] | None = None) -> str | None:
    """Roll the candidate's image onto the stable Deployment (created from the manifests after a first release);
    returns the promoted model version."""
    live = kubectl.get("deployment", candidate)
    if live is None or not live["spec"].get("replicas"):
        print(f"no running canary {candidate}: nothing to move onto {stable}")
        stable_live = kubectl.get("deployment", stable)
        return stable_live["metadata"].get("labels", {}).get(VERSION_LABEL) if stable_live else None
    switch_to(kubectl, main_service(), candidate)  # all traffic on the verified candidate while stable rolls
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    version = str(live["metadata"].get("labels", {}).get(VERSION_LABEL, ""))
    labels = {VERSION_LABEL: version}
    if kubectl.get("deployment", stable) is None:
        manifest = _named(manifests or [], "Deployment", stable)
        if manifest is None:
            raise DeployError(f"no stable Deployment {stable} yet and no manifest to create it from: pass --manifests")
        kubectl.apply([_with_image(manifest, image, version, None)])
    else:
        kubectl.run("patch", "deployment", stable, "--type", "strategic", "-p", json.dumps({
            "metadata": {"labels": labels},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                {"name": CONTAINER, "image": image, "env": [{"name": "MODEL_VERSION", "value": version}]}]}}}}))
    kubectl.rollout(stable)
    restore_selector(kubectl, main_service())
    kubectl.run("scale", f"deployment/{candidate}", "--replicas=0")
    print(f"promoted {image} (model version {version}) onto {stable}")
    return version or None


def endpoint_info(namespace: str, kubeconfig: str | None, cluster: str | None = None,
                  resource_group: str | None = None) -> dict[str, Any]:
    """How clients reach the Service: in-cluster DNS, or a port-forward (with these credentials) from outside."""
    service = main_service()
    url = f"http://{service}.{namespace}.svc.cluster.local"
    kube: dict[str, Any] = {"namespace": namespace, "service": service, "port": 80}
    if kubeconfig:
        kube["kubeconfig"] = kubeconfig
    if cluster and resource_group:
        kube.update(cluster=cluster, resource_group=resource_group)
    return {"url": f"{url}/predict", "health_url": f"{url}/health", "auth": "none", "kubernetes": kube}
