#!/usr/bin/env python3
"""Benchmark the scoring app's local server (templates/scripts/src/serving/app.py) under concurrency and stalls.

    python benchmarks/serving_local.py [--clients 20] [--requests 100] [--stalled 300] [--json out.json]

Compares the old local server (wsgiref + ThreadingMixIn: listen backlog 5, no read timeout, a thread per
connection) with `bounded_server` (8 threads, 30 s read timeout, backlog 128: gunicorn's limits, used when gunicorn
is not installed), both in this process with a stub model, over real sockets on 127.0.0.1:
- burst: --clients threads each send --requests POST /predict on fresh connections; errors (resets, refusals)
  and latency percentiles;
- stalls: --stalled connections open and send nothing; threads alive while they stall, and the latency of one
  normal request sent meanwhile.
Results go to docs/benchmarks.md with the machine they were measured on.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import socket
import statistics
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

APP = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src" / "serving" / "app.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("bench_serving_app", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Stub:
    def predict(self, records: list[dict[str, Any]]) -> list[int]:
        return [len(record) for record in records]


def old_server(app: Any) -> Any:
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    class Server(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    return make_server("127.0.0.1", 0, app, server_class=Server, handler_class=Quiet)


def _post(url: str, body: bytes) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310  # nosec B310
        reply.read()
    return (time.perf_counter() - started) * 1000


def burst(url: str, clients: int, requests: int) -> dict[str, Any]:
    body = json.dumps({"records": [{"a": 1, "b": 2}]}).encode()
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors
        for _ in range(requests):
            try:
                latency = _post(url, body)
            except OSError:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append(latency)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client) for _ in range(clients)]:
            future.result()
    latencies.sort()
    total = clients * requests
    return {"requests": total, "errors": errors, "error_rate_percent": round(100 * errors / total, 3),
            "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))], 2)}


def stalls(url: str, port: int, count: int) -> dict[str, Any]:
    before = threading.active_count()
    held = []
    for _ in range(count):
        try:
            held.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        except OSError:
            break
    time.sleep(1.0)  # let the server accept what it will
    threads = threading.active_count() - before
    alive = threading.active_count()  # this script: main + burst pool already gone; the rest is the server
    try:
        latency: float | str = round(_post(url, json.dumps({"records": [{"a": 1}]}).encode()), 1)
    except OSError as exc:
        latency = f"failed: {exc}"
    for conn in held:
        conn.close()
    return {"stalled_connections": len(held), "new_threads_while_stalled": threads,
            "threads_alive_while_stalled": alive,
            "normal_request_ms": latency}


def run(kind: str, module: Any, args: argparse.Namespace) -> dict[str, Any]:
    app = module.ScoringApp(Stub())
    server = old_server(app) if kind == "old" else module.bounded_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/predict"
    try:
        return {"server": kind, **burst(url, args.clients, args.requests),
                **stalls(url, server.server_port, args.stalled)}
    finally:
        server.shutdown()
        server.server_close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--stalled", type=int, default=300)
    parser.add_argument("--json", help="write the results here too")
    args = parser.parse_args()
    module = _load()
    machine = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    results = {"machine": machine, "runs": [run(kind, module, args) for kind in ("old", "bounded")]}
    print(json.dumps(results, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
