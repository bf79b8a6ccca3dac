"""Tests written to kill mutmut's survivors in the spec's credential scan (mlops_gen/spec/secrets.py: the entropy
fallback at its edges, the walk over a loaded spec) and cross-field rules (mlops_gen/spec/semantic.py: exact field
paths, messages and edges). See docs/testing.md."""

from __future__ import annotations

import math

import pytest

from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.secrets import _entropy, credential_message, credentials_in, secret_like
from tests.test_spec_rules import check, messages

FALLBACK = "a long random key or token"


@pytest.mark.parametrize(("text", "bits"), [("aaaa", 0.0), ("aabb", 1.0), ("abcd", 2.0), ("aaab", 0.8112781244591328)])
def test_entropy_is_shannon_bits_per_character(text: str, bits: float) -> None:
    assert math.isclose(_entropy(text), bits, abs_tol=1e-12)


def test_fallback_needs_more_than_four_bits() -> None:
    exactly_four = "abcdefgh12345678" * 2  # 16 symbols, each twice: exactly 4.0 bits, 32 characters
    assert _entropy(exactly_four) == 4.0
    assert secret_like(exactly_four) is None
    five = "abcdefghijklmnopqrstuvwx12345678"  # 32 distinct symbols: 5.0 bits, above the limit
    assert secret_like(five) == FALLBACK


def test_fallback_needs_both_digits_and_letters() -> None:
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"  # high entropy, no digit
    digits = "1234567890" * 4  # digits only (3.3 bits)
    assert _entropy(letters) > 4.0
    assert secret_like(letters) is None
    assert secret_like(digits) is None
    assert secret_like("12345678901234567890123456789012345678901234567890abc") is None  # low entropy, mixed


def test_fallback_needs_thirty_two_characters() -> None:
    assert secret_like("abcdefghijklmnopqrstuvw12345678") is None  # 31 characters
    assert secret_like("abcdefghijklmnopqrstuvwx12345678") == FALLBACK


def test_credentials_in_walks_keys_values_and_lists_with_their_paths() -> None:
    token = "abcdefghijklmnopqrstuvwx12345678"
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    data = {
        "model": {"name": "churn", "tags": {token: "x", "owner": "team"}},
        "notify": ["ok", {"url": "https://" + "hooks.slack.com/services/T/B/x"}],
        "subscription": guid,
        "count": 3,
        7: "api_key = " + "s3cr3tvalue",
    }
    assert list(credentials_in(data)) == [
        (("model", "tags", token), True, FALLBACK),
        (("notify", 1, "url"), False, "a webhook URL"),
        ((7,), False, "a credential assignment"),
    ]


def test_credentials_in_starts_from_the_given_path() -> None:
    assert list(credentials_in(["api_key = " + "s3cr3tvalue"], ("root",))) == [
        (("root", 0), False, "a credential assignment")]


def test_a_guid_is_not_a_credential_but_a_guid_inside_text_is_scanned() -> None:
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert list(credentials_in(guid)) == []
    assert list(credentials_in("token: " + guid)) == [((), False, "a credential assignment")]


def test_credential_message_names_the_kind_and_where_secrets_belong() -> None:
    message = credential_message("a GitHub token")
    assert message == ("looks like a credential (a GitHub token); a spec holds secret names only: store the value as an"
                       " Azure DevOps secret variable or variable group and as a GitHub secret")


# --- mlops_gen/spec/semantic.py: exact field paths and messages of the cross-field rules ---------------------------


AKS = {"name": "staging", "target": "aks", "cluster": "c", "namespace": "ml"}


def test_aks_replicas_min_equal_to_max_is_accepted_and_min_above_max_is_not() -> None:
    assert isinstance(check(environments=[{**AKS, "replicas": {"min": 2, "max": 2}}]), ProjectSpec)
    assert messages(check(environments=[{**AKS, "replicas": {"min": 3, "max": 2}}])) == [
        "environments[0].replicas: min (3) is greater than max (2)"]


def test_aks_needs_a_cluster() -> None:
    assert messages(check(environments=[{"name": "staging", "target": "aks", "namespace": "ml"}])) == [
        "environments[0].cluster: target 'aks' needs the AKS cluster name"]


@pytest.mark.parametrize("length", [32, 33])
def test_derived_endpoint_names_up_to_32_characters(length: int) -> None:
    env = "e" * (length - len("churn-model-"))
    result = check(environments=[{"name": env}])
    if length == 32:
        assert isinstance(result, ProjectSpec)
    else:
        assert messages(result) == [f"environments[0].name: endpoint name 'churn-model-{env}' is longer than Azure's "
                                    "32 characters; set 'endpoint_name'"]


def test_production_needs_approval_or_a_waiver() -> None:
    assert messages(check(environments=[{"name": "production", "endpoint_name": "ep-prod"}])) == [
        "environments[0].approval: 'production' is production-like and needs 'approval: required' (or an "
        "'approval_waiver' saying why not)"]


@pytest.mark.parametrize("strategy", ["canary", "blue_green"])
def test_traffic_splitting_strategies_refuse_aci_in_production(strategy: str) -> None:
    extra = {"increments": [50, 100]} if strategy == "canary" else {}
    found = messages(check(rollout={"strategy": strategy, **extra},
                           environments=[{"name": "prod", "target": "aci", "approval": "required"}]))
    assert found == [f"environments[0].target: rollout strategy {strategy!r} needs traffic splitting: use target "
                     "'aks' or 'azureml_online_endpoint', or strategy 'direct'"]


@pytest.mark.parametrize(("script", "ok"), [("hooks/a.sh", True), ("hooks/a.py", True), ("hooks/a.SH", False),
                                            ("hooks/a.bash", False)])
def test_extension_scripts_end_in_sh_or_py(script: str, ok: bool) -> None:
    result = check(extensions={"before_training": [{"name": "hook", "script": script}]})
    if ok:
        assert isinstance(result, ProjectSpec)
    else:
        assert messages(result) == [
            "extensions.before_training[0].script: must end in '.sh' (run with bash) or '.py' (python)"]


def test_fairness_messages_name_their_fields() -> None:
    found = messages(check({"model.task": "regression", "quality_gates.metrics": {"rmse": {"max": 1.0}}},
                           fairness={"sensitive_features": ["age", "age"]}))
    assert found == ["fairness: fairness ratio metrics apply to classification models; remove the section",
                     "fairness.sensitive_features: sensitive features must be unique"]
