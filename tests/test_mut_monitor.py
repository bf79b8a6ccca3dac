"""Tests written for mutation testing of the rollout monitor (templates/scripts/src/deployment/monitor_deployment.py):
the verdict a canary or blue-green rollout acts on, and the window's counts. Imported in-process from the templates
under its path's module name (see tests/test_boundaries.py), so these run in the fast suite."""

from __future__ import annotations

import argparse
from types import SimpleNamespace
from typing import Any

import pytest

from tests.template_scripts import load_script

monitor = load_script("deployment/monitor_deployment.py")

LIMITS = argparse.Namespace(max_error_rate=0.05, max_latency_ms=500.0)


def _window(requests: int = 100, error_rate: float = 0.0, p95: float = 100.0) -> dict[str, Any]:
    return {"requests": requests, "errors": int(requests * error_rate), "error_rate": error_rate,
            "p95_latency_ms": p95, "last_error": ""}


def test_a_healthy_candidate_passes() -> None:
    assert monitor.verdict(_window(), None, LIMITS) == []


def test_limits_are_inclusive() -> None:
    assert monitor.verdict(_window(error_rate=0.05, p95=500.0), None, LIMITS) == []


def test_each_limit_fails_with_its_reason() -> None:
    assert monitor.verdict(_window(error_rate=0.0501, p95=500.4), None, LIMITS) == [
        "error rate 5.01% > 5.00%", "p95 latency 500 ms > 500 ms"]
    assert monitor.verdict(_window(requests=0), None, LIMITS) == ["no requests were sent"]


def test_latency_regression_against_a_healthy_baseline() -> None:
    baseline = _window(p95=200.0)  # bound: 200 * 1.25 + 20 = 270 ms
    assert monitor.verdict(_window(p95=270.0), baseline, LIMITS) == []
    assert monitor.verdict(_window(p95=270.5), baseline, LIMITS) == [
        "p95 latency 270 ms regresses on the baseline's 200 ms (bound 270 ms)"]


@pytest.mark.parametrize("baseline", [_window(requests=0, p95=10.0), _window(error_rate=1.0, p95=10.0)])
def test_a_baseline_without_successful_requests_is_not_compared(baseline: dict[str, Any]) -> None:
    assert monitor.verdict(_window(p95=400.0), baseline, LIMITS) == []


def test_a_baseline_with_some_errors_is_still_compared() -> None:
    assert monitor.verdict(_window(p95=400.0), _window(error_rate=0.99, p95=10.0), LIMITS) != []


class _Endpoint:
    def __init__(self, replies: list[Any]) -> None:
        self.replies = replies
        self.sent: list[Any] = []

    def predict(self, records: list[Any], timeout: float) -> Any:
        assert timeout == 10
        self.sent.append(records)
        return self.replies[len(self.sent) - 1]


def test_window_counts_requests_errors_and_latency() -> None:
    ok = [SimpleNamespace(ok=True, latency_ms=float(ms), status=200, error="") for ms in range(1, 9)]
    bad = [SimpleNamespace(ok=False, latency_ms=0.0, status=503, error=""),
           SimpleNamespace(ok=False, latency_ms=0.0, status=None, error="timed out")]
    endpoint = _Endpoint([*ok, *bad])
    window = monitor.Window()
    window.sample(endpoint, [{"r": 0}, {"r": 1}, {"r": 2}], offset=4)
    assert endpoint.sent[:4] == [[{"r": 1}], [{"r": 2}], [{"r": 0}], [{"r": 1}]]  # records cycle from the offset
    assert len(endpoint.sent) == monitor.BURST == 10
    assert window.summary() == {"requests": 10, "errors": 2, "error_rate": 0.2, "p95_latency_ms": 8.0,
                                "last_error": "timed out"}


def test_an_empty_window_has_no_error_rate() -> None:
    assert monitor.Window().summary() == {"requests": 0, "errors": 0, "error_rate": 0.0, "p95_latency_ms": 0.0,
                                          "last_error": ""}


def test_error_rate_is_rounded_to_four_places() -> None:
    window = monitor.Window()
    window.requests, window.errors = 3, 1
    assert window.summary()["error_rate"] == 0.3333


def test_p95_is_the_nearest_rank_rounded_to_a_tenth() -> None:
    window = monitor.Window()
    window.requests, window.latencies = 20, [i + 0.26 for i in range(1, 21)]
    assert window.summary()["p95_latency_ms"] == 19.3  # the 19th of 20, not the 20th


# --- the whole run, against a stand-in endpoint --------------------------------------------------------------

class _Reply(SimpleNamespace):
    pass


sleeps: list[float] = []


def _run(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *extra: str,
         fail_every: int = 0, info: dict[str, Any] | None = None, baseline_ms: float = 40.0,
         clock: Any = None) -> tuple[int, dict[str, Any], list[Any], str]:
    import contextlib
    import json

    (tmp_path / "data.json").write_text(json.dumps({"records": [{"x": 1}, {"x": 2}]}), encoding="utf-8")
    (tmp_path / "endpoint.json").write_text(json.dumps(info or {"deployment": "green"}), encoding="utf-8")
    monkeypatch.setattr(monitor, "TEST_DATA", tmp_path / "data.json")
    opened: list[Any] = []
    sleeps.clear()

    class Endpoint:
        def __init__(self, name: str | None) -> None:
            self.name, self.count = name, 0

        def predict(self, records: list[Any], timeout: float) -> Any:
            self.count += 1
            bad = fail_every and self.name == "green" and self.count % fail_every == 0
            return _Reply(ok=not bad, latency_ms=50.0 if self.name == "green" else baseline_ms, status=500, error="")

    @contextlib.contextmanager
    def open_endpoint(endpoint_file: str, name: str | None) -> Any:
        assert endpoint_file == str(tmp_path / "endpoint.json")
        endpoint = Endpoint(name)
        opened.append(endpoint)
        yield endpoint

    monkeypatch.setattr("serving.client.open_endpoint", open_endpoint)  # imported here if no test did yet
    monkeypatch.setattr(monitor.time, "sleep", lambda seconds: sleeps.append(seconds))
    monkeypatch.setattr(monitor.time, "monotonic", clock or (lambda: 1000.0))  # default: a sample takes no time
    code = monitor.main(["--endpoint-file", str(tmp_path / "endpoint.json"), "--duration-seconds", "30",
                         "--interval-seconds", "10", "--max-error-rate", "0.1", "--max-latency-ms", "100",
                         "--output", str(tmp_path / "report.json"), *extra])
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8")) if (
        tmp_path / "report.json").exists() else {}
    return code, report, opened, capsys.readouterr().err


def test_main_watches_the_deployed_candidate_for_the_whole_window(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, report, opened, _ = _run(tmp_path, monkeypatch, capsys)
    assert code == 0 and report["passed"] is True and report["reasons"] == []
    assert [e.name for e in opened] == ["green"] and opened[0].count == 3 * monitor.BURST
    assert report["deployment"] == "green" and report["baseline"] is None
    assert report["candidate"]["requests"] == 30
    assert report["limits"] == {"max_error_rate": 0.1, "max_latency_ms": 100.0, "duration_seconds": 30,
                                "interval_seconds": 10}


def test_main_compares_with_a_known_baseline(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    code, report, opened, _ = _run(tmp_path, monkeypatch, capsys, "--baseline-deployment", "blue",
                                   info={"deployment": "green", "traffic": {"blue": 90, "green": 10}})
    assert code == 0 and [e.name for e in opened] == ["green", "blue"]
    assert report["baseline"]["requests"] == 30 and report["baseline"]["p95_latency_ms"] == 40.0


@pytest.mark.parametrize("info", [{"deployment": "green", "deployments": {"green": {}}}, {"deployment": "blue"},
                                  {"deployment": "green", "traffic": {"green": 100}}])
def test_main_skips_a_baseline_that_is_unknown_or_the_candidate(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str],
                                                                info: dict[str, Any]) -> None:
    code, report, opened, _ = _run(tmp_path, monkeypatch, capsys, "--baseline-deployment", "blue", info=info)
    assert code == 0 and report["baseline"] is None and len(opened) == 1


def test_main_stops_early_once_the_error_budget_is_spent(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    # budget: int(0.1 * 3 samples * 10) = 3 errors; every second request fails: 5 errors in the first sample
    code, report, opened, err = _run(tmp_path, monkeypatch, capsys, fail_every=2)
    assert code == 1 and opened[0].count == monitor.BURST
    assert report["passed"] is False and report["reasons"] == ["error rate 50.00% > 10.00%"]
    assert "FAIL: error rate 50.00% > 10.00%" in err


@pytest.mark.parametrize("flags", [("--interval-seconds", "0"), ("--duration-seconds", "0")])
def test_main_refuses_a_window_that_is_not_positive(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str], flags: tuple[str, str]) -> None:
    code, report, opened, err = _run(tmp_path, monkeypatch, capsys, *flags)
    assert code == 1 and report == {} and opened == []
    assert "error: --duration-seconds and --interval-seconds must be positive" in err


def test_main_sleeps_out_each_interval_but_not_after_the_last_sample(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _, _ = _run(tmp_path, monkeypatch, capsys)
    assert code == 0 and sleeps == [10.0, 10.0]


def test_main_sleeps_only_what_is_left_of_the_interval(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The time a sample took counts against its interval (10 s): a 4 s sample is followed by 6 s of sleep, a
    12 s one by none, so the window keeps its length and its number of samples."""
    # (start, end) of the two samples followed by a sleep, then the last sample's start
    readings = iter([0.0, 4.0, 100.0, 112.0, 200.0])
    code, _, _, _ = _run(tmp_path, monkeypatch, capsys, clock=lambda: next(readings))
    assert code == 0 and sleeps == [6.0, 0.0]


def test_main_prints_progress_and_the_outcome(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, monkeypatch, capsys)  # sets the stand-ins up; its output is read already: run once more
    code = monitor.main(["--endpoint-file", str(tmp_path / "endpoint.json"), "--duration-seconds", "20",
                         "--interval-seconds", "10", "--max-error-rate", "0.1", "--max-latency-ms", "100"])
    out = capsys.readouterr().out.splitlines()
    summary = {"requests": 10, "errors": 0, "error_rate": 0.0, "p95_latency_ms": 50.0, "last_error": ""}
    assert out[0] == f"[1/2] green: {summary}"
    assert out[-1] == f"monitor passed: green {({**summary, 'requests': 20})}"
    assert code == 0


def test_main_reports_a_failure_on_stdout_too(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _, _ = _run(tmp_path, monkeypatch, capsys, "--max-latency-ms", "10")
    assert code == 1
    code = monitor.main(["--endpoint-file", str(tmp_path / "endpoint.json"), "--duration-seconds", "10",
                         "--interval-seconds", "10", "--max-error-rate", "0.1", "--max-latency-ms", "10"])
    out = capsys.readouterr().out.splitlines()
    assert code == 1 and out[-1].startswith("monitor failed: green {")


def test_an_error_count_equal_to_the_budget_does_not_stop_the_window(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # budget int(0.1 * 3 * 10) = 3; every third request fails: 3 errors after the first sample (exactly the budget:
    # go on), 6 after the second (over it: stop)
    _, report, opened, _ = _run(tmp_path, monkeypatch, capsys, fail_every=3)
    assert opened[0].count == 2 * monitor.BURST and report["candidate"]["errors"] == 6


def test_main_announces_an_early_stop(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    _run(tmp_path, monkeypatch, capsys, fail_every=2)
    code = monitor.main(["--endpoint-file", str(tmp_path / "endpoint.json"), "--duration-seconds", "30",
                         "--interval-seconds", "10", "--max-error-rate", "0.1", "--max-latency-ms", "100"])
    assert code == 1 and "error budget of the window spent: stopping early" in capsys.readouterr().out.splitlines()


@pytest.mark.parametrize(("duration", "interval", "requests"), [("5", "10", 10), ("1", "1", 10), ("3", "1", 30)])
def test_a_window_has_at_least_one_sample(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str], duration: str, interval: str,
                                          requests: int) -> None:
    code, report, _, _ = _run(tmp_path, monkeypatch, capsys, "--duration-seconds", duration,
                              "--interval-seconds", interval)
    assert code == 0 and report["candidate"]["requests"] == requests


def test_main_fails_a_candidate_slower_than_its_baseline(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code, report, _, _ = _run(tmp_path, monkeypatch, capsys, "--baseline-deployment", "blue", baseline_ms=10.0,
                              info={"deployment": "green", "traffic": {"blue": 90, "green": 10}})
    assert code == 1  # 50 ms against the baseline's 10 ms: bound 10 * 1.25 + 20 = 32.5 ms
    assert report["reasons"] == ["p95 latency 50 ms regresses on the baseline's 10 ms (bound 32 ms)"]
