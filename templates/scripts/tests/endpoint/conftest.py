"""Endpoint tests run against any deployed endpoint:

    pytest tests/endpoint --endpoint-file endpoint.json        # the file src/deployment/deploy.py wrote
    ENDPOINT_URL=http://127.0.0.1:8080 pytest tests/endpoint   # or a bare URL

Limits come from options or environment variables, so a pipeline can pass the spec's rollout thresholds.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import yaml

from common.paths import model_file
from serving.client import Endpoint, open_endpoint


def _monitor_limits() -> dict[str, Any]:
    """The spec's rollout.monitor thresholds, from the model's config/pipeline.yaml."""
    settings = yaml.safe_load(model_file("config/pipeline.yaml").read_text(encoding="utf-8"))
    return dict(settings["rollout"]["monitor"])


DEFAULT_TEST_DATA = str(model_file("tests/data/smoke_test_data.json"))


def pytest_addoption(parser: pytest.Parser) -> None:
    env = os.environ.get
    limits = _monitor_limits()
    group = parser.getgroup("endpoint")
    group.addoption("--endpoint-file", default=env("ENDPOINT_FILE"),
                    help="endpoint JSON from deploy.py (default: $ENDPOINT_FILE; or set $ENDPOINT_URL)")
    group.addoption("--deployment", default=env("ENDPOINT_DEPLOYMENT"),
                    help="test this deployment directly, bypassing the traffic split (an idle blue-green one)")
    group.addoption("--test-data", default=env("ENDPOINT_TEST_DATA", DEFAULT_TEST_DATA),
                    help='records to send: {"records": [...]}')
    group.addoption("--max-latency-ms", type=float,
                    default=float(env("ENDPOINT_MAX_LATENCY_MS") or limits["max_latency_ms"]),
                    help="p95 latency bound for single requests")
    group.addoption("--max-error-rate", type=float,
                    default=float(env("ENDPOINT_MAX_ERROR_RATE") or limits["max_error_rate"]),
                    help="highest error rate tolerated under load")
    group.addoption("--load-requests", type=int, default=int(env("ENDPOINT_LOAD_REQUESTS", "100")),
                    help="requests sent by the load test (at most 10000)")
    group.addoption("--load-concurrency", type=int, default=int(env("ENDPOINT_LOAD_CONCURRENCY", "8")),
                    help="parallel clients in the load test (at most 64)")


@pytest.fixture(scope="session")
def endpoint(pytestconfig: pytest.Config) -> Iterator[Endpoint]:
    endpoint_file = pytestconfig.getoption("endpoint_file")
    if not endpoint_file and not os.environ.get("ENDPOINT_URL"):
        # A plain `pytest tests` (unit tests, code quality) has no endpoint: these tests only run against one.
        pytest.skip("no endpoint: pass --endpoint-file or set ENDPOINT_FILE / ENDPOINT_URL")
    with open_endpoint(endpoint_file, pytestconfig.getoption("deployment")) as opened:
        yield opened


@pytest.fixture(scope="session")
def records(pytestconfig: pytest.Config) -> list[dict[str, Any]]:
    data = json.loads(Path(pytestconfig.getoption("test_data")).read_text(encoding="utf-8"))
    rows: list[dict[str, Any]] = data["records"]
    assert rows, "the test data holds no records"
    return rows


@pytest.fixture(scope="session")
def limits(pytestconfig: pytest.Config) -> dict[str, float]:
    return {
        "max_latency_ms": pytestconfig.getoption("max_latency_ms"),
        "max_error_rate": pytestconfig.getoption("max_error_rate"),
        "load_requests": min(max(1, pytestconfig.getoption("load_requests")), 10_000),
        "load_concurrency": min(max(1, pytestconfig.getoption("load_concurrency")), 64),
    }
