"""Unit tests of the AKS rollout monitor's view of real traffic: the scoring app's log lines
(src/serving/access_log.py) and their reading from a Deployment's pods (src/deployment/pod_traffic.py), against a
stand-in kubectl that answers like the real one: pods listed by selector, each pod's log since an instant with
timestamps, an error for a container not started yet."""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from serving import access_log

ROOT = Path(__file__).resolve().parents[2]  # the code: src/ is beside tests/
LATER = datetime(2999, 1, 1, tzinfo=timezone.utc)  # after any window start


def stamp(seconds: int) -> str:
    """An instant as kubectl --timestamps prints it (RFC 3339, UTC)."""
    return (LATER + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

FAKE_KUBECTL = """#!PYTHON
import json, sys
args = sys.argv[1:]
with open(STATE) as handle:
    state = json.load(handle)
state["calls"].append(args)
with open(STATE, "w") as handle:
    json.dump(state, handle)
if "forbidden" in args:
    sys.exit('Error from server (Forbidden): pods is forbidden: cannot list resource "pods"')
if args[2:4] == ["get", "deployment"]:
    print(json.dumps({"spec": {"selector": {"matchLabels": {"app": "m", "track": "canary"}}}}))
elif args[2:4] == ["get", "pods"]:
    print(json.dumps({"items": [
        {"metadata": {"name": "m-1"}, "status": {"containerStatuses": [
            {"name": "serving", "restartCount": 0, "state": {"running": {}}}]}},
        {"metadata": {"name": "m-2"}, "status": {"containerStatuses": [
            {"name": "serving", "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}}]}}]}))
elif args[2] == "logs" and args[3] == "m-1":
    since = next(a.split("=", 1)[1] for a in args if a.startswith("--since-time="))
    print("\\n".join(f"{stamp} {line}" for stamp, line in state["lines"] if stamp >= since))
else:
    sys.exit("container serving is waiting to start: ContainerCreating")
"""


def record(message: str) -> str:
    return access_log.OneLineFormatter(access_log.FORMAT).format(logging.makeLogRecord(
        {"msg": message, "levelname": "INFO", "levelno": logging.INFO}))


def test_access_lines_round_trip() -> None:
    line = record(access_log.format_line("POST", "/predict", 503, 12.345))
    assert line.endswith(" INFO access POST /predict 503 12.3ms")
    assert access_log.parse_line(line) == ("POST", "/predict", 503, 12.3)
    odd = record(access_log.format_line("get", "/a b", 404, 1))
    assert access_log.parse_line(odd) == ("OTHER", "/a?b", 404, 1.0)
    # Another record quoting a forged request stays on its own line and is not a request.
    forged = record("records rejected: 'x\n" + line + "'")
    assert "\n" not in forged and access_log.parse_line(forged) is None


@pytest.fixture()
def pod_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                scripts: Callable[[str], Any]) -> tuple[Any, Path]:
    state = tmp_path / "kube.json"
    messages = [access_log.format_line("POST", "/predict", 200, 10.0)] * 30 + \
        [access_log.format_line("POST", "/predict", 500, 2.0)] * 6 + \
        [access_log.format_line("POST", "/predict", 400, 1.0)] * 4 + \
        [access_log.format_line("GET", "/health", 200, 0.5)] * 10
    lines = [(stamp(index), record(message)) for index, message in enumerate(messages)]
    state.write_text(json.dumps({"calls": [], "lines": lines}), encoding="utf-8")
    kubectl = tmp_path / "bin" / "kubectl"
    kubectl.parent.mkdir()
    kubectl.write_text(FAKE_KUBECTL.replace("PYTHON", sys.executable).replace("STATE", repr(str(state))),
                       encoding="utf-8")
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{kubectl.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    folder = str(ROOT / "src" / "deployment")
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return scripts("deployment/pod_traffic.py"), state


def test_every_line_of_every_started_pod_counts_once(pod_traffic: tuple[Any, Path], tmp_path: Path) -> None:
    module, state = pod_traffic
    since = datetime(2000, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    reader = module.PodTraffic({"namespace": "models"}, "m-canary", since, str(tmp_path))
    expected = {"requests": 40, "errors": 6, "client_errors": 4, "error_rate": 0.15, "client_error_rate": 0.1,
                "p95_latency_ms": 10.0, "pods": 2, "restarts": 0, "unreadable_pods": []}
    assert reader.read() == expected
    assert reader.read() == expected  # the second read starts at the last line and counts nothing twice
    logs = [call for call in json.loads(state.read_text(encoding="utf-8"))["calls"] if call[2] == "logs"]
    assert [call[3] for call in logs] == ["m-1", "m-1"]  # m-2 has not started: nothing to read
    assert "--since-time=" + since.isoformat().replace("+00:00", "Z") in logs[0]
    assert f"--since-time={stamp(49)}" in logs[1]  # the last line's instant
    assert module.instant(stamp(5).replace("Z", ".1Z")) > module.instant(stamp(5).replace("Z", ".05Z"))


def test_an_unlistable_deployment_is_an_error_naming_the_permission(pod_traffic: tuple[Any, Path], tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    module, _ = pod_traffic
    reader = module.PodTraffic({"namespace": "models"}, "m-canary", datetime.now(timezone.utc), str(tmp_path))
    monkeypatch.setattr(reader, "base", [*reader.base[:-1], "forbidden"])  # a namespace it may not read
    with pytest.raises(module.TrafficError, match="Forbidden.*needs read access to deployments, pods and pods/log"):
        reader.read()
