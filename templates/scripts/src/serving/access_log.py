"""The scoring app's log: one physical line per record, and one access line per request, in one format its
writer and its readers share.

The app writes `<asctime> INFO access <METHOD> <path> <status> <milliseconds>ms` for every request; the rollout
monitor reads these lines back from the pods of a Kubernetes track (`kubectl logs`), so a canary is judged on
every request its pods served, the Gateway's real traffic included, not only on the monitor's own probes.
Every record is kept on one line (line breaks escaped, tracebacks included): a model error that quotes a
client's value cannot start a line of its own and pass for a request.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

FORMAT = "%(asctime)s %(levelname)s %(message)s"
_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO access (?P<method>[A-Z]+) (?P<path>/\S*) "
                   r"(?P<status>[1-5]\d\d) (?P<ms>\d+(?:\.\d+)?)ms")


class Access(NamedTuple):
    method: str
    path: str
    status: int
    latency_ms: float


class OneLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\r", "\\r").replace("\n", "\\n")


def configure(level: str) -> None:
    """The root logger as the app logs: to stderr (the container's log), one line per record."""
    handler = logging.StreamHandler()
    handler.setFormatter(OneLineFormatter(FORMAT))
    logging.basicConfig(level=level, handlers=[handler])


def format_line(method: str, path: str, status: int, latency_ms: float) -> str:
    # The path is the app's own routing path; a client's odd bytes never make a line unreadable.
    safe_path = "/" + "".join(c if c.isprintable() and not c.isspace() else "?" for c in path.lstrip("/"))
    return f"access {method if method.isalpha() and method.isupper() else 'OTHER'} {safe_path} {status} " \
           f"{latency_ms:.1f}ms"


def parse_line(line: str) -> Access | None:
    """The request a whole log record line records (as the formatter wrote it), else None."""
    match = _LINE.fullmatch(line.rstrip("\r\n"))
    if not match:
        return None
    return Access(match["method"], match["path"], int(match["status"]), float(match["ms"]))
