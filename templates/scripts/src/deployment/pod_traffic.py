"""The requests a Kubernetes Deployment's pods answered, read back from their access log with kubectl.

A port-forward reaches one pod, and probes are synthetic; a canary is judged on what all its pods served, the
Gateway's share of real requests included. Every pod's scoring app logs one access line per request
(serving/access_log.py). Each read lists the Deployment's pods and asks each started one for the lines since the
last read (`kubectl logs POD --timestamps --since-time`, `--tail=-1`: all of them), so a window's log is read
once, whatever its length. Pods are read one by one: a pod still starting ("waiting to start:
ContainerCreating") or gone since the listing makes `kubectl logs --selector` fail as a whole, and an autoscaler
adds and removes pods exactly while a canary takes traffic. Container restarts in the window are counted: a pod
that crashes logs nothing about the requests it lost.
"""

from __future__ import annotations

import json
import shutil
import subprocess  # nosec B404
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for serving.*

from serving.access_log import Access, parse_line
from serving.client import kubeconfig_for, percentile, share

SCORING_PATH = "/predict"
CONTAINER = "serving"
TIMEOUT_SECONDS = 120


class TrafficError(RuntimeError):
    """The Deployment or its pods could not be listed (no kubectl, no such Deployment, no permission)."""


def summarise(accesses: list[Access]) -> dict[str, Any]:
    """Requests to the scoring route: server errors (5xx) fail a canary; client errors (4xx) are counted apart,
    since a version that refuses what the stable one accepts breaks its callers too."""
    answered = [access for access in accesses if access.path == SCORING_PATH]
    errors = sum(1 for a in answered if a.status >= 500)
    client_errors = sum(1 for a in answered if 400 <= a.status < 500)
    latencies = [a.latency_ms for a in answered if a.status < 400]
    total = len(answered)
    return {"requests": total, "errors": errors, "client_errors": client_errors,
            "error_rate": share(errors, total), "client_error_rate": share(client_errors, total),
            "p95_latency_ms": round(percentile(latencies, 0.95), 1)}


def instant(stamp: str) -> tuple[str, str]:
    """An RFC 3339 timestamp as kubectl --timestamps prints it, comparable: Go trims trailing zeros of the
    fraction ("…:05.1Z" is later than "…:05.05Z"), so the fraction is padded before comparing."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return whole, fraction.ljust(9, "0")


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return next((c for c in statuses if c.get("name") == CONTAINER), statuses[0] if statuses else {})


class PodTraffic:
    """Reads the access log of one Deployment's pods from a moment on, a little more at each call."""

    def __init__(self, kube: dict[str, Any], deployment: str, since: datetime, folder: str) -> None:
        kubectl = shutil.which("kubectl")
        if not kubectl:
            raise TrafficError("kubectl is needed to read the pods' request log")
        self.base = [kubectl]
        kubeconfig = kubeconfig_for(kube, folder)
        if kubeconfig:
            self.base += ["--kubeconfig", kubeconfig]
        self.base += ["--namespace", str(kube["namespace"])]
        self.deployment = deployment
        self.since = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.selector = self._selector()
        self.last: dict[str, str] = {}  # pod -> timestamp of the last line read
        self.accesses: list[Access] = []
        self.unreadable: set[str] = set()
        self.started_restarts = {name: count for name, count, _ in self._pods()}

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*self.base, *args], capture_output=True, text=True,  # noqa: S603  # nosec B603
                                timeout=TIMEOUT_SECONDS, check=False)
        if check and result.returncode != 0:
            raise TrafficError(f"kubectl {args[0]} failed for deployment {self.deployment}: "
                               f"{result.stderr.strip() or result.stdout.strip()} (the release identity needs "
                               "read access to deployments, pods and pods/log in this namespace)")
        return result

    def _selector(self) -> str:
        labels = json.loads(self._run("get", "deployment", self.deployment, "-o", "json").stdout)
        return ",".join(f"{key}={value}" for key, value in sorted(labels["spec"]["selector"]["matchLabels"].items()))

    def _pods(self) -> list[tuple[str, int, bool]]:
        """(name, restarts, started) of each pod the Deployment's selector matches now."""
        items = json.loads(self._run("get", "pods", "--selector", self.selector, "-o", "json").stdout)["items"]
        pods = []
        for pod in items:
            container = _container(pod)
            state = container.get("state") or {}
            pods.append((pod["metadata"]["name"], int(container.get("restartCount") or 0),
                         "running" in state or "terminated" in state))
        return pods

    def read(self) -> dict[str, Any]:
        pods = self._pods()
        for name, _, started in pods:
            if started:
                self._read_pod(name)
        restarts = sum(max(0, count - self.started_restarts.get(name, 0)) for name, count, _ in pods)
        return {**summarise(self.accesses), "pods": len(pods), "restarts": restarts,
                "unreadable_pods": sorted(self.unreadable)}

    def _read_pod(self, pod: str) -> None:
        since = self.last.get(pod, self.since)
        result = self._run("logs", pod, "--container", CONTAINER, f"--since-time={since}", "--timestamps",
                           "--tail=-1", check=False)
        if result.returncode != 0:  # gone since the listing, or not readable: said in the report
            self.unreadable.add(pod)
            return
        seen = self.last.get(pod)
        for line in result.stdout.splitlines():
            stamp, _, text = line.partition(" ")
            if seen is not None and instant(stamp) <= instant(seen):
                continue  # --since-time repeats the line of the last read's timestamp
            access = parse_line(text)
            if access is not None:
                self.accesses.append(access)
            self.last[pod] = stamp
