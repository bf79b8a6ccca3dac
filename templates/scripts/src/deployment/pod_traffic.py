"""The requests a Kubernetes Deployment's pods answered, read back from their access log with kubectl.

A port-forward reaches one pod, and probes are synthetic; a canary is judged on what all its pods served, the
Gateway's share of real requests included. Every pod's scoring app logs one access line per request
(serving/access_log.py); `kubectl logs --selector <the Deployment's pod labels> --since-time <window start>`
returns them for every pod of the track. `--tail=-1` is needed: with a selector kubectl shows only the last 10
lines of each container unless told otherwise ("--tail: defaults to -1 with no selector, showing all log lines
otherwise 10, if a selector is provided", kubectl logs --help).
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

from serving.access_log import parse_line
from serving.client import kubeconfig_for, percentile

SCORING_PATH = "/predict"
TIMEOUT_SECONDS = 120


class TrafficError(RuntimeError):
    """The pods' request log could not be read (no kubectl, no such Deployment, no permission)."""


def summarise(lines: list[str]) -> dict[str, Any]:
    """Requests to the scoring route: server errors (5xx) fail a canary; client errors (4xx) are counted apart,
    since a version that refuses what the stable one accepts breaks its callers too."""
    answered = [access for access in map(parse_line, lines) if access and access.path == SCORING_PATH]
    errors = sum(1 for a in answered if a.status >= 500)
    client_errors = sum(1 for a in answered if 400 <= a.status < 500)
    latencies = [a.latency_ms for a in answered if a.status < 400]
    total = len(answered)
    return {"requests": total, "errors": errors, "client_errors": client_errors,
            "error_rate": round(errors / total, 4) if total else 0.0,
            "client_error_rate": round(client_errors / total, 4) if total else 0.0,
            "p95_latency_ms": round(percentile(latencies, 0.95), 1)}


class PodTraffic:
    """Reads the access log of one Deployment's pods since a moment, as often as asked."""

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

    def _run(self, *args: str) -> str:
        result = subprocess.run([*self.base, *args], capture_output=True, text=True,  # noqa: S603  # nosec B603
                                timeout=TIMEOUT_SECONDS, check=False)
        if result.returncode != 0:
            raise TrafficError(f"kubectl {args[0]} failed for deployment {self.deployment}: "
                               f"{result.stderr.strip() or result.stdout.strip()} (the release identity needs "
                               "read access to deployments and pods/log in this namespace)")
        return result.stdout

    def _selector(self) -> str:
        text = self._run("get", "deployment", self.deployment, "-o", "json")
        labels = json.loads(text)["spec"]["selector"]["matchLabels"]
        return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))

    def read(self) -> dict[str, Any]:
        text = self._run("logs", "--selector", self.selector, f"--since-time={self.since}", "--tail=-1",
                         "--prefix")
        return summarise(text.splitlines())
