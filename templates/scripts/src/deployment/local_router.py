"""The local backend's endpoint: a router on 127.0.0.1 that splits requests between an endpoint's scoring
servers by the endpoint's current weights, as an Azure ML online endpoint does.

- The split is exact over every window of requests: with weights 90/10, one request in ten reaches the 10 %
  deployment (smooth weighted round-robin), so a monitor's sample means what the weights say.
- A request with the `azureml-model-deployment` header, or under /deployments/<name>/, goes to that deployment
  only (Azure ML's header for testing one deployment), and every answer names the deployment that served it in
  the same header.
- Weights and deployments are re-read from the state folder on every request: deploy, promote and rollback only
  rewrite files. faults.json (written by `mlops-gen run-local --inject`) makes one model version misbehave.

Usage: python src/deployment/local_router.py --state-dir DIR --port PORT
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HEADER = "azureml-model-deployment"
TIMEOUT_SECONDS = 60
MAX_BODY = 16 * 1024 * 1024


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Router:
    """Picks a deployment per request: smooth weighted round-robin over the current weights."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.lock = threading.Lock()
        self.current: dict[str, int] = {}
        self.weights: dict[str, int] = {}

    def weights_now(self) -> dict[str, int]:
        data = read_json(self.state_dir / "traffic.json") or {}
        return {str(name): int(weight) for name, weight in (data.get("weights") or {}).items() if int(weight) > 0}

    def pick(self) -> str | None:
        weights = self.weights_now()
        with self.lock:
            if weights != self.weights:
                self.weights, self.current = weights, dict.fromkeys(weights, 0)
            if not weights:
                return None
            total = sum(weights.values())
            for name, weight in weights.items():
                self.current[name] += weight
            chosen = max(sorted(self.current), key=lambda name: self.current[name])
            self.current[chosen] -= total
            return chosen

    def deployment(self, name: str) -> dict[str, Any] | None:
        state = read_json(self.state_dir / "deployments" / f"{name}.json")
        return state if isinstance(state, dict) else None

    def fault(self, state: dict[str, Any], name: str) -> dict[str, Any] | None:
        fault = read_json(self.state_dir.parent / "faults.json")
        if not isinstance(fault, dict) or str(fault.get("version")) != str(state.get("version")):
            return None
        if fault.get("kind") == "errors-at-full" and self.weights_now().get(name, 0) < 100:
            return None
        return fault


def handler(router: Router) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = TIMEOUT_SECONDS

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str, deployment: str = "") -> None:
            headers = {"Content-Type": "application/json"}
            if deployment:
                headers[HEADER] = deployment
            self._reply(status, json.dumps({"error": message}).encode(), headers)

        def _route(self) -> None:
            path = self.path
            name = self.headers.get(HEADER)
            if path.startswith("/deployments/"):
                _, _, rest = path.partition("/deployments/")
                name, _, tail = rest.partition("/")
                path = "/" + tail
            name = name or router.pick()
            if not name:
                self._error(503, "no deployment takes traffic")
                return
            state = router.deployment(name)
            if state is None:
                self._error(404, f"no deployment {name}")
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._error(413, "request body too large", name)
                return
            body = self.rfile.read(length) if length else None
            fault = router.fault(state, name)
            if fault and fault.get("kind") in ("errors", "errors-at-full"):
                self._error(503, f"injected fault: version {state.get('version')} fails", name)
                return
            if fault and fault.get("kind") == "slow":
                time.sleep(float(fault.get("latency_ms", 1000)) / 1000)
            request = urllib.request.Request(f"http://127.0.0.1:{state['port']}{path}", data=body,
                                             method=self.command)
            if self.headers.get("Content-Type"):
                request.add_header("Content-Type", self.headers["Content-Type"])
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as reply:  # noqa: S310  # nosec B310
                    status, data, kind = reply.status, reply.read(), reply.headers.get("Content-Type", "")
            except urllib.error.HTTPError as error:
                status, data, kind = error.code, error.read(), error.headers.get("Content-Type", "")
            except (urllib.error.URLError, OSError) as error:
                self._error(502, f"deployment {name} did not answer: {error}", name)
                return
            self._reply(status, data, {"Content-Type": kind or "application/json", HEADER: name})

        def do_GET(self) -> None:
            self._route()

        def do_POST(self) -> None:
            self._route()

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Split an endpoint's requests between its local deployments.")
    parser.add_argument("--state-dir", required=True, help="the endpoint's folder of local state")
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(Router(Path(args.state_dir))))
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
