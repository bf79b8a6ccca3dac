"""A training job the pipeline gives up on is cancelled in Azure ML (issue 12 item 12).

azure-ai-ml: `MLClient.jobs.begin_cancel(name)` returns an LROPoller; cancellation is asynchronous (the job goes
through `CancelRequested` to `Canceled`): learn.microsoft.com/python/api/azure-ai-ml/
azure.ai.ml.operations.joboperations#azure-ai-ml-operations-joboperations-begin-cancel.
The fake below behaves so: a running job stays running until cancelled, and a cancel first answers CancelRequested.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.template_scripts import load_script

waiter = load_script("training/wait_for_completion.py")


class FakeJobs:
    """JobOperations: get(name).status, begin_cancel(name) -> poller (status CancelRequested, then Canceled)."""

    def __init__(self) -> None:
        self.status = "Running"
        self.cancelled: list[str] = []

    def get(self, name: str) -> Any:
        status, self.status = self.status, ("Canceled" if self.status == "CancelRequested" else self.status)
        return SimpleNamespace(name=name, status=status)

    def begin_cancel(self, name: str) -> Any:
        self.cancelled.append(name)
        self.status = "CancelRequested"
        return SimpleNamespace(wait=lambda timeout=None: None)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _run(jobs: FakeJobs, timeout: float, interrupt_after: int | None = None) -> str:
    clock = Clock()
    reads = {"n": 0}

    def read() -> str:
        reads["n"] += 1
        if interrupt_after is not None and reads["n"] > interrupt_after:
            raise KeyboardInterrupt("signal 15")
        return str(jobs.get("train-1").status)

    status: str = waiter.wait_or_cancel(read, lambda: jobs.begin_cancel("train-1").wait(timeout=60), timeout, 30,
                                        clock=clock, sleep=clock.sleep)
    return status


def test_a_job_outliving_the_wait_is_cancelled() -> None:
    jobs = FakeJobs()
    assert _run(jobs, timeout=120) == "TimedOut"
    assert jobs.cancelled == ["train-1"]
    assert jobs.get("train-1").status == "CancelRequested"


def test_an_interrupted_wait_cancels_the_job() -> None:
    jobs = FakeJobs()
    assert _run(jobs, timeout=3600, interrupt_after=2) == "Canceled"
    assert jobs.cancelled == ["train-1"]


def test_a_finished_job_is_not_cancelled() -> None:
    jobs = FakeJobs()
    jobs.status = "Completed"
    assert _run(jobs, timeout=120) == "Completed"
    assert jobs.cancelled == []


def test_the_azure_canceller_asks_azure_ml(monkeypatch: Any) -> None:
    jobs = FakeJobs()
    monkeypatch.setattr(waiter, "ml_client", lambda args: SimpleNamespace(jobs=jobs))
    waiter.canceller(SimpleNamespace(), {"backend": "azure", "job_name": "train-7"})()
    assert jobs.cancelled == ["train-7"]
