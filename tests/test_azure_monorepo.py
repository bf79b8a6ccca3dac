"""Azure DevOps in the monorepo layout: shared templates (rendered once, from no spec) and thin per-model pipelines
that extend them.

The hooks' files are rendered for the example specs and the azure-* corpus at their repository-relative paths
(the composer is not merged yet: the hooks are called directly), each thin pipeline is expanded with its shared
template by tests/test_azure_monorepo_expand.py (the documented template rules), and the expanded pipeline must
satisfy the vendored Azure Pipelines schema with no finding, as the per-model pipelines do (tests/referees.py;
the schema types numbers and booleans outside task inputs as strings, which template expansion produces).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.dispatch import INPUTS, NO_ENVIRONMENT, NO_VERSION, guard_script
from mlops_gen.render.context import build_context, environment_azure
from mlops_gen.render.environment import build_env
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.spec.validate import SpecFile, load_specs
from mlops_gen.targets import azure_devops, azure_monorepo
from tests.ado_expressions import simulate
from tests.conftest import CORPUS, ROOT, example_specs
from tests.pipeline_calls import azure_scripts, mappings
from tests.referees import assert_clean, run_tool, tool
from tests.test_azure_monorepo_expand import MAX_DEPTH, MAX_FILES, expand_pipeline, load

SPEC_FILES = [sf for sf in load_specs([str(p) for p in [*example_specs(), *sorted(CORPUS.glob("azure-*.yaml"))]])
              if "azure_devops" in sf.spec.platforms]
REPO = Monorepo("generated")
YAMLLINT_CONFIG = ROOT / "tests" / "yamllint.yaml"
MACRO = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
PREDEFINED = ("Build.", "System.", "Agent.", "Pipeline.", "Environment.", "strategy.", "Date:", "Rev:")


def render_shared(root: Path) -> dict[str, Path]:
    env = build_env()
    out = {}
    for file in azure_devops.monorepo_shared(REPO):
        text = env.get_template(file.template).render(repo=REPO, layout="monorepo", **file.extra)
        out[file.path] = _write(root, file.path, text)
    return out


def render_model(root: Path, spec_file: SpecFile) -> dict[str, Path]:
    env = build_env()
    context = build_context(spec_file.spec, spec_file.path, spec_file.inputs)
    out = {}
    for file in azure_devops.monorepo_model(spec_file.spec, REPO):
        text = env.get_template(file.template).render(**context, repo=REPO, layout="monorepo", **file.extra)
        out[file.path] = _write(root, file.path, text)
    return out


def _write(root: Path, relative: str, text: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("monorepo")
    render_shared(root)
    for spec_file in SPEC_FILES:
        render_model(root, spec_file)
    return root


def _thin(repo: Path, spec: ProjectSpec) -> list[Path]:
    files = sorted((repo / REPO.model(spec.model.name, "azure-pipelines")).glob("*.yml"))
    assert files, spec.model.name
    return files


def _expanded(repo: Path, tmp: Path, runtime: dict[str, Any] | None = None) -> list[Path]:
    """Every thin pipeline expanded, written under `tmp`."""
    out = []
    for spec_file in SPEC_FILES:
        for path in _thin(repo, spec_file.spec):
            document, expansion = expand_pipeline(path, repo, runtime if path.name == "deployment.yml" else None)
            assert len(expansion.files) <= MAX_FILES and expansion.depth <= MAX_DEPTH
            target = tmp / spec_file.spec.model.name / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(yaml.safe_dump(document, sort_keys=False, width=200), encoding="utf-8")
            out.append(target)
    return out


def _shared_texts(repo: Path) -> dict[str, str]:
    folder = repo / REPO.shared("azure-pipelines")
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.yml"))}


# ----- referees -----

def test_expanded_pipelines_satisfy_the_azure_schema(repo: Path, tmp_path: Path) -> None:
    files = _expanded(repo, tmp_path)
    manual = _expanded(repo, tmp_path / "manual", {"action": "rollback", "environment": NO_ENVIRONMENT})
    assert len(files) >= 2 * len(SPEC_FILES)
    assert_clean(run_tool(["check-jsonschema", "--builtin-schema", "vendor.azure-pipelines",
                           "--regex-variant", "nonunicode", *map(str, files + manual)]))


def test_expansion_leaves_no_template_expression(repo: Path, tmp_path: Path) -> None:
    for path in _expanded(repo, tmp_path):
        assert "${{" not in path.read_text(encoding="utf-8"), path


def test_yamllint_finds_nothing(repo: Path) -> None:
    files = [str(path) for path in sorted(repo.rglob("*.yml"))]
    assert len(files) >= len(azure_monorepo.SHARED_TEMPLATES) + 2 * len(SPEC_FILES)
    assert_clean(run_tool(["yamllint", "--strict", "-c", str(YAMLLINT_CONFIG), "-f", "parsable", *files]))


def test_shellcheck_finds_nothing_in_the_expandedazure_scripts(repo: Path, tmp_path: Path) -> None:
    shellcheck = tool("shellcheck")
    problems = []
    for path in _expanded(repo, tmp_path):
        for body in azure_scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            text = "#!/bin/bash\n" + MACRO.sub(lambda m: "MACRO_" + re.sub(r"\W", "_", m.group(1)), body)
            result = subprocess.run([shellcheck, "--shell=bash", "-"], input=text, capture_output=True, text=True,
                                    check=False)
            if result.returncode:
                problems.append(f"{path}:\n{result.stdout}")
    assert not problems, "\n".join(problems)


# ----- the shared part holds no model -----

def _literals(spec: ProjectSpec) -> set[str]:
    values = {spec.model.name, spec.azure.workspace, spec.azure.resource_group, spec.azure.service_connection,
              spec.azure.registry, *spec.triggers.branches, *(e.name for e in spec.environments)}
    for env in spec.environments:
        azure = environment_azure(spec, env)
        values |= {azure.workspace, azure.resource_group, azure.service_connection}
        values |= {value for value in (env.cluster, env.namespace, env.azure.subscription_id) if value}
    if spec.azure.subscription_id:
        values.add(spec.azure.subscription_id)
    return {value for value in values if value}


def test_shared_templates_hold_no_model_literal(repo: Path) -> None:
    literals = set().union(*(_literals(sf.spec) for sf in SPEC_FILES))
    assert {"customer-churn", "staging", "production", "azure-ml-prod", "main"} <= literals  # the check has teeth
    for name, text in _shared_texts(repo).items():
        words = set(re.findall(r"[A-Za-z0-9_][A-Za-z0-9_.-]*[A-Za-z0-9_]|[A-Za-z0-9_]", text))
        assert not words & literals, f"{name} names {sorted(words & literals)}"


def test_shared_files_are_the_same_bytes_whoever_renders_them(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    shared = render_shared(first)
    render_model(first, SPEC_FILES[0])
    render_shared(second)
    render_model(second, SPEC_FILES[-1])
    assert SPEC_FILES[0].spec.model.name != SPEC_FILES[-1].spec.model.name
    for relative in shared:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    assert sorted(shared) == sorted(REPO.shared(f"azure-pipelines/{name}")
                                    for name in azure_monorepo.SHARED_TEMPLATES)


def test_no_parameter_is_spliced_into_a_script(repo: Path) -> None:
    """Scripts of the shared templates read every value from env: no template expression inside a script."""
    for name in _shared_texts(repo):
        bodies = azure_scripts(load(repo / REPO.shared(f"azure-pipelines/{name}")))
        assert bodies, name
        for body in bodies:
            assert "${{" not in body, f"{name}: {body[:200]}"
            assert body.startswith("set -euo pipefail\n"), f"{name}: {body[:80]!r}"


# ----- parameters and paths -----

def test_template_parameters_are_typed_and_closed_sets_listed(repo: Path) -> None:
    for name in azure_monorepo.SHARED_TEMPLATES:
        declared = load(repo / REPO.shared(f"azure-pipelines/{name}"))["parameters"]
        assert declared, name
        for parameter in declared:
            assert parameter["type"] in ("string", "number", "boolean", "object"), (name, parameter)
        by_name = {parameter["name"]: parameter for parameter in declared}
        assert "values" in by_name["pythonVersion"]
        if name in azure_monorepo.PASSED:
            assert set(azure_monorepo.PASSED[name]) <= set(by_name), name
    deployment = {p["name"]: p for p in load(repo / REPO.shared("azure-pipelines/deployment.yml"))["parameters"]}
    assert deployment["action"]["values"] == ["train", "deploy", "rollback"]
    assert deployment["containerScan"]["type"] == "boolean" and deployment["environments"]["type"] == "object"
    training = {p["name"]: p for p in load(repo / REPO.shared("azure-pipelines/training.yml"))["parameters"]}
    assert training["coverageMin"]["type"] == "number" and training["bandit"]["type"] == "boolean"
    assert training["timeouts"]["type"] == "object" and training["releaseBranchMatch"]["values"]


def _matches(pattern: str, path: str) -> bool:
    """An Azure path filter: relative to the repository root; a trailing `*` covers the folder."""
    assert pattern.endswith("/*"), pattern
    return path.startswith(pattern[:-1])


def test_path_filters_run_one_model_for_its_change_and_all_for_a_shared_one(repo: Path) -> None:
    specs = [sf.spec for sf in SPEC_FILES]
    changes = {spec.model.name: REPO.model(spec.model.name, "config/pipeline.yaml") for spec in specs}
    shared_change = REPO.shared("src/pipeline/run_plan.py")
    for spec in specs:
        training = load(repo / REPO.model(spec.model.name, "azure-pipelines/training.yml"))
        paths = training["trigger"]["paths"]["include"]
        assert paths == [f"{REPO.model(spec.model.name)}/*", f"{REPO.shared()}/*"]
        if spec.triggers.pull_requests:
            assert training["pr"]["paths"]["include"] == paths
        for other, change in changes.items():
            assert any(_matches(p, change) for p in paths) == (other == spec.model.name), (spec.model.name, other)
        assert any(_matches(p, shared_change) for p in paths)
        # A model whose name begins like another's does not run on the other's change.
        assert not any(_matches(p, REPO.model(spec.model.name + "-v2", "x")) for p in paths)


def test_thin_pipelines_extend_the_shared_templates_by_absolute_path(repo: Path) -> None:
    for spec_file in SPEC_FILES:
        for path in _thin(repo, spec_file.spec):
            document = load(path)
            template = document["extends"]["template"]
            assert template == "/" + REPO.shared(f"azure-pipelines/{path.name}")
            assert (repo / template.lstrip("/")).is_file()
            assert set(document) <= {"name", "trigger", "pr", "schedules", "parameters", "resources",
                                     "lockBehavior", "extends"}


# ----- behaviour of the expanded pipelines -----

def test_one_deployment_job_per_environment_bound_to_it_in_order(repo: Path) -> None:
    for spec_file in SPEC_FILES:
        spec = spec_file.spec
        document, _ = expand_pipeline(repo / REPO.model(spec.model.name, "azure-pipelines/deployment.yml"), repo)
        releases = [stage for stage in document["stages"] if stage["stage"].startswith("DeployTo")]
        assert len(releases) == len(spec.environments)
        for index, (stage, env) in enumerate(zip(releases, spec.environments, strict=True)):
            [job] = stage["jobs"]
            assert job["environment"] == env.name
            assert job["deployment"].startswith("Deploy")
            previous = releases[index - 1]["stage"] if index else None
            assert stage["dependsOn"] == ["BuildContainer", *([previous] if previous else [])]
            hooks = job["strategy"]["runOnce"]
            parts = [s["env"]["MLOPS_CI_PART"] for hook in (hooks["deploy"], hooks["on"]["failure"])
                     for s in hook["steps"] if "MLOPS_CI_PART" in s.get("env", {})]
            assert parts == [f"release:{env.name}", f"rollback:{env.name}"]
            connection = env.azure.service_connection or spec.azure.service_connection
            assert {s["inputs"]["azureSubscription"] for hook in (hooks["deploy"], hooks["on"]["failure"])
                    for s in hook["steps"] if s.get("task") == "AzureCLI@2"} == {connection}


def test_training_runs_each_plan_stage_in_order(repo: Path) -> None:
    stage_ids = [stage.id for stage in build_pipeline(SPEC_FILES[0].spec).training]
    for spec_file in SPEC_FILES:
        spec = spec_file.spec
        document, _ = expand_pipeline(repo / REPO.model(spec.model.name, "azure-pipelines/training.yml"), repo)
        parts = [s["env"]["MLOPS_CI_PART"] for stage in document["stages"] for job in stage["jobs"]
                 for s in job["steps"] if "MLOPS_CI_PART" in s.get("env", {})]
        # The registration notice (the plan's, as the per-model training pipeline sends it) after registration.
        assert parts == [*(f"stage:{stage_id}" for stage_id in stage_ids), "notify:model_registered"]
        for node in mappings(document):
            if node.get("task") == "AzureCLI@2":
                assert node["inputs"]["addSpnToEnvironment"] is True
                assert node["inputs"]["azureSubscription"] == spec.azure.service_connection
        quality = document["stages"][0]
        assert [job["job"] for job in quality["jobs"]] == \
            ["LintAndTest", *(["SecurityScan"] if spec.ci.security_scans.bandit or
                              spec.ci.security_scans.dependency_audit else [])]


def test_every_macro_is_defined(repo: Path) -> None:
    for spec_file in SPEC_FILES:
        spec = spec_file.spec
        mapped = set(azure_monorepo.step_variables(spec, build_pipeline(spec)))
        for path in _thin(repo, spec):
            document, _ = expand_pipeline(path, repo)
            defined = set(document.get("variables") or {})
            for text in yaml.safe_dump({k: v for k, v in document.items() if k != "name"}).split("\n"):
                for used in MACRO.findall(text):
                    assert used in defined | mapped or used.startswith(PREDEFINED), f"{path}: $({used})"


@pytest.mark.parametrize(("action", "environment"), [("train", NO_ENVIRONMENT), ("deploy", "production"),
                                                      ("rollback", "staging"), ("deploy", "staging")])
def test_manual_operations_run_the_stages_the_dispatch_plans(repo: Path, action: str, environment: str) -> None:
    spec_file = next(sf for sf in SPEC_FILES if sf.spec.model.name == "customer-churn")
    dispatch = build_pipeline(spec_file.spec).dispatch
    assert dispatch is not None
    runtime = {"action": action, "environment": environment, "version": "7" if action == "deploy" else NO_VERSION}
    path = repo / REPO.model("customer-churn", "azure-pipelines/deployment.yml")
    document, _ = expand_pipeline(path, repo, runtime)
    results = simulate(document, runtime)
    released = [name.removeprefix("DeployTo").lower() for name, result in results.items()
                if name.startswith("DeployTo") and result == "Succeeded"]
    plan = dispatch.plan(action, "" if environment == NO_ENVIRONMENT else environment)
    assert released == list(plan.releases)
    assert (results["PostDeployment"] == "Succeeded") == plan.post_release


@pytest.mark.parametrize("inputs", [
    ("train", NO_ENVIRONMENT, NO_VERSION, "refs/heads/feature"), ("deploy", "production", "12", "refs/heads/main"),
    ("deploy", "production", "0", "refs/heads/main"), ("deploy", "prod", "3", "refs/heads/main"),
    ("rollback", "staging", NO_VERSION, "refs/heads/main"), ("rollback", "staging", "4", "refs/heads/main"),
    ("deploy", "staging", "5", "refs/heads/dev"), ("destroy", "staging", "1", "refs/heads/main"),
    ("deploy", NO_ENVIRONMENT, "2", "refs/heads/main"), ("deploy", "staging", "1; rm -rf /", "refs/heads/main"),
])
def test_the_shared_guard_decides_as_the_per_model_guard(inputs: tuple[str, str, str, str]) -> None:
    bash = shutil.which("bash")
    assert bash
    action, environment, version, ref = inputs
    env = {"PATH": "/usr/bin:/bin", **dict(zip((i.variable for i in INPUTS), (action, environment, version),
                                               strict=True)),
           azure_devops.REF_VARIABLE: ref, azure_monorepo.ENV["environments"]: "staging production",
           azure_monorepo.ENV["release_branch"]: "main"}
    per_model = guard_script(("staging", "production"), "main", azure_devops.REF_VARIABLE)
    shared = azure_monorepo.guard_script()
    codes = [subprocess.run([bash, "-euo", "pipefail", "-c", script], env=env, capture_output=True, text=True,
                            check=False).returncode for script in (per_model, shared)]
    assert codes[0] == codes[1], (inputs, codes)


def test_the_deployment_pipeline_waits_for_a_stage_the_training_pipeline_has(repo: Path) -> None:
    for spec_file in SPEC_FILES:
        name = spec_file.spec.model.name
        training, _ = expand_pipeline(repo / REPO.model(name, "azure-pipelines/training.yml"), repo)
        deployment = load(repo / REPO.model(name, "azure-pipelines/deployment.yml"))
        [resource] = deployment["resources"]["pipelines"]
        assert resource["trigger"]["stages"] == [training["stages"][-1]["stage"]]
        assert training["stages"][-1]["stage"] == azure_monorepo.STAGE_IDENTS["register"]
