"""The seed guide's endpoint tests: availability, prediction shape, latency bound, load with a maximum error rate."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from serving.client import Endpoint, percentile, predictions_of


def test_available(endpoint: Endpoint, records: list[dict[str, Any]]) -> None:
    health = endpoint.health()
    if health is not None:
        assert health.ok, f"health: {health.status} {health.error or health.body}"
    reply = endpoint.predict(records[:1])
    assert reply.ok, f"predict: {reply.status} {reply.error or reply.body}"


def test_prediction_shape(endpoint: Endpoint, records: list[dict[str, Any]]) -> None:
    reply = endpoint.predict(records)
    assert reply.ok, f"predict: {reply.status} {reply.error or reply.body}"
    assert isinstance(reply.body, list) and len(reply.body) == len(records), reply.body  # the guide's check
    predictions = predictions_of(reply.body, len(records))
    assert predictions is not None, reply.body
    assert all(isinstance(value, (int, float, str, bool)) for value in predictions), predictions


def test_rejects_malformed_input(endpoint: Endpoint) -> None:
    reply = endpoint.call("POST", endpoint.url, {"not_records": []})
    assert reply.status == 400, f"expected 400 for a body without records, got {reply.status} {reply.body}"


def test_latency_bound(endpoint: Endpoint, records: list[dict[str, Any]], limits: dict[str, float]) -> None:
    endpoint.predict(records[:1])  # warm-up: the first call may load lazily
    latencies = []
    for index in range(20):
        reply = endpoint.predict([records[index % len(records)]])
        assert reply.ok, f"predict: {reply.status} {reply.error or reply.body}"
        latencies.append(reply.latency_ms)
    p95 = percentile(latencies, 0.95)
    assert p95 <= limits["max_latency_ms"], f"p95 latency {p95:.0f} ms > {limits['max_latency_ms']:.0f} ms"


def test_load_error_rate(endpoint: Endpoint, records: list[dict[str, Any]], limits: dict[str, float]) -> None:
    total = int(limits["load_requests"])

    def one(index: int) -> bool:
        return endpoint.predict([records[index % len(records)]]).ok

    with ThreadPoolExecutor(max_workers=int(limits["load_concurrency"])) as pool:
        results = list(pool.map(one, range(total)))
    error_rate = results.count(False) / total
    assert error_rate <= limits["max_error_rate"], f"error rate {error_rate:.1%} over {total} requests"
