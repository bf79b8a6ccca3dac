"""The repository configuration `mlops-gen.yaml` (issue 14, item 1): how it is found, its own validation, the
defaults every spec inherits (merge rules), the policies `validate` enforces, `resolve`, its schema, and that a
change to it reaches `check` and the generated output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mlops_gen.repo_config.find import find_config
from mlops_gen.schema import config_schema
from mlops_gen.spec.validate import load_spec
from tests.conftest import CORPUS, ROOT
from tests.test_regeneration import cli, ok

CONFIG = """\
apiVersion: mlops-gen/v1
kind: RepositoryConfig
output: out
defaults:
  model:
    owners: [platform@example.com]
  azure:
    workspace: mlw-shared
    location: northeurope
  registry:
    tags: {cost_center: ml-42}
  quality_gates:
    metrics:
      accuracy: {min: 0.75}
policies:
  production_approval: true
"""
TINY = "apiVersion: mlops-gen/v1\nkind: ModelPipeline\nmodel:\n  name: tiny-model\nenvironments:\n  - name: dev\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (its `.git` bounds the upward search) as the working directory, with a configuration."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "mlops-gen.yaml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / "specs").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def spec_at(repo: Path, text: str = TINY, name: str = "tiny.yaml") -> Path:
    path = repo / "specs" / name
    path.write_text(text, encoding="utf-8")
    return path


def configure(repo: Path, text: str) -> None:
    (repo / "mlops-gen.yaml").write_text(text, encoding="utf-8")


def resolved_spec(repo: Path, spec: Path) -> Any:
    found = find_config(None)
    return load_spec(spec.relative_to(repo), config=found).spec


# ----- finding it -----

def test_found_from_a_subfolder_up_to_the_repository_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "specs")
    found = find_config(None)
    assert found is not None and found.path == (repo / "mlops-gen.yaml").resolve()


def test_not_found_beyond_the_repository_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A configuration above the repository root belongs to something else: the search stops at `.git`."""
    (tmp_path / "mlops-gen.yaml").write_text(CONFIG, encoding="utf-8")
    inner = tmp_path / "other-repo"
    (inner / ".git").mkdir(parents=True)
    monkeypatch.chdir(inner)
    assert find_config(None) is None


def test_explicit_config_and_a_missing_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_at(repo)
    elsewhere = repo / "conf" / "strict.yaml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(CONFIG.replace("production_approval: true", "required_owners: 3"), encoding="utf-8")
    code, output = cli(capsys, "validate", "specs", "--config", str(elsewhere))
    assert code == 2 and "model.owners: 1 owner(s); at least 3 required (policy required_owners" in output
    code, output = cli(capsys, "validate", "specs", "--config", "nope.yaml")
    assert code == 2 and output.strip() == "--config nope.yaml: no such file"


def test_a_directory_scan_never_reads_the_configuration_as_a_spec(repo: Path, capsys: pytest.CaptureFixture[str]
                                                                   ) -> None:
    spec_at(repo)
    output = ok(capsys, "validate", ".")
    assert output.strip() == "specs/tiny.yaml: ok (tiny-model)"


# ----- its own problems: reported once, in the configuration, exit 2, nothing written -----

@pytest.mark.parametrize(("text", "expected"), [
    (CONFIG.replace("output: out", "ouput: out"),
     "mlops-gen.yaml:3:1: ouput: unknown key 'ouput'; did you mean 'output'?"),
    (CONFIG.replace("    workspace: mlw-shared", "    workspace: 42"),
     "mlops-gen.yaml:8:16: defaults.azure.workspace: Input should be a valid string (got 42)"),
    (CONFIG.replace("  model:\n", "  model:\n    name: shared\n"),
     "mlops-gen.yaml:6:5: defaults.model.name: cannot be inherited: each spec sets its own"),
    (CONFIG.replace("    location: northeurope", "    locaton: northeurope"),
     "mlops-gen.yaml:9:5: defaults.azure.locaton: unknown key 'locaton'; did you mean 'location'?"),
    (CONFIG + "  allowed_targets: [gke]\n",
     "mlops-gen.yaml:17:21: policies.allowed_targets[0]: Input should be 'aci', 'aks' or "
     "'azureml_online_endpoint' (got 'gke')"),
    (CONFIG + "  required_owners: 010\n",
     "mlops-gen.yaml:17:20: policies.required_owners: '010' is read as the octal number 8 (YAML 1.1)"),
    (CONFIG.replace("kind: RepositoryConfig", "kind: ModelPipeline"),
     "mlops-gen.yaml:2:7: kind: Input should be 'RepositoryConfig' (got 'ModelPipeline')"),
    ("", "mlops-gen.yaml:1:1: the configuration is empty"),
    (CONFIG.replace("output: out", "output: /abs"),
     "mlops-gen.yaml:3:9: output: '/abs' is not a folder relative to mlops-gen.yaml"),
    (CONFIG + "  minimum_gates:\n    accuracy: {min: 2}\n",
     "mlops-gen.yaml:18:5: policies.minimum_gates: accuracy: a ratio metric's bounds lie within [0, 1]"),
    (CONFIG + "  minimum_gates:\n    mae: {min: 3}\n",
     "mlops-gen.yaml:18:5: policies.minimum_gates: mae: lower is better, so a policy sets its 'max', not its 'min'"),
])
def test_an_invalid_configuration_is_reported_at_its_own_line(repo: Path, capsys: pytest.CaptureFixture[str],
                                                              text: str, expected: str) -> None:
    spec_at(repo)
    spec_at(repo, TINY.replace("tiny-model", "second-model"), "second.yaml")
    configure(repo, text)
    code, output = cli(capsys, "generate", "specs")
    assert code == 2
    lines = output.strip().splitlines()
    assert any(line.startswith(expected) for line in lines), output
    assert all(line.startswith("mlops-gen.yaml:") for line in lines), "reported once, not once per spec"
    assert not (repo / "out").exists() and not (repo / "generated").exists()


def test_problems_of_the_policies_and_of_the_defaults_come_in_one_report(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, CONFIG.replace("    location: northeurope", "    locaton: northeurope")
              + "  allowed_targets: [gke]\n")
    spec_at(repo)
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert "mlops-gen.yaml:17:21: policies.allowed_targets[0]:" in output
    assert "mlops-gen.yaml:9:5: defaults.azure.locaton: unknown key 'locaton'" in output


def test_yes_is_fine_where_a_boolean_is_meant_but_the_defaults_are_spec_fields(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The defaults' values are checked as the spec fields they become: `no` where a number is meant is refused."""
    configure(repo, CONFIG.replace("{min: 0.75}", "{min: no}"))
    spec_at(repo)
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert "mlops-gen.yaml:14:23: defaults.quality_gates.metrics.accuracy.min: 'no' is a boolean" in output


# ----- inheritance -----

def test_inherited_values_reach_the_spec_and_the_spec_wins_where_it_speaks(repo: Path) -> None:
    own = spec_at(repo, TINY + "azure:\n  workspace: mlw-own\nregistry:\n  tags: {team: churn}\n")
    spec = resolved_spec(repo, own)
    assert spec.azure.workspace == "mlw-own"  # the spec's value wins
    assert spec.azure.location == "northeurope"  # a sibling key of the same mapping is still inherited
    assert spec.registry.tags == {"cost_center": "ml-42", "team": "churn"}  # mappings merge key by key
    assert list(spec.model.owners) == ["platform@example.com"]


def test_lists_and_the_gate_set_are_replaced_whole(repo: Path) -> None:
    own = spec_at(repo, TINY.replace("  name: tiny-model\n", "  name: tiny-model\n  owners: [me@example.com]\n")
                  + "quality_gates:\n  metrics:\n    f1: {min: 0.6}\n")
    spec = resolved_spec(repo, own)
    assert list(spec.model.owners) == ["me@example.com"]
    assert set(spec.quality_gates.metrics) == {"f1"}  # not f1 plus the inherited accuracy gate


def test_the_generated_pipelines_carry_the_inherited_values(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_at(repo)
    ok(capsys, "generate", "specs")  # the configuration's output folder, relative to it
    training = (repo / "out" / "tiny-model" / "azure-pipelines" / "training.yml").read_text(encoding="utf-8")
    assert 'workspaceName: "mlw-shared"' in training
    assert "--min accuracy=0.75 " in training  # the inherited gate, not the task's default (0.7)


def test_an_inherited_value_that_breaks_a_spec_is_shown_in_the_configuration_naming_the_spec(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The inherited accuracy gate is valid for classifiers, not for a regression spec: the finding points at the
    configuration's line (that is what to change, or override) and names the spec it broke."""
    spec_at(repo, TINY.replace("  name: tiny-model\n", "  name: tiny-model\n  task: regression\n"))
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert output.strip() == (
        "mlops-gen.yaml:14:7: defaults.quality_gates.metrics.accuracy: 'accuracy' is not a regression metric; "
        "use one of r2, mae, mse, rmse, mape (inherited by specs/tiny.yaml)")


# ----- policies -----

STRICT = """\
apiVersion: mlops-gen/v1
kind: RepositoryConfig
policies:
  production_approval: true
  minimum_gates:
    accuracy: {min: 0.8}
    mae: {max: 5}
  allowed_targets: [aks, azureml_online_endpoint]
  allowed_regions: [westeurope]
  required_owners: 1
"""
BREAKING = """\
apiVersion: mlops-gen/v1
kind: ModelPipeline
model:
  name: risky-model
azure:
  location: eastus
quality_gates:
  metrics:
    accuracy: {min: 0.7}
environments:
  - name: dev
    target: aci
  - name: prod
    approval: none
    approval_waiver: the team is on holiday
"""


def test_every_policy_a_spec_breaks_is_named_at_its_field(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, STRICT)
    spec_at(repo, BREAKING, "risky.yaml")
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert output.strip().splitlines() == [
        "specs/risky.yaml:4:3: model.owners: 0 owner(s); at least 1 required (policy required_owners, "
        "mlops-gen.yaml:10)",
        "specs/risky.yaml:6:3: azure.location: region 'eastus' is not allowed; allowed: westeurope "
        "(policy allowed_regions, mlops-gen.yaml:9)",
        "specs/risky.yaml:9:16: quality_gates.metrics.accuracy.min: accuracy needs a gate with min >= 0.8 "
        "(this spec: 0.7) (policy minimum_gates, mlops-gen.yaml:5)",
        "specs/risky.yaml:12:5: environments[0].target: target 'aci' is not allowed; allowed: aks, "
        "azureml_online_endpoint (policy allowed_targets, mlops-gen.yaml:8)",
        "specs/risky.yaml:14:5: environments[1].approval: production-like environment 'prod' must have "
        "approval: required (a waiver is not accepted) (policy production_approval, mlops-gen.yaml:4)",
    ]


def test_a_spec_that_obeys_every_policy_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, STRICT)
    fixed = (BREAKING.replace("eastus", "westeurope").replace("min: 0.7", "min: 0.85").replace("aci", "aks")
             .replace("    approval: none\n    approval_waiver: the team is on holiday\n", "    approval: required\n")
             .replace("  name: risky-model\n", "  name: risky-model\n  owners: [risk@example.com]\n"))
    spec_at(repo, fixed.replace("    target: aks\n", "    target: aks\n    cluster: aks-dev\n"), "risky.yaml")
    assert ok(capsys, "validate", "specs").strip() == "specs/risky.yaml: ok (risky-model)"


def test_gate_policies_apply_by_task_and_to_the_default_gate(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A classifier without gates gets the default accuracy >= 0.7, which is under the floor; a regression spec
    is held to the mae ceiling, not to the accuracy floor."""
    configure(repo, STRICT.replace("  allowed_regions: [westeurope]\n", "").replace("  required_owners: 1\n", ""))
    spec_at(repo)
    spec_at(repo, TINY.replace("tiny-model", "reg-model").replace("  name: reg-model\n",
                                                                  "  name: reg-model\n  task: regression\n")
            + "quality_gates:\n  metrics:\n    mae: {max: 9}\n", "reg.yaml")
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert output.strip().splitlines() == [
        "specs/reg.yaml:10:11: quality_gates.metrics.mae.max: mae needs a gate with max <= 5 (this spec: 9) "
        "(policy minimum_gates, mlops-gen.yaml:5)",
        "specs/tiny.yaml:1:1: quality_gates.metrics.accuracy.min: accuracy needs a gate with min >= 0.8 "
        "(this spec: 0.7) (policy minimum_gates, mlops-gen.yaml:5)",
    ]


def test_an_inherited_value_that_breaks_a_policy_is_shown_where_it_is_written(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, STRICT.replace("  minimum_gates:\n    accuracy: {min: 0.8}\n    mae: {max: 5}\n", "")
              + "defaults:\n  model: {owners: [a@example.com]}\n  azure: {location: eastus}\n")
    spec_at(repo)
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert output.strip() == ("mlops-gen.yaml:10:11: defaults.azure.location: region 'eastus' is not allowed; "
                              "allowed: westeurope (policy allowed_regions, mlops-gen.yaml:6) (inherited by "
                              "specs/tiny.yaml)")
    # resolve shows the same finding at the same place
    code, output = cli(capsys, "resolve", "specs/tiny.yaml")
    assert code == 2 and output.startswith("mlops-gen.yaml:10:11: defaults.azure.location: ")


def test_an_environment_served_elsewhere_is_held_to_the_allowed_regions(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\npolicies:\n  allowed_regions: [westeurope]\n")
    spec_at(repo, TINY + "    target: aci\n    azure: {location: eastus, resource_group: rg-us}\n")
    code, output = cli(capsys, "validate", "specs")
    assert code == 2
    assert output.strip() == ("specs/tiny.yaml:8:13: environments[0].azure.location: region 'eastus' is not "
                              "allowed; allowed: westeurope (policy allowed_regions, mlops-gen.yaml:4)")


def test_defaults_are_checked_field_by_field_not_across_fields(repo: Path, capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    """A rule across fields is the resolved spec's to satisfy: defaults for a fairness gate without its features
    are valid when each spec names the features."""
    configure(repo, "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\ndefaults:\n"
                    "  fairness: {enabled: true, threshold: 0.8}\n")
    spec_at(repo, TINY + "fairness: {sensitive_features: [gender]}\n")
    assert ok(capsys, "validate", "specs").strip() == "specs/tiny.yaml: ok (tiny-model)"
    spec_at(repo, TINY.replace("tiny-model", "bare-model"), "bare.yaml")  # a spec that does not
    code, output = cli(capsys, "validate", "specs")
    assert code == 2 and "(inherited by specs/bare.yaml)" in output and "sensitive feature" in output


def test_a_default_of_the_wrong_kind_is_refused(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    configure(repo, "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\ndefaults:\n  model: [1]\n")
    spec_at(repo)
    code, output = cli(capsys, "validate", "specs")
    assert code == 2 and output.strip() == "mlops-gen.yaml:4:10: defaults.model: must be a mapping of keys to values"


# ----- resolve -----

def test_resolve_marks_inherited_values_and_prints_a_valid_spec(repo: Path, capsys: pytest.CaptureFixture[str]
                                                                ) -> None:
    spec = spec_at(repo)
    output = ok(capsys, "resolve", "specs/tiny.yaml")
    assert output.startswith("# specs/tiny.yaml, resolved against mlops-gen.yaml\n")
    assert "owners:  # from mlops-gen.yaml:6" in output
    assert "# from mlops-gen.yaml:7" in output.split("azure:")[1].splitlines()[0]
    assert "environments:\n  - name: dev\n" in output  # the spec's own values carry no note
    standalone = repo / "resolved.yaml"
    standalone.write_text(output, encoding="utf-8")
    # read without any configuration, the resolved file is the spec the configuration makes of the original
    assert load_spec(standalone).spec == resolved_spec(repo, spec)


def test_resolve_full_marks_the_built_in_defaults(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_at(repo)
    output = ok(capsys, "resolve", "specs/tiny.yaml", "--full")
    lines = output.splitlines()
    assert "  framework: scikit-learn  # default" in lines
    assert any(line.startswith("rollout:") and line.endswith("# default") for line in lines)
    assert any(line.startswith("  owners:") and "from mlops-gen.yaml:6" in line for line in lines)
    assert not any("name: tiny-model" in line and "#" in line for line in lines)


@pytest.mark.parametrize("spec", [*sorted((ROOT / "specs").glob("*.yaml")), *sorted(CORPUS.glob("*.yaml"))],
                         ids=lambda path: path.stem)
def test_resolve_full_prints_a_spec_that_validates_to_the_same_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str],
                                                                    spec: Path) -> None:
    """Every applicable setting written out, none of another target or strategy (those the rules refuse)."""
    monkeypatch.chdir(tmp_path)  # no configuration found: the spec alone
    full = tmp_path / "full.yaml"
    full.write_text(ok(capsys, "resolve", str(spec), "--full"), encoding="utf-8")
    again = load_spec(full).spec
    assert again.model_dump() == load_spec(spec).spec.model_dump()


# ----- schema -----

def test_configuration_schema_accepts_what_validate_accepts_and_refuses_what_it_refuses(
        capsys: pytest.CaptureFixture[str]) -> None:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors(yaml.safe_load(CONFIG)))
    assert not list(validator.iter_errors(yaml.safe_load(STRICT)))
    named = yaml.safe_load(CONFIG)
    named["defaults"]["model"]["name"] = "shared"
    assert list(validator.iter_errors(named)), "model.name cannot be inherited"
    unknown = yaml.safe_load(CONFIG)
    unknown["defaults"]["azure"]["locaton"] = "x"
    assert list(validator.iter_errors(unknown))
    spaced = yaml.safe_load(STRICT)
    spaced["policies"]["allowed_regions"] = ["West Europe"]  # patterns are anchored, as the CLI checks them
    assert list(validator.iter_errors(spaced))
    code, output = cli(capsys, "schema", "--document", "config")
    assert code == 0 and json.loads(output) == json.loads(json.dumps(schema))


# ----- check, the fast path and lineage -----

def test_a_configuration_change_makes_check_stale_and_the_lineage_hash_moves(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_at(repo)
    ok(capsys, "generate", "specs")
    training = repo / "out" / "tiny-model" / "azure-pipelines" / "training.yml"
    before = training.read_text(encoding="utf-8")
    assert "up to date" in ok(capsys, "check", "specs")
    probe = ("import sys\nfrom mlops_gen.cli import run\ncode = run(['check', 'specs'])\n"
             "print('RESULT', code, 'pydantic' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=False)
    assert "RESULT 0 False" in result.stdout, result.stdout + result.stderr  # the fast path, with a configuration
    configure(repo, CONFIG + "  required_owners: 1\n")  # a policy only: the output is the same, the inputs are not
    code, output = cli(capsys, "check", "specs")
    assert code == 1 and "stale (the spec, the repository configuration" in output
    ok(capsys, "generate", "specs")
    after = training.read_text(encoding="utf-8")
    assert before != after and [a for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
                                 if a != b] == [line for line in before.splitlines() if "spec_hash=" in line]


def test_the_readme_example_is_a_valid_configuration(tmp_path: Path) -> None:
    from mlops_gen.repo_config.find import ConfigFile
    from mlops_gen.repo_config.load import load_settings
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Repository configuration", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "mlops-gen.yaml"
    path.write_text(example, encoding="utf-8")
    settings = load_settings(ConfigFile(path=path, shown_as="mlops-gen.yaml", raw=example.encode()))
    assert settings.config.policies.allowed_targets == ["aks", "azureml_online_endpoint"]
    jsonschema.Draft202012Validator(config_schema()).validate(yaml.safe_load(example))


@pytest.mark.parametrize(("raw", "expected"), [
    (b"apiVersion: mlops-gen/v1\nkind: RepositoryConfig\noutput: \xff\n",
     "mlops-gen.yaml:3:9: file is not valid UTF-8"),
    (b"apiVersion: mlops-gen/v1\napiVersion: mlops-gen/v1\n", "mlops-gen.yaml:2:1: apiVersion: duplicate key"),
    (b"- layout\n", "mlops-gen.yaml:1:1: the configuration must be a YAML mapping"),
])
def test_unreadable_configurations_are_positioned_errors(repo: Path, capsys: pytest.CaptureFixture[str], raw: bytes,
                                                        expected: str) -> None:
    spec_at(repo)
    (repo / "mlops-gen.yaml").write_bytes(raw)
    code, output = cli(capsys, "check", "specs")
    assert code == 2 and output.startswith(expected), output


def test_check_with_an_explicit_configuration_says_how_to_fix_with_it(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_at(repo)
    elsewhere = repo / "conf.yaml"
    elsewhere.write_text(CONFIG.replace("mlw-shared", "mlw-other"), encoding="utf-8")
    ok(capsys, "generate", "specs", "--config", "conf.yaml")
    assert "up to date" in ok(capsys, "check", "specs", "--config", "conf.yaml")
    code, output = cli(capsys, "check", "specs")  # the discovered mlops-gen.yaml says mlw-shared
    assert code == 1 and "to fix: mlops-gen generate specs/tiny.yaml -o out\n" in output
    elsewhere.write_text(CONFIG.replace("mlw-shared", "mlw-third"), encoding="utf-8")
    code, output = cli(capsys, "check", "specs", "--config", "conf.yaml")
    assert code == 1 and "to fix: mlops-gen generate specs/tiny.yaml -o out --config conf.yaml" in output


def test_diff_summarises_a_configuration_change_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import os

    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=tmp_path,
                       env=env, check=True, capture_output=True)

    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").mkdir()
    spec_at(tmp_path)
    configure(tmp_path, CONFIG)
    git("init", "-q")
    git("add", "-A")
    git("commit", "-q", "-m", "init")
    ok(capsys, "generate", "specs")
    configure(tmp_path, CONFIG.replace("mlw-shared", "mlw-next"))
    code, output = cli(capsys, "diff", "specs", "--stat")
    assert code == 1
    assert output.splitlines()[0] == ("# repository configuration change (every model's input): mlops-gen.yaml "
                                      "since HEAD: defaults.azure.workspace: mlw-shared → mlw-next")


def test_the_readme_spec_example_is_a_valid_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The first example a reader copies: it must pass `validate` as written."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = readme.split("## The spec", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "data" / "config").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(example, encoding="utf-8")
    assert ok(capsys, "validate", "spec.yaml").strip() == "spec.yaml: ok (customer-churn)"
