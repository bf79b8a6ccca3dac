"""The local backend: each endpoint is a router on 127.0.0.1 (src/deployment/local_router.py) in front of one
scoring server (src/serving/app.py) per deployment, splitting requests by the endpoint's weights.

State lives in <workdir>/serving/<endpoint>/: router.json, traffic.json ({"weights": {deployment: percent}}) and
deployments/<deployment>.json (model, version, port, process). Records outlive their processes: `suspend` stops
the processes and keeps what serves where, and the next deploy, promote or rollback starts them again, so a work
folder keeps its endpoints from one `mlops-gen run-local` to the next.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess  # nosec B404
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from support import CODE_ROOT, DeployError

READY_TIMEOUT_SECONDS = 180


def _endpoint_dir(workdir: str, endpoint: str) -> Path:
    path = Path(workdir).resolve() / "serving" / endpoint
    (path / "deployments").mkdir(parents=True, exist_ok=True)
    return path


def _endpoints(workdir: str) -> list[str]:
    root = Path(workdir).resolve() / "serving"
    return sorted(path.name for path in root.iterdir() if path.is_dir()) if root.is_dir() else []


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:  # noqa: S310  # nosec B310
            return bool(reply.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _terminate(pid: int) -> None:
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not _alive(pid):
                return
            time.sleep(0.1)


def _spawn(argv: list[str], env: dict[str, str], log: Path, health: str, what: str) -> int:
    with log.open("ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,  # noqa: S603  # nosec B603
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not _healthy(health):
        if process.poll() is not None:
            raise DeployError(f"{what} exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            process.terminate()
            raise DeployError(f"{what} was not ready after {READY_TIMEOUT_SECONDS}s; see {log}")
        time.sleep(0.2)
    return process.pid


def recorded(workdir: str, endpoint: str, deployment: str) -> dict[str, Any] | None:
    """What `deployment` serves, whether or not its process runs now."""
    return _read(_endpoint_dir(workdir, endpoint) / "deployments" / f"{deployment}.json")


def load(workdir: str, endpoint: str, deployment: str) -> dict[str, Any] | None:
    """The running scoring server of `deployment`, started again from its record when it was suspended."""
    state = recorded(workdir, endpoint, deployment)
    if state is None:
        return None
    if not _alive(state["pid"]):
        state = start(workdir, endpoint, deployment, state["model_uri"], str(state["version"]))
    return state


def ensure_router(workdir: str, endpoint: str) -> dict[str, Any]:
    folder = _endpoint_dir(workdir, endpoint)
    state = _read(folder / "router.json")
    if state and _alive(state["pid"]):
        return state
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    pid = _start_router(folder, port)
    state = {"pid": pid, "port": port, "url": f"{base}/predict", "health_url": f"{base}/health"}
    _write(folder / "router.json", state)
    return state


def _start_router(folder: Path, port: int) -> int:
    """The router answers 503 while no deployment takes traffic: ready means its port accepts connections."""
    with (folder / "router.log").open("ab") as out:
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, str(CODE_ROOT / "src" / "deployment" / "local_router.py"), "--state-dir", str(folder),
             "--port", str(port)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process.pid
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise DeployError(f"the local router did not start; see {folder / 'router.log'}") from None
            time.sleep(0.1)


def start(workdir: str, endpoint: str, deployment: str, uri: str, version: str) -> dict[str, Any]:
    """Start (or restart with a new model) the scoring server of one deployment and wait until it is healthy."""
    folder = _endpoint_dir(workdir, endpoint)
    ensure_router(workdir, endpoint)
    current = recorded(workdir, endpoint, deployment)
    if current and current["model_uri"] == uri and _alive(current["pid"]):
        print(f"local deployment {deployment} already serves {uri}")
        return current
    if current:
        _terminate(current["pid"])
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "deployments" / f"{deployment}.log"
    env = {**os.environ, "MODEL_URI": uri, "MODEL_VERSION": version}
    # The server loads the model from the local registry, whichever script (re)starts it.
    env.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{(Path(workdir).resolve() / 'mlflow.db').as_posix()}")
    pid = _spawn([sys.executable, str(CODE_ROOT / "src" / "serving" / "app.py"), "--host", "127.0.0.1", "--port",
                  str(port)], env, log, f"{base}/health", "the scoring server")
    state = {"pid": pid, "port": port, "model_uri": uri, "version": version, "log": str(log)}
    _write(folder / "deployments" / f"{deployment}.json", state)
    print(f"local deployment {deployment} of {endpoint} serves {uri}")
    return state


def stop(workdir: str, endpoint: str, deployment: str) -> bool:
    """Stop `deployment` and forget it (it takes no traffic afterwards)."""
    folder = _endpoint_dir(workdir, endpoint)
    state = recorded(workdir, endpoint, deployment)
    if state is None:
        return False
    _terminate(state["pid"])
    (folder / "deployments" / f"{deployment}.json").unlink()
    weights = traffic(workdir, endpoint)
    if deployment in weights:
        set_traffic(workdir, endpoint, {name: pct for name, pct in weights.items() if name != deployment})
    print(f"stopped local deployment {deployment} of {endpoint}")
    return True


def traffic(workdir: str, endpoint: str) -> dict[str, int]:
    data = _read(_endpoint_dir(workdir, endpoint) / "traffic.json") or {}
    return {str(name): int(pct) for name, pct in (data.get("weights") or {}).items()}


def set_traffic(workdir: str, endpoint: str, weights: dict[str, int]) -> None:
    """The split the router applies from its next request on; like Azure ML, it sums to 100 (or nothing)."""
    if weights and sum(weights.values()) != 100:
        raise DeployError(f"traffic {weights} does not sum to 100")
    _write(_endpoint_dir(workdir, endpoint) / "traffic.json", {"weights": dict(sorted(weights.items()))})
    print(f"traffic on {endpoint}: {weights}")


def endpoint_urls(workdir: str, endpoint: str) -> dict[str, Any]:
    """The endpoint's address and each deployment's direct address, both through the router."""
    router = ensure_router(workdir, endpoint)
    base = f"http://127.0.0.1:{router['port']}"
    names = sorted(path.stem for path in (_endpoint_dir(workdir, endpoint) / "deployments").glob("*.json"))
    return {"url": f"{base}/predict", "health_url": f"{base}/health",
            "deployments": {name: {"url": f"{base}/deployments/{name}/predict",
                                   "health_url": f"{base}/deployments/{name}/health"} for name in names}}


def promote(workdir: str, endpoint: str, stable: str, candidate: str) -> dict[str, Any] | None:
    """The candidate's server becomes the stable deployment with all traffic; the old stable server stops."""
    folder = _endpoint_dir(workdir, endpoint) / "deployments"
    state = load(workdir, endpoint, candidate)
    if state is None:
        return load(workdir, endpoint, stable)
    set_traffic(workdir, endpoint, {candidate: 100})
    old = recorded(workdir, endpoint, stable)
    if old:
        _terminate(old["pid"])
    (folder / f"{candidate}.json").replace(folder / f"{stable}.json")
    set_traffic(workdir, endpoint, {stable: 100})
    return state


def rollback(workdir: str, endpoint: str, stable: str, candidate: str) -> None:
    """All traffic back on the stable deployment and the candidate removed; nothing serves after a first
    release."""
    if load(workdir, endpoint, stable) is not None:
        set_traffic(workdir, endpoint, {stable: 100})
    stop(workdir, endpoint, candidate)


def restore(workdir: str, endpoint: str, deployment: str, previous: dict[str, Any] | None) -> None:
    """Undo an in-place update: the previous model back on `deployment`, or nothing when there was none."""
    if previous:
        start(workdir, endpoint, deployment, previous["model_uri"], str(previous["version"]))
        set_traffic(workdir, endpoint, {deployment: 100})
        print(f"restored version {previous['version']} on {deployment}")
    else:
        stop(workdir, endpoint, deployment)
        print(f"{deployment} had nothing before this release: removed")


def status(workdir: str) -> dict[str, Any]:
    """Per endpoint: the traffic weights and the model version each deployment serves."""
    out: dict[str, Any] = {}
    for endpoint in _endpoints(workdir):
        folder = _endpoint_dir(workdir, endpoint) / "deployments"
        versions = {path.stem: str((_read(path) or {}).get("version")) for path in sorted(folder.glob("*.json"))}
        out[endpoint] = {"weights": traffic(workdir, endpoint), "deployments": versions}
    return out


def aliases(workdir: str, model_name: str, names: list[str]) -> dict[str, str | None]:
    """The version holding each alias in the local registry (None: no version holds it)."""
    import argparse

    from common.backend import configure_mlflow
    from common.registry import client, version_by_alias

    configure_mlflow(argparse.Namespace(backend="local", workdir=workdir))
    registry = client()
    found = {name: version_by_alias(registry, model_name, name) for name in names}
    return {name: str(version.version) if version is not None else None for name, version in found.items()}


def suspend_all(workdir: str) -> int:
    """Stop every process under the work dir, keeping the records; returns how many were running."""
    count = 0
    for endpoint in _endpoints(workdir):
        folder = _endpoint_dir(workdir, endpoint)
        for path in [folder / "router.json", *sorted((folder / "deployments").glob("*.json"))]:
            state = _read(path)
            if state and _alive(state["pid"]):
                _terminate(state["pid"])
                count += 1
    return count


def stop_all(workdir: str) -> int:
    """Stop every local deployment and router under the work dir and forget them; returns how many ran."""
    count = suspend_all(workdir)
    for endpoint in _endpoints(workdir):
        folder = _endpoint_dir(workdir, endpoint)
        for path in [folder / "router.json", folder / "traffic.json", *(folder / "deployments").glob("*.json")]:
            path.unlink(missing_ok=True)
    return count


def main(argv: list[str] | None = None) -> int:
    """`python src/deployment/local_target.py stop|suspend|list|status [--workdir DIR]`."""
    import argparse

    parser = argparse.ArgumentParser(description="Manage the local endpoints started by deploy.py.")
    parser.add_argument("command", choices=["stop", "suspend", "list", "status"])
    parser.add_argument("--workdir", default=os.environ.get("MLOPS_WORKDIR", ".mlops"))
    parser.add_argument("--model-name", help="status: also the version holding each --alias")
    parser.add_argument("--alias", action="append", default=[], help="status: an alias to report (repeatable)")
    args = parser.parse_args(argv)
    if args.command == "status":
        report: dict[str, Any] = {"endpoints": status(args.workdir), "aliases": {}}
        if args.model_name:
            report["aliases"] = aliases(args.workdir, args.model_name, args.alias)
        print(json.dumps(report, indent=2, sort_keys=True))
        return 0
    if args.command == "list":
        for endpoint, item in status(args.workdir).items():
            for name, version in item["deployments"].items():
                print(f"{endpoint}\t{name}\tversion {version}\t{item['weights'].get(name, 0)}%")
        return 0
    if args.command == "suspend":
        print(f"suspended {suspend_all(args.workdir)} local process(es)")
        return 0
    print(f"stopped {stop_all(args.workdir)} local process(es)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
