"""The pipeline model (mlops_gen.pipeline): the one place the stage sequence and the release order live.

Invariants every platform inherits: the candidate is tested before it is promoted, promotion is the release's
last step (so a rollback at any earlier point finds the previous version serving and holding the alias), every
strategy that takes traffic in steps is monitored, auto_rollback is honoured, and every call matches the script
contract when the model is built.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_gen.pipeline import Ref, Step, When, build_pipeline
from mlops_gen.pipeline.build import MONITORING_TARGETS
from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, ROOT

CHURN = (ROOT / "specs" / "customer-churn.yaml").read_text(encoding="utf-8")
STRATEGIES = ("canary", "blue_green", "rolling", "direct")


def _spec(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return load_specs([str(path)])[0].spec


def test_a_step_refuses_a_flag_its_script_does_not_declare() -> None:
    with pytest.raises(ValueError, match="declares no flag --nope"):
        Step("x", "x", "src/deployment/rollback.py", (("--nope", "1"),))


def test_a_step_refuses_a_missing_required_flag() -> None:
    with pytest.raises(ValueError, match="required flags missing: --endpoint-name"):
        Step("x", "x", "src/deployment/rollback.py", (("--target", "aks"), ("--stable-deployment", "s"),
                                                      ("--candidate-deployment", "c")))


def test_a_step_refuses_a_repeated_single_flag_and_the_platform_flags() -> None:
    with pytest.raises(ValueError, match="given twice"):
        Step("x", "x", "tests/smoke_test.py", (("--endpoint-file", "a"), ("--endpoint-file", "b"),
                                               ("--test-data", "t")))
    with pytest.raises(ValueError, match="added by each platform"):
        Step("x", "x", "tests/smoke_test.py", (("--endpoint-file", "a"), ("--test-data", "t"),
                                               ("--backend", "local")))


@pytest.mark.parametrize("auto_rollback", [True, False])
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_release_order_for_every_strategy(tmp_path: Path, strategy: str, auto_rollback: bool) -> None:
    text = CHURN.replace("strategy: canary", f"strategy: {strategy}")
    text = text.replace("auto_rollback: true", f"auto_rollback: {'true' if auto_rollback else 'false'}")
    if strategy != "canary":  # increments belong to canary only (a spec error elsewhere)
        text = text.replace("  increments: [10, 25, 50, 100]\n", "")
    spec = _spec(tmp_path, text)
    assert spec.rollout.auto_rollback is auto_rollback
    for release in build_pipeline(spec).releases:
        steps = list(release.steps())
        kinds = [step.kind for step in steps]
        tests = [i for i, kind in enumerate(kinds) if kind == "test"]
        promotions = [i for i, kind in enumerate(kinds) if kind == "promote"]
        assert tests, release.env.name
        assert all(i > max(tests) for i in promotions), f"{release.env.name}: promotion before a test"
        assert promotions == ([len(steps) - 1] if promotions else []), "promotion is the release's last step"
        assert [phase.kind for phase in release.phases][-1] in ("promote", "verify")
        if release.strategy in ("canary", "blue_green", "rolling"):
            assert "monitor" in kinds, release.env.name
        if release.strategy == "canary":
            assert [phase.traffic for phase in release.phase("increment")] == spec.rollout.increments
        if release.strategy == "blue_green":
            idle = release.phase("increment")[0]
            assert idle.traffic == 0
            smoke = next(step for step in idle.steps if step.kind == "test")
            assert smoke.value("--deployment-name") == release.env.candidate_deployment
        rollbacks = [step for step in release.rollback if step.kind == "rollback"]
        assert len(rollbacks) == (1 if auto_rollback else 0)
        assert all(step.when is When.FAILURE for step in release.rollback)
        for step in rollbacks:  # what the release replaced travels in the endpoint file
            assert step.value("--endpoint-file") == Ref("endpoint_file", release.env.name)
        monitors = [step for step in steps if step.kind == "monitor"]
        # The monitor watches what deploy.py deployed (the endpoint file says which), never a fixed name that
        # a first release does not have.
        assert all(step.value("--deployment-name") is None for step in monitors)


def test_drift_monitoring_is_configured_only_where_the_target_supports_it() -> None:
    for path in [*sorted((ROOT / "specs").glob("*.yaml")), *sorted(CORPUS.glob("*.yaml"))]:
        spec = load_specs([str(path)])[0].spec
        pipeline = build_pipeline(spec)
        configured = [step for step in pipeline.post_release if step.id == "configure-monitoring"]
        supported = pipeline.monitored.env.env.target in MONITORING_TARGETS
        assert len(configured) == (1 if spec.monitoring.drift.enabled and supported else 0), path.name


def test_one_approval_per_environment(tmp_path: Path) -> None:
    spec = load_specs([str(ROOT / "specs" / "customer-churn.yaml")])[0].spec
    releases = build_pipeline(spec).releases
    assert [release.env.name for release in releases] == [env.name for env in spec.environments]
    assert [release.approval for release in releases] == [env.approval == "required" for env in spec.environments]
