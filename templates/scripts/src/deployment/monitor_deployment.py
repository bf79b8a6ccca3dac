#!/usr/bin/env python3
"""Watch a deployment for the rollout's observation window: error rate and p95 latency against limits.

Every --interval-seconds it sends a small burst of scoring requests (the smoke-test records) to the deployment,
and to --baseline-deployment when given. On AKS it also reads what every pod of each Deployment answered in the
window (pod_traffic.py: the pods' access log), so the verdict covers the real requests the route sent to the
candidate, not only the probes: server errors, p95 latency, and client errors beyond the stable pods' share.
Exits 1 when the candidate's error rate or p95 latency exceeds the limits, when its p95 latency is more than
25 % (and 20 ms) above the baseline's, or (on AKS) when its pods restarted; the pipeline then rolls back. It
stops early once the error budget of the whole window is spent. Writes a JSON report to --output.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for serving.*
sys.path.insert(0, str(Path(__file__).resolve().parent))

import pod_traffic
from support import add_common_flags, fail, guarded_main, model_file, write_json

from serving.client import percentile, share

BURST = 10  # requests per sample
LATENCY_TOLERANCE = 1.25  # candidate p95 may be this much above the baseline's ...
LATENCY_SLACK_MS = 20.0  # ... plus this, before it counts as a regression
MIN_COMPARED = 100  # requests on each side before their shares of client errors are compared
TEST_DATA = "tests/data/smoke_test_data.json"  # of the model folder


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Monitor a deployment's error rate and latency over a window.")
    add_common_flags(parser)
    parser.add_argument("--endpoint-file", required=True, help="JSON written by deploy.py")
    parser.add_argument("--deployment-name", help="deployment to watch (default: the one deploy.py deployed)")
    parser.add_argument("--duration-seconds", required=True, type=int, help="length of the observation window")
    parser.add_argument("--interval-seconds", required=True, type=int, help="time between two samples")
    parser.add_argument("--max-error-rate", required=True, type=float,
                        help="largest share of failed requests (0-1) the deployment may show")
    parser.add_argument("--max-latency-ms", required=True, type=float, help="largest p95 latency in milliseconds")
    parser.add_argument("--baseline-deployment", help="stable deployment to compare latency with")
    parser.add_argument("--output", help="JSON report")
    return parser


class Window:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.requests = 0
        self.errors = 0
        self.answered_errors = 0  # failed probes a pod answered (an HTTP status), so its log has them too
        self.last_error = ""

    def sample(self, endpoint: Any, records: list[dict[str, Any]], offset: int) -> None:
        for index in range(BURST):
            record = records[(offset + index) % len(records)]
            reply = endpoint.predict([record], timeout=10)
            self.requests += 1
            if reply.ok:
                self.latencies.append(reply.latency_ms)
            else:
                self.errors += 1
                self.answered_errors += 1 if reply.status else 0
                self.last_error = f"{reply.status or reply.error}"

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "errors": self.errors,
                "error_rate": share(self.errors, self.requests),
                "p95_latency_ms": round(percentile(self.latencies, 0.95), 1), "last_error": self.last_error}

    def unanswered(self) -> int:
        """Probes that got no HTTP answer at all (refused, reset, timed out): no pod logged them."""
        return self.errors - self.answered_errors


def with_pods(probes: Window, pods: dict[str, Any] | None) -> dict[str, Any]:
    """The window's verdict input: what the pods logged (real requests and the probes that reached them) plus
    the probes no pod answered; the probes alone when there is no pod log to read."""
    summary = probes.summary()
    if pods is None:
        return summary
    lost = max(0, probes.unanswered())
    requests, errors = pods["requests"] + lost, pods["errors"] + lost
    return {**pods, "requests": requests, "errors": errors,
            "error_rate": share(errors, requests),
            "probes": probes.requests, "last_error": probes.last_error}


def verdict(candidate: dict[str, Any], baseline: dict[str, Any] | None, args: argparse.Namespace) -> list[str]:
    reasons = []
    if candidate["requests"] == 0:
        reasons.append("no requests were sent")
    if candidate["error_rate"] > args.max_error_rate:
        reasons.append(f"error rate {candidate['error_rate']:.2%} > {args.max_error_rate:.2%}")
    if candidate["p95_latency_ms"] > args.max_latency_ms:
        reasons.append(f"p95 latency {candidate['p95_latency_ms']:.0f} ms > {args.max_latency_ms:.0f} ms")
    if candidate.get("restarts"):
        reasons.append(f"the candidate's pods restarted {candidate['restarts']} times in the window (requests they "
                       "held were lost without a log line)")
    if baseline and "client_error_rate" in candidate and min(candidate["requests"], baseline["requests"]) >= \
            MIN_COMPARED:
        extra = candidate["client_error_rate"] - baseline.get("client_error_rate", 0.0)
        if extra > args.max_error_rate:
            reasons.append(f"client errors {candidate['client_error_rate']:.2%} against the baseline's "
                           f"{baseline.get('client_error_rate', 0.0):.2%}: the candidate refuses requests the "
                           "stable version accepts")
    if baseline and baseline["requests"] and baseline["error_rate"] < 1:
        bound = baseline["p95_latency_ms"] * LATENCY_TOLERANCE + LATENCY_SLACK_MS
        if candidate["p95_latency_ms"] > bound:
            reasons.append(f"p95 latency {candidate['p95_latency_ms']:.0f} ms regresses on the baseline's "
                           f"{baseline['p95_latency_ms']:.0f} ms (bound {bound:.0f} ms)")
    return reasons


def _main(argv: list[str] | None) -> int:
    from serving.client import open_endpoint

    args = build_parser().parse_args(argv)
    if args.interval_seconds <= 0 or args.duration_seconds <= 0:
        return fail("--duration-seconds and --interval-seconds must be positive")
    records = json.loads(model_file(TEST_DATA).read_text(encoding="utf-8"))["records"]
    info = json.loads(Path(args.endpoint_file).read_text(encoding="utf-8"))
    name = args.deployment_name or info.get("deployment")
    samples = max(1, args.duration_seconds // args.interval_seconds)
    # A first release has nothing stable beside it yet: deploy.py put it alone on the endpoint, no baseline.
    baseline_name = args.baseline_deployment if args.baseline_deployment != name else None
    known = {*(info.get("traffic") or {}), *(info.get("deployments") or {})}
    if baseline_name and known and baseline_name not in known:
        baseline_name = None
    candidate, baseline = Window(), Window() if baseline_name else None
    kube = info.get("kubernetes")
    with contextlib.ExitStack() as stack:
        endpoint = stack.enter_context(open_endpoint(args.endpoint_file, name))
        reference = (stack.enter_context(open_endpoint(args.endpoint_file, baseline_name))
                     if baseline is not None else None)
        folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="monitor-"))
        since = datetime.now(timezone.utc)
        pods = pod_traffic.PodTraffic(kube, name, since, folder) if kube else None
        baseline_pods = (pod_traffic.PodTraffic(kube, baseline_name, since, folder)
                         if kube and baseline_name else None)
        result = candidate.summary()
        for step in range(samples):
            started = time.monotonic()
            candidate.sample(endpoint, records, step * BURST)
            if baseline is not None:
                baseline.sample(reference, records, step * BURST)
            result = with_pods(candidate, pods.read() if pods else None)
            print(f"[{step + 1}/{samples}] {name}: {result}", flush=True)
            # The budget is the limit's share of the whole window's requests, projected from those so far.
            projected = max(result["requests"] * samples / (step + 1), samples * BURST)
            if result["errors"] > args.max_error_rate * projected:
                print("error budget of the window spent: stopping early")
                break
            if step + 1 < samples:
                time.sleep(max(0.0, args.interval_seconds - (time.monotonic() - started)))
        base = (with_pods(baseline, baseline_pods.read() if baseline_pods else None)
                if baseline is not None else None)
    reasons = verdict(result, base, args)
    report = {"deployment": name, "candidate": result, "baseline": base, "passed": not reasons, "reasons": reasons,
              "limits": {"max_error_rate": args.max_error_rate, "max_latency_ms": args.max_latency_ms,
                         "duration_seconds": args.duration_seconds, "interval_seconds": args.interval_seconds}}
    if args.output:
        write_json(args.output, report)
    for reason in reasons:
        print(f"FAIL: {reason}", file=sys.stderr)
    print(f"monitor {'passed' if not reasons else 'failed'}: {name} {result}")
    return 0 if not reasons else 1


def main(argv: list[str] | None = None) -> int:
    return guarded_main(_main, argv)


if __name__ == "__main__":
    sys.exit(main())
