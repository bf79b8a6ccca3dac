"""A small HTTP client for a deployed scoring endpoint, shared by the smoke test, the endpoint tests and the
canary monitor (standard library only).

The endpoint file is what `src/deployment/deploy.py --output` writes:
    {"name": ..., "target": "local" | "aks" | "azureml_online_endpoint" | "aci",
     "url": "<POST records here>", "health_url": "<GET>" | null, "auth": "none" | "aad",
     "deployment": "<candidate deployment>", "stable_deployment": ..., "traffic": {...},
     "deployments": {"<name>": {"url": ..., "health_url": ...}},                # per-deployment addresses
     "kubernetes": {"namespace": ..., "service": ..., "port": 80}}               # aks: reached by port-forward
A bare URL works too: `ENDPOINT_URL=http://127.0.0.1:8080` (the /predict and /health routes are appended).
Secrets never go into the file: with `"auth": "aad"` the token comes from $ENDPOINT_TOKEN or `az account
get-access-token`, and is only ever sent in the Authorization header.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess  # nosec B404
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AML_RESOURCE = "https://ml.azure.com"


@dataclass
class Response:
    status: int
    body: Any
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and 200 <= self.status < 300


@dataclass
class Endpoint:
    url: str
    health_url: str | None = None
    auth: str = "none"
    headers: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    _token: str | None = None

    def _auth_headers(self) -> dict[str, str]:
        if self.auth == "key":  # a key-auth endpoint someone created: the key comes from a secret variable
            key = os.environ.get("ENDPOINT_KEY")
            if not key:
                raise RuntimeError("the endpoint uses key auth: set ENDPOINT_KEY from a secret variable")
            return {"Authorization": f"Bearer {key}"}
        if self.auth != "aad":
            return {}
        if self._token is None:
            self._token = os.environ.get("ENDPOINT_TOKEN") or _az_token()
        return {"Authorization": f"Bearer {self._token}"}

    def call(self, method: str, url: str, payload: Any = None, timeout: float = 30.0,
             headers: dict[str, str] | None = None) -> Response:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an http(s) URL: {url!r}")
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        all_headers = {"Accept": "application/json", **self.headers, **self._auth_headers(), **(headers or {})}
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, method=method, headers=all_headers)  # noqa: S310  # nosec B310
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310  # nosec B310
                raw = reply.read()
                status = reply.status
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        except (urllib.error.URLError, OSError) as exc:
            return Response(0, None, (time.perf_counter() - started) * 1000, error=str(exc))
        latency = (time.perf_counter() - started) * 1000
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return Response(status, body, latency)

    def predict(self, records: list[dict[str, Any]], timeout: float = 30.0) -> Response:
        return self.call("POST", self.url, {"records": records}, timeout)

    def health(self, timeout: float = 10.0) -> Response | None:
        """GET the health route; None where the platform exposes none (Azure ML managed endpoints)."""
        if not self.health_url:
            return None
        return self.call("GET", self.health_url, timeout=timeout)

    def for_deployment(self, name: str | None) -> Endpoint:
        """The same endpoint addressing one deployment only, bypassing the traffic split."""
        if not name:
            return self
        routes = self.info.get("deployments") or {}
        if name in routes:
            route = routes[name]
            return Endpoint(route["url"], route.get("health_url"), self.auth, dict(self.headers), self.info)
        if self.info.get("target") == "azureml_online_endpoint":
            return Endpoint(self.url, None, self.auth, {**self.headers, "azureml-model-deployment": name},
                            self.info)
        raise KeyError(f"the endpoint file names no deployment {name!r} (known: {', '.join(routes) or 'none'})")


def _az_token() -> str:
    """An Entra ID token for Azure ML endpoints from the logged-in Azure CLI; never printed."""
    az = shutil.which("az")
    if not az:
        raise RuntimeError("endpoint needs an Entra ID token: set ENDPOINT_TOKEN or log in with the Azure CLI")
    result = subprocess.run(  # noqa: S603  # nosec B603
        [az, "account", "get-access-token", "--resource", AML_RESOURCE, "--query", "accessToken", "-o", "tsv"],
        capture_output=True, text=True, check=False, timeout=60)
    if result.returncode != 0:
        raise RuntimeError("az account get-access-token failed; is the pipeline logged in to Azure?")
    return result.stdout.strip()


def from_url(base: str) -> Endpoint:
    base = base.rstrip("/")
    base = base.removesuffix("/predict")
    return Endpoint(f"{base}/predict", f"{base}/health", info={"target": "url", "url": f"{base}/predict"})


def from_info(info: dict[str, Any]) -> Endpoint:
    if not info.get("url"):
        raise ValueError("the endpoint file has no 'url'")
    return Endpoint(info["url"], info.get("health_url"), info.get("auth", "none"), info=info)


def kubeconfig_for(kube: dict[str, Any], folder: str) -> str | None:
    """The kubeconfig deploy.py wrote when it still exists (same job), else fresh AKS credentials, else None
    (the current context, e.g. set by azure/aks-set-context)."""
    if kube.get("kubeconfig") and Path(kube["kubeconfig"]).exists():
        return str(kube["kubeconfig"])
    az = shutil.which("az")
    if not (kube.get("cluster") and kube.get("resource_group") and az):
        return None
    path = str(Path(folder) / "kubeconfig")
    subprocess.run(  # noqa: S603  # nosec B603
        [az, "aks", "get-credentials", "--resource-group", kube["resource_group"], "--name", kube["cluster"],
         "--file", path, "--overwrite-existing", "--only-show-errors"], check=True, capture_output=True, timeout=120)
    kubelogin = shutil.which("kubelogin")
    if kubelogin:
        subprocess.run(  # noqa: S603  # nosec B603
            [kubelogin, "convert-kubeconfig", "--login", "azurecli", "--kubeconfig", path],
            check=True, capture_output=True, timeout=60)
    return path


@contextlib.contextmanager
def _port_forward(kube: dict[str, Any], service: str) -> Iterator[str]:
    """`kubectl port-forward` to a Service for as long as the block runs; yields the local base URL."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        raise RuntimeError("kubectl is needed to reach an AKS service from outside the cluster")
    with tempfile.TemporaryDirectory(prefix="endpoint-") as folder:
        command = [kubectl, "port-forward", "--namespace", kube["namespace"], f"service/{service}",
                   f":{kube.get('port', 80)}", "--address", "127.0.0.1"]
        kubeconfig = kubeconfig_for(kube, folder)
        if kubeconfig:
            command[1:1] = ["--kubeconfig", kubeconfig]
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = process.stdout.readline() if process.stdout else ""  # "Forwarding from 127.0.0.1:40123 -> 8080"
            match = re.search(r"127\.0\.0\.1:(\d+)", line)
            if not match:
                detail = line.strip() or (process.stderr.read() if process.stderr else "")
                raise RuntimeError(f"kubectl port-forward to service/{service} failed: {detail}")
            yield f"http://127.0.0.1:{match.group(1)}"
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextlib.contextmanager
def open_endpoint(endpoint_file: str | None = None, deployment: str | None = None) -> Iterator[Endpoint]:
    """The endpoint described by a file (or $ENDPOINT_URL), reachable for the duration of the block."""
    url = os.environ.get("ENDPOINT_URL")
    if not endpoint_file and url:
        yield from_url(url)
        return
    if not endpoint_file:
        raise ValueError("no endpoint: pass an endpoint file or set ENDPOINT_URL")
    info = json.loads(Path(endpoint_file).read_text(encoding="utf-8"))
    kube = info.get("kubernetes")
    if kube and not os.environ.get("ENDPOINT_IN_CLUSTER"):
        service = deployment or kube["service"]
        with _port_forward(kube, service) as base:
            endpoint = from_url(base)
            endpoint.info = info
            yield endpoint
        return
    yield from_info(info).for_deployment(deployment)


def predictions_of(body: Any, expected: int) -> list[Any] | None:
    """The predictions of a /predict answer ([{"prediction": value}, ...], one per record), or None when the body
    is not that shape or does not hold `expected` results."""
    if not isinstance(body, list) or len(body) != expected:
        return None
    if not all(isinstance(item, dict) and "prediction" in item for item in body):
        return None
    return [item["prediction"] for item in body]


def share(part: int, whole: int) -> float:
    """part / whole to 4 places (an error rate); 0 when nothing was counted."""
    return round(part / whole, 4) if whole else 0.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95: fraction 0.95)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]
