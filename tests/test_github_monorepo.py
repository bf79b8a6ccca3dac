"""GitHub Actions in the monorepo layout (issue 14): the shared reusable workflows and each model's thin callers.

The composer (mlops_gen/layout/monorepo.py) is not needed here: the hooks of the github_actions target are called
directly and their files rendered as the composer renders them (shared files from no spec, model files with the
spec's context), at their paths relative to the repository root, in a git repository (actionlint finds the called
workflows of `uses: ./.github/workflows/...` from the repository root, and checks each call's inputs against the
called file's `on.workflow_call.inputs`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.training import training_stages
from mlops_gen.render.context import build_context, environments
from mlops_gen.render.environment import build_env
from mlops_gen.render.headers import with_header
from mlops_gen.render.plan import OutputFile
from mlops_gen.render.verify import verify
from mlops_gen.spec.model import ProjectSpec, metric_gates
from mlops_gen.spec.validate import SpecFile, load_specs
from mlops_gen.targets import docker as docker_target
from mlops_gen.targets import github_actions, github_monorepo
from tests.conftest import CORPUS, ROOT, example_specs
from tests.gh_expressions import simulate
from tests.referees import assert_clean, run_tool, tool
from tests.test_github_actions import triggers

YAMLLINT_CONFIG = ROOT / "tests" / "yamllint.yaml"
REPO = Monorepo("generated")
SPEC_PATHS = [path for path in [*example_specs(), *sorted(CORPUS.glob("gha-*.yaml"))]
              if "github_actions" in load_specs([str(path)])[0].spec.platforms]
BASH = shutil.which("bash")
GIT = shutil.which("git")


def render(files: list[OutputFile], context: dict[str, Any], shown: str) -> dict[str, str]:
    """As the composer renders a unit: template, parse check, marker header, one trailing newline."""
    env = build_env()
    out = {}
    for file in files:
        body = env.get_template(file.template).render(**context, **file.extra, output_path=file.path)
        verify(file.path, body)
        out[file.path] = with_header(file.path, body, shown, file.mode).rstrip("\n") + "\n"
    return out


def render_shared(repo: Monorepo = REPO) -> dict[str, str]:
    return render(github_actions.monorepo_shared(repo), {"repo": repo, "layout": "monorepo"}, "mlops-gen")


def render_model(spec_file: SpecFile, repo: Monorepo = REPO) -> dict[str, str]:
    context = {**build_context(spec_file.spec, spec_file.path, spec_file.inputs), "output_dir": repo.out,
               "repo": repo, "layout": "monorepo"}
    return render(github_actions.monorepo_model(spec_file.spec, repo), context, spec_file.path)


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def specs() -> list[SpecFile]:
    return [load_specs([str(path)])[0] for path in SPEC_PATHS]


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory, specs: list[SpecFile]) -> Path:
    """A repository root holding the shared workflows and every model's callers."""
    if GIT is None:
        pytest.skip("needs git: actionlint resolves local reusable workflows from the repository root")
    root = tmp_path_factory.mktemp("monorepo")
    subprocess.run([GIT, "init", "--quiet", str(root)], check=True, timeout=60)
    write(root, render_shared())
    for spec_file in specs:
        write(root, render_model(spec_file))
    return root


def workflows(root: Path) -> list[str]:
    return sorted(str(path) for path in (root / ".github/workflows").glob("*.yml"))


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def caller(root: Path, spec: ProjectSpec, suffix: str = "") -> dict[str, Any]:
    return load(root / REPO.caller(spec.model.name, suffix))


def shared(root: Path, name: str) -> dict[str, Any]:
    return load(root / REPO.shared_workflow(name))


# ----- referees: zero findings -----

@pytest.mark.referee
def test_actionlint_with_shellcheck_is_clean(tree: Path) -> None:
    assert_clean(run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", f"-shellcheck={tool('shellcheck')}",
                           *workflows(tree)], cwd=tree))


@pytest.mark.referee
def test_actionlint_checks_each_call_against_the_called_workflow(tree: Path, tmp_path: Path) -> None:
    """Control: a caller passing an input the shared workflow does not declare, or a string where it declares a
    number, is reported; so the clean result above covers the calls' inputs."""
    shutil.copytree(tree, tmp_path / "repo")
    root = tmp_path / "repo"
    path = root / REPO.caller("customer-churn")
    text = path.read_text(encoding="utf-8")
    bad = text.replace("      coverage-min: 80\n", "      coverage-min: \"eighty\"\n      no-such-input: 1\n", 1)
    assert bad != text
    path.write_text(bad, encoding="utf-8")
    result = run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", "-shellcheck=", str(path)], cwd=root)
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'input "no-such-input" is not defined' in result.stdout, result.stdout
    assert "coverage-min" in result.stdout and "number" in result.stdout, result.stdout


@pytest.mark.referee
def test_zizmor_offline_default_policy_has_no_findings(tree: Path) -> None:
    result = run_tool(["zizmor", "--offline", "--no-progress", "--color", "never", "--strict-collection", str(tree)])
    assert_clean(result)
    assert "No findings to report" in result.stdout, result.stdout


@pytest.mark.referee
def test_workflows_match_the_github_workflow_schema(tree: Path) -> None:
    assert_clean(run_tool(["check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows(tree)]))


@pytest.mark.referee
def test_yamllint_is_clean(tree: Path) -> None:
    assert_clean(run_tool(["yamllint", "-s", "-c", str(YAMLLINT_CONFIG), "-f", "parsable", *workflows(tree)]))


# ----- the shared part holds no model -----

def _literals(spec: ProjectSpec) -> set[str]:
    """Values of a spec that must never appear in a shared file: names, Azure coordinates, thresholds."""
    azure = [spec.azure, *(env.azure for env in spec.environments)]
    values: set[str] = {spec.model.name, spec.data.dataset, spec.azure.registry,
                        spec.notifications.webhook_secret}
    values |= {str(getattr(a, field)) for a in azure for field in ("workspace", "resource_group", "subscription_id")
               if getattr(a, field)}
    values |= {env.name for env in spec.environments}
    values |= {view.endpoint_name for view in environments(spec)}
    for bound in metric_gates(spec).values():
        values |= {repr(value) for value in (bound.min, bound.max) if value is not None}
    if spec.monitoring.drift.enabled:
        values.add(repr(spec.monitoring.drift.threshold))
    return {value for value in values if value}


def _found(literals: set[str], text: str) -> set[str]:
    """The literals standing in `text` as whole words (not inside a longer name, path part or number). The null
    device is no environment called dev."""
    text = text.replace("/dev/null", "")
    return {value for value in literals
            if re.search(rf"(?<![A-Za-z0-9_.\-]){re.escape(value)}(?![A-Za-z0-9_\-]|\.[A-Za-z0-9])", text)}


def test_the_shared_workflows_hold_no_model_literal(specs: list[SpecFile]) -> None:
    files = render_shared()
    assert sorted(files) == sorted(REPO.shared_workflow(name) for name in github_monorepo.SHARED_WORKFLOWS)
    text = "".join(files.values())
    for spec_file in specs:
        found = _found(_literals(spec_file.spec), text)
        assert not found, f"{spec_file.path}: {sorted(found)} in the shared workflows"


def test_the_literal_check_can_fail(specs: list[SpecFile]) -> None:
    """Control for the test above: a model's own caller holds its literals."""
    spec_file = specs[0]
    text = "".join(render_model(spec_file).values())
    spec = spec_file.spec
    expected = {spec.model.name, spec.azure.workspace, *(env.name for env in spec.environments)}
    assert _found(_literals(spec_file.spec), text) >= expected
    assert not _found({"stag", "ion", "0.8"}, "staging production 0.85")


def test_every_model_gets_the_same_shared_bytes(tmp_path: Path, specs: list[SpecFile]) -> None:
    """The shared part depends on no spec: rendered beside any model's files, its bytes are the same, and a
    shared file never lies among a model's files."""
    first = render_shared()
    for spec_file in specs[:2]:
        model = render_model(spec_file)
        assert not set(model) & set(first)
        assert render_shared() == first
    other = render_shared(Monorepo("models/out"))  # only the repository's layout changes them
    assert other != first and all("models/out/_shared" in text for text in other.values())


# ----- callers -----

GLOB = {"**": ".*", "*": "[^/]*"}


def matches(pattern: str, path: str) -> bool:
    """GitHub's path filter glob (the subset the callers use): `*` within a folder, `**` across folders."""
    regex = "".join(GLOB.get(part, re.escape(part)) for part in re.split(r"(\*\*|\*)", pattern))
    return re.fullmatch(regex, path) is not None


def test_path_filters_cover_the_model_folder_and_the_shared_part_only(tree: Path, specs: list[SpecFile]) -> None:
    names = [spec_file.spec.model.name for spec_file in specs]
    assert "gha-canary" in names and "gha-canary-multi" in names  # one name is the other's prefix
    for spec_file in specs:
        spec = spec_file.spec
        on = triggers(caller(tree, spec))
        expected = [REPO.model(spec.model.name) + "/**", REPO.shared() + "/**", ".github/workflows/mlops.*.yml",
                    REPO.caller(spec.model.name)]
        assert on["push"]["paths"] == expected
        if spec.triggers.pull_requests:
            assert on["pull_request"]["paths"] == expected
        filters = on["push"]["paths"]
        for name in names:
            mine = name == spec.model.name
            for path in (REPO.model(name, "config/pipeline.yaml"), REPO.model(name, "k8s/production/manifests.yaml"),
                         REPO.caller(name)):
                assert any(matches(f, path) for f in filters) == mine, (spec.model.name, path)
        for path in (REPO.shared("src/pipeline/run_plan.py"), REPO.shared("Dockerfile"),
                     REPO.shared_workflow("release.yml")):
            assert any(matches(f, path) for f in filters), path
        assert not any(matches(f, "specs/" + spec.model.name + ".yaml") for f in filters)
        assert not any(matches(f, REPO.caller(spec.model.name, "drift")) for f in filters)


def _calls(document: dict[str, Any], workflow: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, job) for job_id, job in document["jobs"].items()
            if job.get("uses", "").endswith("/" + REPO.shared_workflow(workflow))]


def test_each_environment_is_released_by_its_own_call_in_order(tree: Path, specs: list[SpecFile]) -> None:
    for spec_file in specs:
        spec = spec_file.spec
        document = caller(tree, spec)
        calls = _calls(document, github_monorepo.RELEASE)
        assert [job["with"]["environment"] for _, job in calls] == [env.name for env in spec.environments]
        previous = None
        for job_id, job in calls:
            needs = job["needs"]
            assert github_monorepo.PIPELINE_JOB in needs
            assert (previous in needs) if previous else needs == [github_monorepo.PIPELINE_JOB]
            assert job["with"]["image-reference"] == "${{ needs.pipeline.outputs.image }}"
            previous = job_id
        assert document["jobs"]["post"]["needs"] == previous


def test_customer_churn_calls_release_twice_staging_then_production(tree: Path) -> None:
    [spec_file] = load_specs([str(ROOT / "specs" / "customer-churn.yaml")])
    calls = _calls(caller(tree, spec_file.spec), github_monorepo.RELEASE)
    assert [(job_id, job["with"]["environment"], job["with"]["target"]) for job_id, job in calls] == [
        ("deploy-staging", "staging", "azureml_online_endpoint"), ("deploy-production", "production", "aks")]
    assert calls[1][1]["needs"] == ["deploy-staging", "pipeline"]


def test_the_release_job_binds_the_environment_it_is_given(tree: Path) -> None:
    release = shared(tree, github_monorepo.RELEASE)["jobs"]
    assert release["release"]["environment"]["name"] == "${{ inputs.environment }}"
    assert "environment" not in release["rollback"]  # a rollback never waits for an approval
    for job in release.values():
        assert "inputs.environment" in job["concurrency"]["group"] and job["concurrency"]["cancel-in-progress"] is False


def _dispatch(action: str, environment: str) -> tuple[dict[str, str], dict[str, str]]:
    return {"event_name": "workflow_dispatch", "ref": "refs/heads/main"}, {
        "action": action, "environment": environment, "version": "7" if action == "deploy" else ""}


def test_a_push_releases_everywhere_and_a_manual_run_one_environment(tree: Path, specs: list[SpecFile]) -> None:
    """The callers' conditions, simulated: the same cases as the per-model workflow (Dispatch)."""
    for spec_file in specs:
        spec = spec_file.spec
        jobs = caller(tree, spec)["jobs"]
        pipeline = build_pipeline(spec)
        assert pipeline.dispatch is not None
        envs = [f"deploy-{env.name}" for env in spec.environments]
        pushed = simulate(jobs, {"event_name": "push", "ref": "refs/heads/" + spec.triggers.branches[0]}, {})
        assert all(pushed[job] == "success" for job in ["pipeline", *envs, "post"])
        assert pushed["notify-failure"] == "skipped"
        for action in ("deploy", "rollback"):
            for env in spec.environments:
                plan = pipeline.dispatch.plan(action, env.name)
                results = simulate(jobs, *_dispatch(action, env.name))
                running = {job for job in envs if results[job] != "skipped"}
                assert running == {f"deploy-{name}" for name in plan.releases}
                assert (results["post"] != "skipped") == plan.post_release
                failed = simulate(jobs, *_dispatch(action, env.name), frozenset({f"deploy-{env.name}"}))
                assert failed["notify-failure"] == "success"


def test_calling_jobs_grant_what_the_called_jobs_ask_for(tree: Path, specs: list[SpecFile]) -> None:
    """A called workflow's permissions are capped by the calling job's: each calling job grants at least what every
    job of its workflow asks for, and no more than the most any of them asks for."""
    rank = {"none": 0, "read": 1, "write": 2}
    for spec_file in specs:
        for suffix in ("", "drift") if spec_file.spec.monitoring.drift.enabled else ("",):
            document = caller(tree, spec_file.spec, suffix)
            assert document["permissions"] == {}
            for job_id, job in document["jobs"].items():
                called = load(tree / job["uses"].removeprefix("./"))
                asked: dict[str, int] = {}
                for called_job in called["jobs"].values():
                    for scope, level in called_job["permissions"].items():
                        asked[scope] = max(asked.get(scope, 0), rank[level])
                granted = {scope: rank[level] for scope, level in job["permissions"].items()}
                assert granted == asked, (spec_file.path, suffix, job_id)


def test_every_shared_job_has_a_timeout_and_its_own_permissions(tree: Path) -> None:
    for name in github_monorepo.SHARED_WORKFLOWS:
        document = shared(tree, name)
        assert document["permissions"] == {}
        assert "concurrency" not in document  # the caller's workflow holds the run's group
        assert set(triggers(document)) == {"workflow_call"}
        for job_id, job in document["jobs"].items():
            assert job.get("timeout-minutes"), (name, job_id)
            assert "permissions" in job, (name, job_id)
            for step in job["steps"]:
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False


EXPRESSION = re.compile(r"\$\{\{")


def test_inputs_reach_run_blocks_only_through_env(tree: Path) -> None:
    for path in workflows(tree):
        for job in load(Path(path))["jobs"].values():
            for step in job.get("steps", []):
                assert not EXPRESSION.search(step.get("run", "")), (path, step.get("name"))


def test_the_shared_jobs_run_the_model_plan_through_the_runner(tree: Path) -> None:
    jobs = shared(tree, github_monorepo.PIPELINE)["jobs"]
    for stage, job_id, _, _ in github_monorepo.STAGES:
        [run] = [step for step in jobs[job_id]["steps"] if step.get("env", {}).get("MLOPS_PART")]
        assert run["env"]["MLOPS_PART"] == f"stage:{stage}"
        assert '--platform github "${MLOPS_PART}"' in run["run"].replace("\\\n  ", "")
        assert jobs[job_id]["env"]["MODEL_DIR"] == "${{ inputs.model-dir }}"
    parts = {step["env"]["MLOPS_PART"] for name in github_monorepo.SHARED_WORKFLOWS
             for job in shared(tree, name)["jobs"].values() for step in job["steps"]
             if step.get("env", {}).get("MLOPS_PART")}
    assert parts == {*(f"stage:{stage}" for stage, *_ in github_monorepo.STAGES), "post", "drift",
                     "${{ format('release:{0}', inputs.environment) }}",
                     "${{ format('rollback:{0}', inputs.environment) }}",
                     "notify:pipeline_failed", "notify:drift_detected"}


def test_the_stage_jobs_are_the_plan_stages(specs: list[SpecFile]) -> None:
    for spec_file in specs:
        assert [stage.id for stage in training_stages(spec_file.spec)] == [s for s, *_ in github_monorepo.STAGES]


def test_the_image_digest_reaches_the_release_jobs(tree: Path) -> None:
    document = shared(tree, github_monorepo.PIPELINE)
    output = triggers(document)["workflow_call"]["outputs"]["image"]["value"]
    assert output == "${{ jobs.build-image.outputs.image }}"
    build = document["jobs"]["build-image"]
    assert build["outputs"]["image"] == "${{ steps.push.outputs.image }}"
    [docker] = [step for step in build["steps"] if step.get("uses", "").startswith("docker/build-push-action@")]
    args = dict(line.split("=", 1) for line in docker["with"]["build-args"].splitlines())
    # The shared Dockerfile's contract (targets/docker.py): context = the shared folder, where the model version
    # was exported, and the base image as its one build argument.
    assert args == {docker_target.BASE_IMAGE_ARG: "${{ inputs.python-image }}"}
    assert docker["with"]["file"] == REPO.shared("Dockerfile") and docker["with"]["context"] == REPO.shared()
    assert build["env"]["MODEL_EXPORT"].endswith("/" + REPO.shared(docker_target.MODEL_EXPORT))
    release = shared(tree, github_monorepo.RELEASE)["jobs"]["release"]
    assert release["env"]["IMAGE_REFERENCE"] == "${{ inputs.image-reference }}"


# ----- the dispatch guard of the shared workflows -----

def _guard(tree: Path) -> str:
    steps = shared(tree, github_monorepo.PIPELINE)["jobs"]["code-quality"]["steps"]
    assert steps[0]["name"] == "Check the inputs of a manual run"
    return str(steps[0]["run"])


def run_guard(script: str, action: str, environment: str, version: str = "", environments: str = "staging production",
              ref: str = "refs/heads/main") -> subprocess.CompletedProcess[str]:
    assert BASH is not None
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GITHUB_REF": ref, "RELEASE_BRANCH": "main",
           "MLOPS_ENVIRONMENTS": environments, "DISPATCH_ACTION": action, "DISPATCH_ENVIRONMENT": environment,
           "DISPATCH_VERSION": version}
    return subprocess.run([BASH, "--noprofile", "--norc", "-euo", "pipefail", "-c", script], env=env,
                          capture_output=True, text=True, check=False, timeout=30)


@pytest.fixture(scope="module")
def guard(tree: Path) -> Iterator[str]:
    if BASH is None:
        pytest.skip("needs bash")
    yield _guard(tree)


@pytest.mark.parametrize(("action", "environment", "version"), [
    ("train", "(none)", ""), ("deploy", "staging", "3"), ("rollback", "production", ""),
    ("deploy", "production", "12")])
def test_the_shared_guard_accepts_the_model_environments(guard: str, action: str, environment: str,
                                                         version: str) -> None:
    result = run_guard(guard, action, environment, version)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("environment", ["qa", "(none)", "", "staging production", "*", "stag*", "Staging"])
def test_the_shared_guard_refuses_an_unknown_environment(guard: str, environment: str) -> None:
    result = run_guard(guard, "deploy", environment, "3")
    assert result.returncode == 2
    assert "name the environment, one of: staging production" in result.stderr
    assert environment not in result.stderr.replace("staging production", "") or not environment


def test_the_shared_guard_refuses_what_the_model_guard_refuses(guard: str) -> None:
    assert run_guard(guard, "promote", "staging").returncode == 2
    assert run_guard(guard, "deploy", "staging", "latest").returncode == 2
    assert run_guard(guard, "rollback", "staging", "4").returncode == 2
    refused = run_guard(guard, "deploy", "staging", "3", ref="refs/heads/feature")
    assert refused.returncode == 2 and "runs from main only" in refused.stderr
    assert run_guard(guard, "deploy", "dev", "3", environments="dev").returncode == 0


# ----- the run blocks, executed -----

FAKE = """import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in ("HOOK", "V1", "OTHER")}}))
"""


def _fake_repo(root: Path, script: str) -> Path:
    """A repository root with a model whose plan names one secret (HOOK) and one variable (V1), and a fake shared
    `script` printing its arguments and those variables."""
    (root / REPO.model("m", "config")).mkdir(parents=True)
    (root / REPO.model("m", github_monorepo.PLAN_FILE)).write_text(
        json.dumps({"format": "mlops-gen/plan-v1", "secrets": ["HOOK"], "variables": ["V1"]}), encoding="utf-8")
    fake = root / REPO.shared(script)
    fake.parent.mkdir(parents=True)
    fake.write_text(FAKE, encoding="utf-8")
    return root


def _run_block(script: str, cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    assert BASH is not None
    base = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "/usr/bin:/bin")]),
            "MODEL_DIR": REPO.model("m"), "SHARED_DIR": REPO.shared(), "WEBHOOK": "https://hook.example/x",
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "42"}
    result = subprocess.run([BASH, "--noprofile", "--norc", "-euo", "pipefail", "-c", script], cwd=cwd,
                            env={**base, **env}, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    out: dict[str, Any] = json.loads(result.stdout)
    return out


@pytest.mark.skipif(BASH is None or shutil.which("jq") is None, reason="needs bash and jq")
def test_a_plan_step_gets_the_runner_call_and_the_plan_secret_and_variables(tree: Path, tmp_path: Path) -> None:
    """The rendered run block: the runner with the model folder, the platform and the part; the webhook secret under
    the plan's name for it; the variables the plan names, and no other."""
    steps = shared(tree, github_monorepo.PIPELINE)["jobs"]["data-validation"]["steps"]
    [step] = [step for step in steps if step.get("env", {}).get("MLOPS_PART")]
    root = _fake_repo(tmp_path, github_monorepo.RUNNER_SCRIPT)
    out = _run_block(step["run"], root, {"MLOPS_PART": "stage:data",
                                         "REPOSITORY_VARIABLES": json.dumps({"V1": "a b", "OTHER": "no"})})
    assert out["argv"] == ["--model-dir", REPO.model("m"), "--platform", "github", "stage:data"]
    assert out["env"] == {"HOOK": "https://hook.example/x", "V1": "a b", "OTHER": None}


@pytest.mark.skipif(BASH is None or shutil.which("jq") is None, reason="needs bash and jq")
@pytest.mark.parametrize(("workflow", "job", "part"), [
    (github_monorepo.NOTIFY, "notify", "notify:pipeline_failed"),
    (github_monorepo.DRIFT, "notify", "notify:drift_detected")])
def test_the_notices_run_the_plan_notify_part_with_the_webhook_under_the_plan_name(
        tree: Path, tmp_path: Path, workflow: str, job: str, part: str) -> None:
    """The notice is the plan's (no argument of it travels through the caller): the runner with its notify part,
    the webhook secret exported under the plan's name for it."""
    [step] = [step for step in shared(tree, workflow)["jobs"][job]["steps"]
              if step.get("env", {}).get("MLOPS_PART")]
    assert step["env"]["MLOPS_PART"] == part
    root = _fake_repo(tmp_path, github_monorepo.RUNNER_SCRIPT)
    out = _run_block(step["run"], root, {"MLOPS_PART": part, "REPOSITORY_VARIABLES": "{}"})
    assert out["argv"] == ["--model-dir", REPO.model("m"), "--platform", "github", part]
    assert out["env"]["HOOK"] == "https://hook.example/x"
