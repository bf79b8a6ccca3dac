"""Tests written to kill mutmut's survivors in the spec's credential scan (mlops_gen/spec/secrets.py: the entropy
fallback at its edges, the walk over a loaded spec) and cross-field rules (mlops_gen/spec/semantic.py: exact field
paths, messages and edges). See docs/testing.md."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest

from mlops_gen.spec import semantic
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


@pytest.mark.parametrize("strategy", ["canary", "blue_green", "direct"])
def test_production_aci_is_refused_whatever_the_strategy(strategy: str) -> None:
    """ACI serves on a public address without authentication (issue 12 item 11): refused for production-like
    environments; this also covers the strategies that would need traffic splitting ACI lacks."""
    extra = {"increments": [50, 100]} if strategy == "canary" else {}
    found = messages(check(rollout={"strategy": strategy, **extra},
                           environments=[{"name": "prod", "target": "aci", "approval": "required"}]))
    assert found == ["environments[0].target: 'prod' is production-like, and target 'aci' serves on a public "
                     "address without authentication: use 'azureml_online_endpoint' (key or Entra ID auth) or "
                     "'aks', or mark the environment 'production: false'"]


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


def test_monitor_interval_may_equal_the_duration_but_not_exceed_it() -> None:
    assert isinstance(check(rollout={"strategy": "direct", "monitor": {"interval_seconds": 60,
                                                                       "duration_seconds": 60}}), ProjectSpec)
    assert messages(check(rollout={"strategy": "direct", "monitor": {"interval_seconds": 61,
                                                                     "duration_seconds": 60}})) == [
        "rollout.monitor.interval_seconds: must not exceed duration_seconds"]


@pytest.mark.parametrize("value", [0.0, 0.5])
def test_a_non_ratio_gate_accepts_zero_and_fractions(value: float) -> None:
    assert isinstance(check({"model.task": "regression", "quality_gates.metrics": {"rmse": {"min": value}}}),
                      ProjectSpec)


def test_gate_messages() -> None:
    found = messages(check({"quality_gates.metrics": {"rmse": {}}}))
    assert found[0].startswith("quality_gates.metrics.rmse: 'rmse' is not a classification metric; use one of "
                               "accuracy, ")
    assert found[1:] == ["quality_gates.metrics.rmse: a gate needs 'min' and/or 'max'"]


def test_champion_challenger_metric_must_fit_the_task() -> None:
    assert isinstance(check(champion_challenger={"metric": "accuracy"}), ProjectSpec)
    assert messages(check(champion_challenger={"metric": "rmse"})) == [
        "champion_challenger.metric: 'rmse' is not a classification metric"]


def test_platform_messages() -> None:
    # the schema refuses an empty list first ("must have at least 1 item(s)"); the rule stands behind it
    assert list(semantic._platforms(SimpleNamespace(platforms=[]))) == [  # type: ignore[arg-type]
        (("platforms",), "at least one platform is needed: azure_devops and/or github_actions")]
    assert messages(check(platforms=["github_actions", "github_actions"])) == ["platforms: platforms must be unique"]


def test_fairness_target_is_not_a_feature() -> None:
    found = messages(check({"data.target": "churned"}, fairness={"sensitive_features": ["churned"]}))
    assert found == ["fairness.sensitive_features: 'churned' is the target column, not a feature"]


def test_resource_request_above_its_limit_names_the_request() -> None:
    found = messages(check(environments=[{**AKS, "resources": {"cpu_request": "2", "cpu_limit": "1"}}]))
    assert found == ["environments[0].resources.cpu_request: cpu request 2 is above the limit 1; Kubernetes refuses "
                     "such a pod"]


def test_increment_messages_quote_the_neighbouring_step() -> None:
    found = messages(check(rollout={"strategy": "canary", "increments": [10, 30, 20, 40, 50]}))
    assert found == ["rollout.increments[2]: 20 does not increase on 30; increments must strictly increase",
                     "rollout.increments: the last increment must be 100 so the canary ends with all traffic (got 50)"]
    assert messages(check(rollout={"strategy": "canary", "increments": []})) == [
        "rollout.increments: canary needs at least one increment"]


def test_a_derived_endpoint_colliding_with_an_explicit_one_is_reported_on_the_name() -> None:
    found = messages(check(environments=[{"name": "staging", "endpoint_name": "churn-model-dev"}, {"name": "dev"}]))
    assert found == ["environments[1].name: endpoint 'churn-model-dev' is also environments[0]'s endpoint: one would "
                     "deploy over the other; give each environment its own 'endpoint_name'"]
