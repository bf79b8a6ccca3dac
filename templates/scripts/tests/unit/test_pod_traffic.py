"""Unit tests of the AKS rollout monitor's view of real traffic: the scoring app's access lines
(src/serving/access_log.py) and their reading from a Deployment's pods (src/deployment/pod_traffic.py), against a
stand-in kubectl that answers like the real one (with a selector, only the last 10 lines per pod unless --tail
says otherwise: `kubectl logs --help`)."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from serving import access_log

ROOT = Path(__file__).resolve().parents[2]

FAKE_KUBECTL = """#!PYTHON
import json, sys
args = sys.argv[1:]
with open(STATE) as handle:
    state = json.load(handle)
state["calls"].append(args)
with open(STATE, "w") as handle:
    json.dump(state, handle)
if "forbidden" in args:
    sys.exit('Error from server (Forbidden): pods "m-1" is forbidden: cannot get resource "pods/log"')
if "get" in args:
    print(json.dumps({"spec": {"selector": {"matchLabels": {"app": "m", "track": "canary"}}}}))
elif "logs" in args:
    lines = state["lines"]
    tail = next((a.split("=", 1)[1] for a in args if a.startswith("--tail=")), "10")
    print("\\n".join(lines if tail == "-1" else lines[-int(tail):]))
else:
    sys.exit(1)
"""


def test_access_lines_round_trip() -> None:
    line = access_log.format_line("POST", "/predict", 503, 12.345)
    assert line == "access POST /predict 503 12.3ms"
    assert access_log.parse_line(f"INFO {line}") == ("POST", "/predict", 503, 12.3)  # after the logger's prefix
    assert access_log.parse_line("[pod/m-1/serving] " + access_log.format_line("get", "/a b", 404, 1)) == (
        "OTHER", "/a?b", 404, 1.0)
    assert access_log.parse_line("records rejected by the model: access POST") is None


@pytest.fixture()
def pod_traffic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                scripts: Callable[[str], Any]) -> tuple[Any, Path]:
    state = tmp_path / "kube.json"
    lines = [access_log.format_line("POST", "/predict", 200, 10.0)] * 30 + \
        [access_log.format_line("POST", "/predict", 500, 2.0)] * 6 + \
        [access_log.format_line("POST", "/predict", 400, 1.0)] * 4 + \
        [access_log.format_line("GET", "/health", 200, 0.5)] * 10
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


def test_every_line_of_every_pod_in_the_window_counts(pod_traffic: tuple[Any, Path], tmp_path: Path) -> None:
    module, state = pod_traffic
    since = datetime(2000, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    reader = module.PodTraffic({"namespace": "models"}, "m-canary", since, str(tmp_path))
    summary = reader.read()
    assert summary == {"requests": 40, "errors": 6, "client_errors": 4, "error_rate": 0.15,
                       "client_error_rate": 0.1, "p95_latency_ms": 10.0}
    calls = json.loads(state.read_text(encoding="utf-8"))["calls"]
    assert calls[-1] == ["--namespace", "models", "logs", "--selector", "app=m,track=canary",
                         "--since-time=" + since.isoformat().replace("+00:00", "Z"), "--tail=-1", "--prefix"]


def test_an_unreadable_log_is_an_error_naming_the_permission(pod_traffic: tuple[Any, Path], tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    module, _ = pod_traffic
    reader = module.PodTraffic({"namespace": "models"}, "m-canary", datetime.now(timezone.utc), str(tmp_path))
    monkeypatch.setattr(reader, "base", [*reader.base[:-1], "forbidden"])  # a namespace it may not read
    with pytest.raises(module.TrafficError, match="Forbidden.*needs read access to deployments and pods/log"):
        reader.read()
