"""One line per request the scoring app answered, in one format its writer and its readers share.

The app writes `access <METHOD> <path> <status> <milliseconds>ms` for every request; the rollout monitor reads
these lines back from the pods of a Kubernetes track (`kubectl logs`), so a canary is judged on every request
its pods served, the Gateway's real traffic included, not only on the monitor's own probes.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE = re.compile(r"\baccess (?P<method>[A-Z]+) (?P<path>/\S*) (?P<status>[1-5]\d\d) (?P<ms>\d+(?:\.\d+)?)ms$")


class Access(NamedTuple):
    method: str
    path: str
    status: int
    latency_ms: float


def format_line(method: str, path: str, status: int, latency_ms: float) -> str:
    # The path is the app's own routing path; a client's odd bytes never make a line unreadable.
    safe_path = "/" + "".join(c if c.isprintable() and not c.isspace() else "?" for c in path.lstrip("/"))
    return f"access {method if method.isalpha() and method.isupper() else 'OTHER'} {safe_path} {status} " \
           f"{latency_ms:.1f}ms"


def parse_line(line: str) -> Access | None:
    """The request a log line records (whatever prefix the logger or `kubectl logs --prefix` put first)."""
    match = _LINE.search(line.rstrip())
    if not match:
        return None
    return Access(match["method"], match["path"], int(match["status"]), float(match["ms"]))
