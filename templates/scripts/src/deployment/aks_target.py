"""AKS through the generated manifests (k8s/<environment>/) and kubectl.

A canary's share is a share of requests: the environment's HTTPRoute (Gateway API, gateway.networking.k8s.io/v1)
sends the weights of its backendRefs to the Services of the stable and canary tracks, and deploy.py
--traffic-percentage P sets them to 100 - P and P ("the proportion of requests to a backend is its weight divided
by the sum of all weights of the rule", HTTPBackendRef.weight in the Gateway API reference). The canary runs enough
pods for its share and its own HorizontalPodAutoscaler takes over; the autoscaler stays idle while the canary is
at zero replicas (its controller reports ScalingDisabled: "scaling is disabled since the replica count of the
target is zero", kubernetes pkg/controller/podautoscaler/horizontal.go).
Promotion keeps all requests on the candidate while the stable Deployment rolls onto its image, then routes them
back to stable and scales the canary to zero; a rollback routes everything to stable at once.
Blue-green switches the main Service's selector from the stable pods to the candidate's (the candidate gets no
traffic before the switch); a direct or rolling release updates the stable Deployment in place.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from support import (
    SELECTOR_ANNOTATION,
    VERSION_LABEL,
    DeployError,
    model_file,
    model_name,
    run,
)

ROLLOUT_TIMEOUT = "600s"
CONTAINER = "serving"
ROUTE = "httproute.gateway.networking.k8s.io"  # fully qualified: other CRDs may also be called "httproute"
ROUTE_WAIT_SECONDS = 300  # for the Gateway's controller to take a route's new generation
ROUTE_POLL_SECONDS = 5


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

    folder = model_file(directory)
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


def canary_replicas(stable_pods: int, percentage: int, minimum: int) -> int:
    """Pods for a share of the requests the stable pods serve now (rounded up), at least the autoscaler's
    minimum; the canary's autoscaler adds pods from there when its share needs more."""
    if percentage <= 0:
        return 0
    return max(minimum, -(-stable_pods * percentage // 100))


def route_of(manifests: list[dict[str, Any]]) -> dict[str, Any] | None:
    return _named(manifests, "HTTPRoute", main_service())


def _backends(route: dict[str, Any]) -> list[dict[str, Any]]:
    return [ref for rule in route["spec"].get("rules", []) for ref in rule.get("backendRefs", [])]


def splits(route: dict[str, Any] | None, candidate: str) -> bool:
    """Whether the route weighs the candidate's Service against the stable one's (a canary rollout)."""
    return route is not None and any(ref["name"] == candidate for ref in _backends(route))


def _weighted(route: dict[str, Any], weights: dict[str, int]) -> dict[str, Any]:
    route = json.loads(json.dumps(route))
    for ref in _backends(route):
        if ref["name"] in weights:
            ref["weight"] = weights[ref["name"]]
    return route


def set_weights(kubectl: Kubectl, weights: dict[str, int], live: dict[str, Any] | None = None) -> bool:
    """Route the live HTTPRoute's requests by these backend weights, once the Gateway has taken them; False when
    there is no such route. Each replaced weight is tested by name first (RFC 6902 "test"), so a route edited
    meanwhile fails the patch instead of weighting the wrong backend."""
    live = live if live is not None else kubectl.get(ROUTE, main_service())
    if live is None or not any(ref["name"] in weights for ref in _backends(live)):
        return False
    operations = []
    for r, rule in enumerate(live["spec"].get("rules", [])):
        for b, ref in enumerate(rule.get("backendRefs", [])):
            if ref["name"] in weights:
                path = f"/spec/rules/{r}/backendRefs/{b}"
                operations += [{"op": "test", "path": f"{path}/name", "value": ref["name"]},
                               {"op": "add", "path": f"{path}/weight", "value": weights[ref["name"]]}]
    kubectl.run("patch", ROUTE, main_service(), "--type", "json", "-p", json.dumps(operations))
    print("route " + main_service() + ": " + ", ".join(f"{name} {weight} %" for name, weight in weights.items()))
    wait_for_route(kubectl)
    return True


def route_problem(live: dict[str, Any] | None) -> tuple[str, bool] | None:
    """Why the route's current generation is not in effect yet, and whether that is final: every parent Gateway
    must report Accepted and ResolvedRefs True for this generation (Gateway API RouteParentStatus; a condition of
    an older generation says nothing about the new weights, and one without observedGeneration is taken as
    current). Only False is final: Unknown (reason Pending: "not yet reconciled") is waited for."""
    if live is None:
        return "the route does not exist", True
    generation = live["metadata"].get("generation")
    parents = (live.get("status") or {}).get("parents") or []
    if not parents:
        return ("no Gateway has reported on it yet: is the Gateway named in the spec there, and does its listener "
                "admit routes from this namespace?"), False
    for parent in parents:
        gateway = (parent.get("parentRef") or {}).get("name", "?")
        conditions = {c.get("type"): c for c in parent.get("conditions") or []}
        for kind in ("Accepted", "ResolvedRefs"):
            condition = conditions.get(kind)
            observed = (condition or {}).get("observedGeneration", generation)
            if condition is None or observed != generation:
                return f"Gateway {gateway} has not reported {kind} for generation {generation} yet", False
            if condition.get("status") != "True":
                text = (f"Gateway {gateway}: {kind} is {condition.get('status')} ({condition.get('reason')}: "
                        f"{condition.get('message', '')})")
                return text, condition.get("status") == "False"
    return None


def wait_for_route(kubectl: Kubectl) -> None:
    deadline = time.monotonic() + ROUTE_WAIT_SECONDS
    while True:
        problem = route_problem(kubectl.get(ROUTE, main_service()))
        if problem is None:
            return
        text, final = problem
        if final or time.monotonic() > deadline:
            raise DeployError(f"route {main_service()} is not in effect: {text}")
        print(f"waiting for the route: {text}", flush=True)
        time.sleep(ROUTE_POLL_SECONDS)


def apply_route(kubectl: Kubectl, route: dict[str, Any], weights: dict[str, int] | None = None) -> None:
    kubectl.apply([_weighted(route, weights) if weights else route])
    wait_for_route(kubectl)


def live_route(kubectl: Kubectl) -> dict[str, Any] | None:
    """The live HTTPRoute, or None where the cluster has no Gateway API at all."""
    result = run(kubectl.command("get", ROUTE, main_service(), "--ignore-not-found", "-o", "json"), capture=True,
                 check=False)
    if result.returncode != 0:
        detail = (result.stderr or "").strip()
        if "doesn't have a resource type" in detail:
            return None
        raise DeployError(f"reading route {main_service()} failed: {detail} (the identity needs get and patch on "
                          f"httproutes: the Role {model_name()}-rollout of the model README)")
    text = result.stdout.strip()
    return json.loads(text) if text else None


def _live_pods(live: dict[str, Any]) -> int:
    return int(live.get("status", {}).get("readyReplicas") or live["spec"].get("replicas") or 1)


# What the release does besides applying the manifests' objects: `rollout status` lists and watches Deployments,
# `kubectl scale` patches their scale subresource, the tests and probes port-forward to a Service's pod, and the
# monitor (pod_traffic.py) lists pods and reads their logs.
RELEASE_ACCESS = (("list", "deployments.apps", ""), ("watch", "deployments.apps", ""),
                  ("patch", "deployments.apps", "scale"), ("create", "pods", "portforward"),
                  ("list", "pods", ""), ("get", "pods", "log"))


def needed_access(manifests: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(verb, resource, subresource) the release needs in the namespace: kubectl apply reads, creates and patches
    each kind of the manifests; the monitor reads pods and their logs."""
    resources = sorted({f"{o['kind'].lower()}s" + (f".{o['apiVersion'].split('/')[0]}" if "/" in o["apiVersion"]
                                                    else "") for o in manifests})
    return [(verb, resource, "") for resource in resources for verb in ("get", "create", "patch")] + \
        list(RELEASE_ACCESS)


def check_access(kubectl: Kubectl, manifests: list[dict[str, Any]]) -> None:
    """Ask the cluster (`kubectl auth can-i`, a SelfSubjectAccessReview: Azure RBAC and Kubernetes RBAC both
    answer) for each permission before changing anything: a missing one is named here, not met as a 403 halfway
    through a rollout."""
    missing = []
    for verb, resource, subresource in needed_access(manifests):
        args = ["auth", "can-i", verb, resource, "--quiet"] + ([f"--subresource={subresource}"] if subresource else [])
        result = run(kubectl.command(*args), capture=True, check=False)
        if result.returncode != 0 and (result.stderr or "").strip():  # no answer: credentials, network, kubeconfig
            raise DeployError(f"asking the cluster for permissions failed: {result.stderr.strip()}")
        if result.returncode != 0:
            missing.append(f"{verb} {resource}" + (f"/{subresource}" if subresource else ""))
    if missing:
        raise DeployError(f"this identity may not {', '.join(missing)} in namespace {kubectl.namespace}: grant them "
                          f"as the model README's AKS setup says (role 'Azure Kubernetes Service RBAC Writer' on the "
                          f"namespace and the Role {model_name()}-rollout)")


def deploy(kubectl: Kubectl, manifests: list[dict[str, Any]], stable: str, candidate: str, deployment: str,
           image: str, version: str, percentage: int) -> dict[str, Any]:
    """Apply the manifests with the image; returns what the endpoint file records about traffic."""
    service = _named(manifests, "Service", main_service())
    if service is None:
        raise DeployError("the manifests define no Service")
    check_access(kubectl, manifests)
    route = route_of(manifests)
    # The route is applied last, with the weights this step sets: applying the file's weights first would send
    # requests to pods that are not ready, or take a running canary's share away for a moment.
    others = [o for o in manifests if o["kind"] not in ("Deployment", "HTTPRoute")]
    live_stable = kubectl.get("deployment", stable)
    stable_manifest = _named(manifests, "Deployment", stable)
    if stable_manifest is None:
        raise DeployError(f"the manifests define no Deployment {stable!r}")
    if deployment == stable:
        # A direct or rolling release: the stable Deployment gets the image (a rolling update).
        kubectl.apply([*others, _with_image(stable_manifest, image, version, None)])
        kubectl.rollout(stable)
        if route is not None:
            apply_route(kubectl, route)
        return {"deployment": stable, "traffic": {stable: 100}, "first_release": live_stable is None}
    canary_manifest = _named(manifests, "Deployment", candidate)
    if canary_manifest is None:
        raise DeployError(f"the manifests define no canary Deployment {candidate!r}")
    weighted = splits(route, candidate)
    minimum = serving_replicas(manifests, stable)
    if live_stable is None:
        # A first release (nothing stable yet) runs on the candidate alone, with all traffic, as on Azure ML
        # endpoints: the monitor watches it, promote creates the stable Deployment from it, a rollback removes it.
        kubectl.apply([*others, _with_image(canary_manifest, image, version, minimum)])
        kubectl.rollout(candidate)
        if route is not None:
            apply_route(kubectl, route, {stable: 0, candidate: 100} if weighted else None)
        switch_to(kubectl, main_service(), candidate)
        print(f"no stable deployment {stable} yet: {candidate} ({minimum} pods) takes all traffic until promoted")
        return {"deployment": candidate, "traffic": {candidate: 100}, "first_release": True}
    stable_pods = _live_pods(live_stable)
    if weighted and route is not None:
        share = min(100, max(0, percentage))
        # Never fewer pods than the canary's autoscaler runs already: an apply with replicas sets the count.
        live_canary = kubectl.get("deployment", candidate)
        running = int(live_canary["spec"].get("replicas") or 0) if live_canary else 0
        pods = max(running, canary_replicas(stable_pods, share, minimum))
        kubectl.apply([*others, _with_image(canary_manifest, image, version, pods)])
        kubectl.rollout(candidate)
        apply_route(kubectl, route, {stable: 100 - share, candidate: share})
        print(f"canary: {share} % of the requests through the route, on its own pods")
        return {"deployment": candidate, "traffic": {stable: 100 - share, candidate: share}, "first_release": False}
    if 0 < percentage < 100:
        raise DeployError(f"a canary needs the HTTPRoute {main_service()!r} to split requests by weight, and the "
                          "manifests have none: regenerate them with the environment's gateway")
    # Blue-green: the candidate runs at full size without traffic until the switch.
    kubectl.apply([*others, _with_image(canary_manifest, image, version, stable_pods)])
    kubectl.rollout(candidate)
    if route is not None:
        apply_route(kubectl, route)
    if percentage >= 100:
        switch_to(kubectl, main_service(), candidate)
        return {"deployment": candidate, "traffic": {stable: 0, candidate: 100}, "first_release": False}
    return {"deployment": candidate, "traffic": {stable: 100, candidate: 0}, "first_release": False}


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


def rollback(kubectl: Kubectl, candidate: str, manifests: list[dict[str, Any]] | None = None) -> None:
    """All requests back on stable (the route, where the environment has one, and the Service), then the canary
    to zero. The route comes from the manifests (without them, from the cluster): where one carries the
    environment's requests, failing to steer it stops the rollback before the canary's pods go, or its share
    would meet a Service without endpoints."""
    routed = route_of(manifests) is not None if manifests is not None else True
    live = live_route(kubectl) if routed else None
    names = [ref["name"] for ref in _backends(live)] if live else []
    stable = next((name for name in names if name != candidate), None) if candidate in names else None
    if stable is not None:
        set_weights(kubectl, {stable: 100, candidate: 0}, live)
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
    # With a route (the manifests', else the live one), stable rolls onto the candidate's image under the weights
    # the rollout left (its rolling update keeps its pods serving: maxUnavailable 0), then takes every request
    # back; the canary was sized for its share only and never carries stable's load alone. Without one, the
    # Service selects the candidate.
    routed = splits(route_of(manifests) if manifests is not None else live_route(kubectl), candidate)
    if not routed:
        switch_to(kubectl, main_service(), candidate)
    image = live["spec"]["template"]["spec"]["containers"][0]["image"]
    version = str(live["metadata"].get("labels", {}).get(VERSION_LABEL, ""))
    labels = {VERSION_LABEL: version}
    # Stable takes back every request at once: it runs at least as many pods as the canary serves them with now
    # (a Deployment created without replicas would start with one; its autoscaler only scales up from there).
    pods = _live_pods(live)
    live_stable = kubectl.get("deployment", stable)
    if live_stable is None:
        manifest = _named(manifests or [], "Deployment", stable)
        if manifest is None:
            raise DeployError(f"no stable Deployment {stable} yet and no manifest to create it from: pass --manifests")
        kubectl.apply([_with_image(manifest, image, version, pods)])
    else:
        kubectl.run("patch", "deployment", stable, "--type", "strategic", "-p", json.dumps({
            "metadata": {"labels": labels},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [
                {"name": CONTAINER, "image": image, "env": [{"name": "MODEL_VERSION", "value": version}]}]}}}}))
        if int(live_stable["spec"].get("replicas") or 0) < pods:
            kubectl.run("scale", f"deployment/{stable}", f"--replicas={pods}")
    kubectl.rollout(stable)
    if routed:
        set_weights(kubectl, {stable: 100, candidate: 0})
    restore_selector(kubectl, main_service())
    # The canary's pods finish the requests they hold (their preStop pause) as they leave the endpoints.
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
