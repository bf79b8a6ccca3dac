"""The local backend: each deployment is a scoring server (src/serving/app.py) on 127.0.0.1.

There is no traffic router on a laptop: the endpoint URL is the newest deployment, the requested split is
recorded in the endpoint file, and every deployment keeps its own URL so monitoring can compare them.
State lives in <workdir>/serving/<deployment>.json.
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

from support import REPO_ROOT, DeployError

READY_TIMEOUT_SECONDS = 180


def _state_dir(workdir: str) -> Path:
    path = Path(workdir).resolve() / "serving"
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def load(workdir: str, deployment: str) -> dict[str, Any] | None:
    path = _state_dir(workdir) / f"{deployment}.json"
    if not path.exists():
        return None
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return state if _alive(state["pid"]) else None


def stop(workdir: str, deployment: str) -> bool:
    path = _state_dir(workdir) / f"{deployment}.json"
    if not path.exists():
        return False
    state = json.loads(path.read_text(encoding="utf-8"))
    if _alive(state["pid"]):
        os.kill(state["pid"], signal.SIGTERM)
        for _ in range(50):
            if not _alive(state["pid"]):
                break
            time.sleep(0.1)
    path.unlink()
    print(f"stopped local deployment {deployment} (pid {state['pid']})")
    return True


def start(workdir: str, deployment: str, uri: str, version: str) -> dict[str, Any]:
    """Start (or restart with a new model) the scoring server for one deployment and wait until it is healthy."""
    current = load(workdir, deployment)
    if current and current["model_uri"] == uri:
        print(f"local deployment {deployment} already serves {uri} at {current['url']}")
        return current
    stop(workdir, deployment)
    state_dir = _state_dir(workdir)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = state_dir / f"{deployment}.log"
    env = {**os.environ, "MODEL_URI": uri, "MODEL_VERSION": version}
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, str(REPO_ROOT / "src" / "serving" / "app.py"), "--host", "127.0.0.1",
             "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while not _healthy(f"{base}/health"):
        if process.poll() is not None:
            raise DeployError(f"the scoring server exited with {process.returncode}; see {log}")
        if time.monotonic() > deadline:
            process.terminate()
            raise DeployError(f"the scoring server was not healthy after {READY_TIMEOUT_SECONDS}s; see {log}")
        time.sleep(0.5)
    state = {"pid": process.pid, "port": port, "url": f"{base}/predict", "health_url": f"{base}/health",
             "model_uri": uri, "version": version, "log": str(log)}
    (state_dir / f"{deployment}.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    print(f"local deployment {deployment} serves {uri} at {base}")
    return state


def routes(workdir: str) -> dict[str, dict[str, str]]:
    found = {}
    for path in sorted(_state_dir(workdir).glob("*.json")):
        state = load(workdir, path.stem)
        if state:
            found[path.stem] = {"url": state["url"], "health_url": state["health_url"]}
    return found


def promote(workdir: str, stable: str, candidate: str) -> dict[str, Any] | None:
    """The candidate's server becomes the stable deployment; the old stable server stops."""
    state_dir = _state_dir(workdir)
    state = load(workdir, candidate)
    if state is None:
        return load(workdir, stable)
    stop(workdir, stable)
    (state_dir / f"{candidate}.json").rename(state_dir / f"{stable}.json")
    return state


def restore(workdir: str, deployment: str, previous: dict[str, Any] | None) -> None:
    """Undo an in-place update: the previous model back on `deployment`, or nothing when there was none."""
    if previous:
        start(workdir, deployment, previous["model_uri"], str(previous["version"]))
        print(f"restored version {previous['version']} on {deployment}")
    else:
        stop(workdir, deployment)
        print(f"{deployment} had nothing before this release: removed")


def stop_all(workdir: str) -> int:
    """Stop every local deployment under the work dir; returns how many were running."""
    return sum(stop(workdir, path.stem) for path in sorted(_state_dir(workdir).glob("*.json")))


def main(argv: list[str] | None = None) -> int:
    """`python src/deployment/local_target.py stop [--workdir DIR]`: end the scoring servers deploy.py started."""
    import argparse

    parser = argparse.ArgumentParser(description="Manage the local scoring servers started by deploy.py.")
    parser.add_argument("command", choices=["stop", "list"])
    parser.add_argument("--workdir", default=os.environ.get("MLOPS_WORKDIR", ".mlops"))
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, route in routes(args.workdir).items():
            print(f"{name}\t{route['url']}")
        return 0
    print(f"stopped {stop_all(args.workdir)} local deployment(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
