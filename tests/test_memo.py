"""mlops_gen/memo.py: results remembered per spec object, for the pure functions a run asks several times per spec
(build_pipeline, the planners, the environments' views, the monorepo hooks)."""

from __future__ import annotations

import copy

import pytest

from mlops_gen import memo
from mlops_gen.pipeline import build_pipeline
from mlops_gen.spec.model import ProjectSpec
from tests.conftest import ROOT


class Spec:
    """Any object: the store keys on identity, not on equality."""


def counted() -> tuple[memo.PerSpec[tuple[int, str]], list[int]]:
    calls: list[int] = []

    def compute(spec: object, extra: str = "") -> tuple[int, str]:
        calls.append(1)
        return (len(calls), extra)

    return memo.per_spec(compute), calls


def test_one_object_is_computed_once_per_argument_list() -> None:
    remembered, calls = counted()
    spec = Spec()
    assert remembered(spec) == remembered(spec) == (1, "")
    assert remembered(spec, "x") == (2, "x") and remembered(spec, "x") == (2, "x")
    assert len(calls) == 2


def test_an_equal_but_other_object_is_computed_again() -> None:
    remembered, calls = counted()
    first, second = Spec(), Spec()
    remembered(first)
    remembered(second)
    assert len(calls) == 2


def test_peek_and_remember_share_the_store() -> None:
    remembered, calls = counted()
    spec = Spec()
    assert remembered.peek(spec) is None
    remembered.remember(spec, (99, "from a worker"))
    assert remembered(spec) == (99, "from a worker") and calls == []


def test_the_store_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memo, "LIMIT", 3)
    remembered, calls = counted()
    kept = [Spec() for _ in range(4)]  # alive: their ids cannot be reused
    for spec in kept:
        remembered(spec)
    remembered(kept[0])  # dropped when the store was cleared for the fourth
    assert len(calls) == 5


def test_build_pipeline_gives_one_spec_the_same_pipeline_and_a_changed_copy_its_own() -> None:
    import yaml

    data = yaml.safe_load((ROOT / "specs" / "customer-churn.yaml").read_text(encoding="utf-8"))
    spec = ProjectSpec.model_validate(data)
    assert build_pipeline(spec) is build_pipeline(spec)
    changed = copy.deepcopy(data)
    changed["environments"] = changed["environments"][:1]
    other = ProjectSpec.model_validate(changed)
    assert len(build_pipeline(other).releases) == 1 < len(build_pipeline(spec).releases)
