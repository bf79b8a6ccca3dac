"""run-local through the release path (issue 11): releases, faults and rollbacks on the local backend, in the
order the pipeline model gives, for every rollout strategy.

Each endpoint is a local router splitting requests by weight between scoring servers (so "10 %" is one request
in ten); `--inject` makes the version under release fail. After any fault the previous version serves 100 % of
the traffic and keeps the `production` alias, and nothing is left half-promoted. The runs share one virtual
environment (the test run's cache folder, set in conftest) and short observation windows (run-local's default).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops_gen.cli import run
from tests.conftest import SPECS

pytestmark = pytest.mark.slow
CHURN = (SPECS / "customer-churn.yaml").read_text(encoding="utf-8")



def _run(spec: Path, work: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = run(["run-local", str(spec), "--workdir", str(work), *extra])
    return code, json.loads((work / "summary.json").read_text(encoding="utf-8"))


def _serving(summary: dict[str, Any], env: str) -> dict[str, int]:
    """version -> traffic share of the environment's deployments that take traffic."""
    out: dict[str, int] = {}
    for deployment in summary["environments"][env]["deployments"].values():
        if deployment["traffic"]:
            out[deployment["version"]] = out.get(deployment["version"], 0) + deployment["traffic"]
    return out


def _assert_serves(summary: dict[str, Any], env: str, version: str, alias: str = "production") -> None:
    assert _serving(summary, env) == {version: 100}, summary["environments"][env]
    assert summary["aliases"][alias] == version, summary["aliases"]
    # Nothing half-promoted: one deployment left, serving that version.
    assert [d["version"] for d in summary["environments"][env]["deployments"].values()] == [version]


def _spec(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_canary_first_release_a_faulty_canary_rolls_back_then_a_healthy_one_promotes(tmp_path: Path) -> None:
    spec, work = SPECS / "customer-churn.yaml", tmp_path / "work"
    code, first = _run(spec, work, "--through", "production")
    assert code == 0, first["failed_stage"]
    _assert_serves(first, "production", "1")
    assert first["releases"] == {"staging": "completed", "production": "completed"}
    assert first["drift"] == {"result": "no_drift", "retrain": False, "drifted_features": []}
    # The canary steps ran in the model's order: tests before the promotion they guard.
    names = [step["name"] for step in first["steps"] if step["stage"] == "production"]
    assert names.index("Endpoint tests on production") < next(i for i, n in enumerate(names) if "Promote" in n)

    code, faulty = _run(spec, work, "--through", "production", "--inject", "canary-errors")
    assert code == 1
    assert faulty["releases"]["production"] == "rolled back"
    _assert_serves(faulty, "production", "1")
    failed = [step for step in faulty["steps"] if step["status"] == "failed"]
    assert failed and failed[0]["name"].startswith(("Smoke test", "Monitor")), failed
    assert any(step["name"] == "Roll back production" and step["status"] == "passed" for step in faulty["steps"])

    code, healthy = _run(spec, work, "--through", "production")
    assert code == 0, healthy["failed_stage"]
    _assert_serves(healthy, "production", "3")
    assert healthy["aliases"]["staging"] == "3"


def test_blue_green_tests_the_idle_candidate_and_a_slow_one_rolls_back(tmp_path: Path) -> None:
    spec, work = SPECS / "house-prices.yaml", tmp_path / "work"
    code, first = _run(spec, work, "--through", "production")
    assert code == 0, first["failed_stage"]
    _assert_serves(first, "production", "1")
    names = [step["name"] for step in first["steps"] if step["stage"] == "production"]
    # The idle candidate is tested directly, before it takes traffic.
    assert names.index("Smoke test canary directly") < names.index("Route 100% of the traffic to canary")
    assert names.index("Endpoint tests on canary directly") < names.index("Route 100% of the traffic to canary")

    code, slow = _run(spec, work, "--through", "production", "--inject", "slow-candidate")
    assert code == 1
    assert slow["releases"]["production"] == "rolled back"
    _assert_serves(slow, "production", "1")

    # A second healthy release replaces version 1: the newest version serves alone and holds the alias.
    code, healthy = _run(spec, work, "--through", "production")
    assert code == 0, healthy["failed_stage"]
    _assert_serves(healthy, "production", "3")


def test_rolling_across_three_environments_and_a_failure_after_the_last_shift(tmp_path: Path) -> None:
    text = CHURN.replace("strategy: canary", "strategy: rolling").replace(
        "  increments: [10, 25, 50, 100]\n", "")
    text = text.replace("environments:\n", "environments:\n  - {name: dev, target: azureml_online_endpoint}\n", 1)
    spec, work = _spec(tmp_path, "churn-rolling", text), tmp_path / "work"
    code, first = _run(spec, work, "--through", "production")
    assert code == 0, first["failed_stage"]
    assert list(first["releases"]) == ["dev", "staging", "production"]
    _assert_serves(first, "production", "1")

    code, broken = _run(spec, work, "--through", "production", "--inject", "smoke-failure")
    assert code == 1
    assert broken["releases"]["production"] == "rolled back"
    # The in-place update was undone: version 1 serves again and keeps the alias.
    _assert_serves(broken, "production", "1")

    code, healthy = _run(spec, work, "--through", "production")
    assert code == 0, healthy["failed_stage"]
    _assert_serves(healthy, "production", "3")


def test_direct_release_and_drift_starts_retraining_only_on_drift(tmp_path: Path) -> None:
    spec, work = SPECS / "fraud-minimal.yaml", tmp_path / "work"
    code, drifted = _run(spec, work, "--inject", "drift")
    assert code == 0, drifted["failed_stage"]
    only = next(iter(drifted["releases"]))
    assert _serving(drifted, only) == {"1": 100}
    assert drifted["drift"]["result"] == "drift" and drifted["drift"]["retrain"] is True
