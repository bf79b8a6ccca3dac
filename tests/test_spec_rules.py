"""Every semantic rule and field constraint of the spec, one focused case each."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from mlops_gen.errors import Problem
from mlops_gen.spec.loader import LoadedSpec
from mlops_gen.spec.model import ProjectSpec, endpoint_name, is_production, metric_gates
from mlops_gen.spec.types import cron_problem
from mlops_gen.spec.validate import validate_loaded

BASE: dict[str, Any] = {
    "apiVersion": "mlops-gen/v1",
    "kind": "ModelPipeline",
    "model": {"name": "churn-model"},
    "environments": [{"name": "staging"}],
}


def check(changes: dict[str, Any] | None = None, **top: Any) -> ProjectSpec | list[Problem]:
    data = copy.deepcopy(BASE)
    data.update(top)
    for dotted, value in (changes or {}).items():
        node = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value
    return validate_loaded(LoadedSpec(file="spec.yaml", data=data))


def messages(result: ProjectSpec | list[Problem]) -> list[str]:
    assert isinstance(result, list), "expected problems, the spec validated"
    return [f"{p.path}: {p.message}" for p in result]


def test_minimal_spec_is_valid_with_defaults() -> None:
    spec = check()
    assert isinstance(spec, ProjectSpec)
    assert spec.platforms == ["azure_devops", "github_actions"]
    assert spec.rollout.strategy == "canary" and spec.rollout.increments == [10, 25, 50, 100]
    assert {name: bound.min for name, bound in metric_gates(spec).items()} == {"accuracy": 0.7}
    assert endpoint_name(spec, spec.environments[0]) == "churn-model-staging"


def test_spec_is_frozen() -> None:
    spec = check()
    assert isinstance(spec, ProjectSpec)
    with pytest.raises(Exception, match="frozen"):
        spec.model.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("name", "ok"), [
    ("abc", True), ("a" * 32, True), ("ab", False), ("a" * 33, False), ("1abc", False), ("abc-", False),
    ("Abc", False), ("a_b_c", False), ("../x", False), ("/etc/x", False), ("a.b.c", False), ("a-b-c", True),
])
def test_model_name_is_an_endpoint_safe_dns_label(name: str, ok: bool) -> None:
    # An explicit endpoint name keeps this test about model.name alone ('<name>-staging' may exceed 32).
    result = check({"model.name": name}, environments=[{"name": "staging", "endpoint_name": "ep-staging"}])
    assert isinstance(result, ProjectSpec) is ok
    if not ok:
        assert messages(result)[0].startswith("model.name: ")


def test_unique_environment_names() -> None:
    assert "environments[1].name: environment 'staging' is already defined as environments[0]" in messages(
        check(environments=[{"name": "staging"}, {"name": "staging"}]))


@pytest.mark.parametrize(("increments", "expected"), [
    ([10, 25, 50, 100], None),
    ([100], None),
    ([10, 10, 100], "does not increase"),
    ([50, 20, 100], "does not increase"),
    ([10, 50], "last increment must be 100"),
    ([0, 100], "not a percentage"),
    ([10, 101], "not a percentage"),
    ([], "at least one increment"),
])
def test_canary_increments(increments: list[int], expected: str | None) -> None:
    result = check({"rollout.increments": increments})
    if expected is None:
        assert isinstance(result, ProjectSpec)
    else:
        assert any(expected in m for m in messages(result))


def test_increments_are_only_for_canary() -> None:
    assert isinstance(check({"rollout.strategy": "rolling"}), ProjectSpec)
    assert messages(check({"rollout.strategy": "direct", "rollout.increments": [50, 100]})) == [
        "rollout.increments: increments are used only by strategy 'canary' (this rollout is 'direct'); remove them"]


# ----- consistency within a spec (issue 13, item 6) -----

@pytest.mark.parametrize(("env", "field", "users"), [
    ({"name": "staging", "cluster": "aks-1"}, "cluster", "'aks'"),
    ({"name": "staging", "namespace": "ml"}, "namespace", "'aks'"),
    ({"name": "staging", "replicas": {"min": 1, "max": 2}}, "replicas", "'aks'"),
    ({"name": "staging", "target": "aks", "cluster": "c", "instance_type": "Standard_F2s_v2"}, "instance_type",
     "'azureml_online_endpoint'"),
    ({"name": "staging", "target": "aci", "instance_count": 2}, "instance_count", "'azureml_online_endpoint'"),
    ({"name": "staging", "resources": {"cpu_limit": "2"}}, "resources", "'aks' or 'aci'"),
    ({"name": "staging", "gateway": {"name": "gw"}}, "gateway", "'aks'"),
])
def test_a_setting_the_target_ignores_is_an_error(env: dict[str, Any], field: str, users: str) -> None:
    found = messages(check(environments=[env]))
    assert [m for m in found if m.startswith(f"environments[0].{field}: ") and f"used only by target {users}" in m
            ], found


def test_each_target_accepts_its_own_settings() -> None:
    assert isinstance(check(environments=[
        {"name": "staging", "instance_type": "Standard_F2s_v2", "instance_count": 2},
        {"name": "aks-test", "target": "aks", "cluster": "c", "namespace": "ml", "replicas": {"min": 1, "max": 3},
         "resources": {"cpu_limit": "2"}},
        {"name": "aci-test", "target": "aci", "resources": {"memory_limit": "2Gi"}}]), ProjectSpec)


def test_two_environments_cannot_share_an_endpoint() -> None:
    found = messages(check(environments=[
        {"name": "staging"}, {"name": "prod", "approval": "required", "endpoint_name": "churn-model-staging"}]))
    assert found == ["environments[1].endpoint_name: endpoint 'churn-model-staging' is also environments[0]'s "
                     "endpoint: one would deploy over the other; give each environment its own 'endpoint_name'"]


@pytest.mark.parametrize(("resources", "expected"), [
    ({"cpu_request": "2", "cpu_limit": "500m"}, "cpu_request: cpu request 2 is above the limit 500m"),
    ({"memory_request": "2Gi", "memory_limit": "1024Mi"}, "memory_request: memory request 2Gi is above the limit"),
    ({"cpu_request": "1000m", "cpu_limit": "1"}, None),
    ({"memory_request": "1Gi", "memory_limit": "1024Mi"}, None),
])
def test_resource_requests_must_not_exceed_limits(resources: dict[str, str], expected: str | None) -> None:
    result = check(environments=[{"name": "staging", "target": "aks", "cluster": "c", "resources": resources}])
    if expected is None:
        assert isinstance(result, ProjectSpec), result
    else:
        assert any(expected in m for m in messages(result)), result


@pytest.mark.parametrize(("field", "value"), [("data.expectations", "README.md/expectations.json"),
                                              ("training.config", "Dockerfile/training.yaml"),
                                              ("data.local_path", "README.md/train.csv")])
def test_a_chosen_path_inside_a_generated_file_is_refused(field: str, value: str) -> None:
    found = messages(check({field: value}))
    assert found == [f"{field}: {value!r} would put a file inside {value.split('/')[0]!r}, a file mlops-gen "
                     "generates; choose another path"]


@pytest.mark.parametrize(("changes", "expected"), [
    ({"quality_gates.metrics": {"accuracy": {"min": 1.1}}},
     "quality_gates.metrics.accuracy.min: must be within [0, 1]"),
    ({"quality_gates.metrics": {"accuracy": {"min": 0.9, "max": 0.8}}}, "min (0.9) is greater than max (0.8)"),
    ({"quality_gates.metrics": {"accuracy": {}}}, "needs 'min' and/or 'max'"),
    ({"quality_gates.metrics": {"mae": {"max": 3}}}, "'mae' is not a classification metric"),
    ({"fairness.threshold": 1.2, "fairness.sensitive_features": ["age"]}, "fairness.threshold: must be within"),
    ({"rollout.monitor.max_error_rate": -0.1}, "rollout.monitor.max_error_rate: must be within [0, 1]"),
    ({"monitoring.drift.threshold": 1.5}, "monitoring.drift.threshold: must be within [0, 1]"),
])
def test_ratio_thresholds_and_bounds(changes: dict[str, Any], expected: str) -> None:
    assert any(expected in m for m in messages(check(changes)))


def test_regression_error_metrics_are_not_ratios() -> None:
    result = check({"model.task": "regression", "quality_gates.metrics": {"mae": {"max": 25000}, "r2": {"min": 0.7}}})
    assert isinstance(result, ProjectSpec)
    assert any("must not be negative" in m for m in messages(
        check({"model.task": "regression", "quality_gates.metrics": {"rmse": {"max": -1}}})))


def test_fairness_needs_a_sensitive_feature() -> None:
    assert "fairness.sensitive_features: the fairness gate needs at least one sensitive feature" in messages(
        check({"fairness.threshold": 0.8}))
    assert isinstance(check({"fairness.sensitive_features": ["age"]}), ProjectSpec)
    assert isinstance(check({"fairness.enabled": False}), ProjectSpec)


def test_fairness_feature_cannot_be_the_target() -> None:
    assert any("is the target column" in m for m in messages(
        check({"fairness.sensitive_features": ["target"]})))


@pytest.mark.parametrize("name", ["prod", "production", "prod-eu"])
def test_production_like_environments_need_approval(name: str) -> None:
    assert any("needs 'approval: required'" in m for m in messages(check(environments=[{"name": name}])))
    assert isinstance(check(environments=[{"name": name, "approval": "required"}]), ProjectSpec)
    waived = check(environments=[{"name": name, "approval_waiver": "sandbox subscription"}])
    assert isinstance(waived, ProjectSpec)


def test_production_flag_overrides_the_name() -> None:
    spec = check(environments=[{"name": "live", "production": True, "approval": "required"},
                               {"name": "prod-test", "production": False}])
    assert isinstance(spec, ProjectSpec)
    assert [is_production(env) for env in spec.environments] == [True, False]
    assert any("needs 'approval: required'" in m for m in messages(
        check(environments=[{"name": "live", "production": True}])))


def test_platforms_must_not_be_empty() -> None:
    assert "platforms: must have at least 1 item(s)" in messages(check(platforms=[]))


def test_aks_needs_a_cluster_and_canary_needs_traffic_splitting() -> None:
    assert any("needs the AKS cluster name" in m for m in messages(check(environments=[{"name": "dev",
                                                                                         "target": "aks"}])))
    # Canary on production ACI (no traffic splitting) is refused with every production-like ACI environment.
    assert any("target 'aci' serves on a public address" in m for m in messages(check(
        environments=[{"name": "prod", "target": "aci", "approval": "required"}])))


def test_an_aks_canary_needs_a_gateway_to_split_requests() -> None:
    prod = {"name": "prod", "target": "aks", "cluster": "c", "approval": "required"}
    found = messages(check(environments=[{"name": "staging"}, prod]))
    assert [m for m in found if m.startswith("environments[1].gateway: 'prod' takes a canary rollout on AKS")], found
    # Not for other strategies (the Service's selector switches all traffic at once), nor before production.
    assert isinstance(check(environments=[{"name": "staging"}, prod], rollout={"strategy": "blue_green"}),
                      ProjectSpec)
    assert isinstance(check(environments=[{"name": "dev", "target": "aks", "cluster": "c"}]), ProjectSpec)
    named = check(environments=[{"name": "staging"}, {**prod, "gateway": {
        "name": "edge", "namespace": "gateways", "hostnames": ["churn.example.com", "*.models.example.com"]}}])
    assert isinstance(named, ProjectSpec)


@pytest.mark.parametrize("host", ["Churn.example.com", "churn.example.com:443", "10.0.0.1:80", "-a.example.com",
                                  "a..b", "*", "10.0.0.1"])
def test_gateway_hostnames_are_dns_names(host: str) -> None:
    found = messages(check(environments=[{"name": "dev", "target": "aks", "cluster": "c",
                                          "gateway": {"name": "gw", "hostnames": [host]}}]))
    assert [m for m in found if m.startswith("environments[0].gateway.hostnames[0]")], found


def test_gateway_hostnames_are_listed_once() -> None:
    found = messages(check(environments=[{"name": "dev", "target": "aks", "cluster": "c", "gateway": {
        "name": "gw", "hostnames": ["a.example.com", "b.example.com", "a.example.com"]}}]))
    assert found == ["environments[0].gateway.hostnames[2]: 'a.example.com' is listed twice"]


def test_two_aks_environments_cannot_share_a_namespace_of_one_cluster() -> None:
    envs = [{"name": "dev", "target": "aks", "cluster": "c", "namespace": "ml"},
            {"name": "qa", "target": "aks", "cluster": "c", "namespace": "ml"}]
    found = messages(check(environments=envs))
    assert [m for m in found if m.startswith("environments[1].namespace: environments[0] is served in the same "
                                             "namespace 'ml' of cluster 'c'")], found
    # Another namespace, or the same names in another resource group's cluster, are other places.
    assert isinstance(check(environments=[envs[0], {**envs[1], "namespace": "ml-qa"}]), ProjectSpec)
    assert isinstance(check(environments=[envs[0], {**envs[1], "azure": {"resource_group": "rg-qa"}}]), ProjectSpec)


def test_long_endpoint_names_must_be_set_explicitly() -> None:
    long_name = "m" * 30
    assert any("longer than Azure's 32 characters" in m for m in messages(
        check({"model.name": long_name})))
    assert isinstance(check({"model.name": long_name}, environments=[{"name": "staging",
                                                                       "endpoint_name": "m-staging"}]),
                      ProjectSpec)


@pytest.mark.parametrize(("expression", "ok"), [
    ("0 3 * * 1", True), ("*/15 * * * *", True), ("0 0 1,15 * *", True), ("0 9-17/2 * * 1-5", True),
    ("0 3 * *", False), ("60 * * * *", False), ("0 24 * * *", False), ("0 0 0 * *", False),
    ("0 0 * 13 *", False), ("0 0 * * 7", False), ("0 0 * * MON", False), ("*/0 * * * *", False),
    ("5-1 * * * *", False),
])
def test_cron_expressions(expression: str, ok: bool) -> None:
    assert (cron_problem(expression) is None) is ok
    result = check({"triggers.schedule": expression})
    assert isinstance(result, ProjectSpec) is ok


@pytest.mark.parametrize("expression", [
    "\uff10 \uff13 * * 1", "0 \u00b2 * * *", "0 3 * * 1/\u00b2", "0 3 * * \u0661", "0 3 * * 1\u3000",
    "0\u00a03 * * 1", "\U0001d7ce 3 * * 1", "0 3 \u2460 * *",
])
def test_cron_accepts_only_ascii_digits_and_spaces(expression: str) -> None:
    """Full-width and superscript digits pass str.isdigit() but break both pipelines' schedulers."""
    problem = cron_problem(expression)
    assert problem is not None
    assert "invalid literal" not in problem
    (message,) = messages(check({"triggers.schedule": expression}))
    assert message.startswith("triggers.schedule: ") and "invalid literal" not in message
    assert "ASCII digits" in message or "plain spaces" in message


@pytest.mark.parametrize("text", [
    "line\nbreak", "tab\there", "bell\x07", "${{ secrets.TOKEN }}", "$(System.AccessToken)", "$[ variables.x ]",
    "nul\x00",
])
def test_free_text_rejects_control_characters_and_expressions(text: str) -> None:
    (message,) = messages(check({"model.description": text}))
    assert message.startswith("model.description: must not contain")


@pytest.mark.parametrize("text", [
    "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc123==",
    "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
])
def test_credentials_are_rejected_with_where_they_belong(text: str) -> None:
    (message,) = messages(check({"model.description": text}))
    assert "looks like a credential" in message and "secret variable" in message and "GitHub secret" in message


def test_ordinary_text_is_fine() -> None:
    assert isinstance(check({"model.description": "Predicts churn (monthly) — v2, 50% faster; see $HOME"}),
                      ProjectSpec)


def test_extension_scripts_must_be_sh_or_py() -> None:
    assert any("must end in '.sh'" in m for m in messages(
        check({"extensions.before_training": [{"name": "x", "script": "ci/run.rb"}]})))
    assert any("relative path" in m for m in messages(
        check({"extensions.before_training": [{"name": "x", "script": "../outside.sh"}]})))


@pytest.mark.parametrize("value", ["nan", float("nan"), "inf", float("-inf")])
def test_thresholds_must_be_finite(value: str | float) -> None:
    assert any("finite number" in m for m in messages(check({"quality_gates.metrics": {"mae": {"max": value}},
                                                              "model.task": "regression"})))


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("training.config", "config/train.py", "must end in .yaml or .yml"),
    ("data.expectations", "config/expectations.yaml", "must end in .json"),
    ("data.local_path", "data/train.parquet", "must end in .csv"),
    ("training.config", "azure-pipelines/training.yml", "is also a file mlops-gen generates"),
    ("data.expectations", "config/pipeline.json", None),
])
def test_paths_chosen_in_the_spec(field: str, value: str, expected: str | None) -> None:
    result = check({field: value})
    if expected is None:
        assert isinstance(result, ProjectSpec)
    else:
        assert any(m.startswith(f"{field}: ") and expected in m for m in messages(result))


def test_lists_are_bounded() -> None:
    many = [{"name": f"env{i}"} for i in range(21)]
    assert any("environments" in m for m in messages(check(environments=many)))


def check_in(layout: str, changes: dict[str, Any]) -> ProjectSpec | list[Problem]:
    """`check`, for a repository of the given layout (its mlops-gen.yaml's `layout`)."""
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        section, key = dotted.split(".")
        data.setdefault(section, {})[key] = value
    return validate_loaded(LoadedSpec(file="spec.yaml", data=data), layout=layout)


@pytest.mark.parametrize(("field", "value", "per_model", "monorepo"), [
    # generated in both layouts' model folders
    ("training.config", "azure-pipelines/training.yml", "is also a file mlops-gen generates",
     "is also a file mlops-gen generates"),
    ("data.local_path", "README.md/train.csv", "would put a file inside 'README.md'",
     "would put a file inside 'README.md'"),
    ("data.expectations", "config/pipeline.yaml/expectations.json", "would put a file inside 'config/pipeline.yaml'",
     "would put a file inside 'config/pipeline.yaml'"),
    # the model's plan as data: only the monorepo layout writes it into the model's folder
    ("data.expectations", "config/plan.json", None, "is also a file mlops-gen generates"),
    ("training.config", "config/plan.json/training.yaml", None, "would put a file inside 'config/plan.json'"),
    # the Dockerfile and the stage scripts are the shared part's in the monorepo layout, not the model folder's
    ("training.config", "Dockerfile/training.yaml", "would put a file inside 'Dockerfile'", None),
    ("data.expectations", "src/training/train.py/expectations.json", "would put a file inside 'src/training/train.py'",
     None),
    ("data.expectations", "config/expectations.json", None, None),
])
def test_chosen_paths_are_checked_against_the_files_of_the_repositorys_layout(
        field: str, value: str, per_model: str | None, monorepo: str | None) -> None:
    for layout, expected in (("per-model", per_model), ("monorepo", monorepo)):
        result = check_in(layout, {field: value})
        if expected is None:
            assert isinstance(result, ProjectSpec), (layout, result)
        else:
            assert [m for m in messages(result) if m.startswith(f"{field}: ") and expected in m], (layout, result)


def test_the_monorepo_check_sees_every_file_of_the_model_folder_and_no_other() -> None:
    """The monorepo layout's paths for the check are exactly the model unit's files in the model's folder (what
    the composer writes there, less the .gitattributes and manifest it adds itself)."""
    from mlops_gen.layout.monorepo import model_outputs
    from mlops_gen.layout.paths import Monorepo
    from mlops_gen.spec.semantic import generated_paths

    data = copy.deepcopy(BASE)
    data["environments"] = [{"name": "staging", "target": "aks", "cluster": "aks-staging"}, {"name": "dev"}]
    spec = validate_loaded(LoadedSpec(file="spec.yaml", data=data), layout="monorepo")
    assert isinstance(spec, ProjectSpec), spec
    repo = Monorepo("out")
    folder = repo.model(spec.model.name) + "/"
    written = sorted(f.path.removeprefix(folder) for f in model_outputs(spec, repo) if f.path.startswith(folder))
    assert sorted(generated_paths(spec, "monorepo")) == [p for p in written if p != ".gitattributes"]
    assert "config/plan.json" in written and "k8s/staging/manifests.yaml" in written  # not per-model paths
    assert "config/plan.json" not in generated_paths(spec, "per-model")


@pytest.mark.parametrize(("layout", "code"), [("monorepo", 2), ("per-model", 0)])
def test_validate_checks_chosen_paths_against_the_configured_layout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], layout: str,
        code: int) -> None:
    from tests.test_regeneration import cli

    (tmp_path / ".git").mkdir()
    (tmp_path / "mlops-gen.yaml").write_text(f"apiVersion: mlops-gen/v1\nkind: RepositoryConfig\nlayout: {layout}\n",
                                             encoding="utf-8")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "m.yaml").write_text(
        "apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: my-model\nenvironments:\n  - name: dev\n"
        "data:\n  expectations: config/plan.json\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    found, output = cli(capsys, "validate", "specs")
    assert found == code, output
    if code:
        assert output.strip() == ("specs/m.yaml:8:3: data.expectations: 'config/plan.json' is also a file mlops-gen "
                                  "generates; choose another path")
