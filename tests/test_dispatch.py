"""Day-2 control (issue 12 item 10): the manual operations and the check of their inputs.

The actions and input names live in one place (mlops_gen.pipeline.dispatch). A manual run's inputs are free
text whatever the form offered (GitHub passes `inputs.*` through, `github.event.inputs.*` as strings; see
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onworkflow_dispatchinputs and
the Azure Pipelines runtime parameters,
https://learn.microsoft.com/en-us/azure/devops/pipelines/process/runtime-parameters), so the guard reads them from
environment variables and refuses, with exit 2 and a message naming what it expects, anything but a known action,
one of the spec's environments and a positive integer version for a deploy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.dispatch import (
    ACTIONS,
    DEPLOY,
    INPUTS,
    NO_ENVIRONMENT,
    NO_VERSION,
    REFUSED,
    Dispatch,
    Plan,
    guard_script,
)
from mlops_gen.spec.validate import load_specs
from tests.ado_expressions import evaluate as evaluate_condition
from tests.ado_expressions import simulate as simulate_stages
from tests.conftest import example_specs
from tests.gh_expressions import evaluate, simulate
from tests.pipeline_calls import render_to

WORKFLOW = ".github/workflows/ml-pipeline.yml"

ENVS = ("dev", "staging", "prod")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def run_guard(action: str, environment: str = "", version: str = "", cwd: Path | None = None,
              ref: str = "refs/heads/main") -> subprocess.CompletedProcess[str]:
    variables = dict(zip((item.variable for item in INPUTS), (action, environment, version), strict=True))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "RUN_REF": ref, **variables}
    assert BASH is not None
    return subprocess.run([BASH, "--noprofile", "--norc", "-euo", "pipefail", "-c",
                           guard_script(ENVS, "main", "RUN_REF")],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=30)


def test_one_source_for_actions_and_inputs() -> None:
    assert [action.name for action in ACTIONS] == ["train", "deploy", "rollback"]
    assert ACTIONS[0].name == "train"  # the default: what a manual run did before
    assert [item.name for item in INPUTS] == ["action", "environment", "version"]
    assert len({item.variable for item in INPUTS}) == len(INPUTS)
    assert [action for action in ACTIONS if action.needs_version] == [DEPLOY]


@pytest.mark.parametrize(("action", "environment", "version"), [
    ("train", "", ""),  # a plain manual training run needs neither environment nor version
    ("deploy", "prod", "7"),
    ("deploy", "dev", "123456789"),
    ("rollback", "staging", ""),
    ("rollback", "staging", NO_VERSION),  # Azure DevOps' default of the version parameter
])
def test_guard_accepts_a_valid_request(action: str, environment: str, version: str) -> None:
    result = run_guard(action, environment, version)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(("action", "environment", "version", "message"), [
    ("deploy", "prod", "", "version must be a positive integer"),
    ("deploy", "prod", "0", "version must be a positive integer"),
    ("deploy", "prod", "-1", "version must be a positive integer"),
    ("deploy", "prod", "7 ", "version must be a positive integer"),
    ("deploy", "prod", "7\n8", "version must be a positive integer"),
    ("deploy", "prod", "$(touch pwned)", "version must be a positive integer"),
    ("deploy", "production", "7", "name the environment, one of: dev, staging, prod"),
    ("rollback", "", "", "name the environment, one of: dev, staging, prod"),
    ("rollback", NO_ENVIRONMENT, "", "name the environment"),  # the inputs' default: no silent first environment
    ("rollback", "prod;id", "", "name the environment"),
    ("rollback", "*", "", "name the environment"),
    ("rollback", "prod", "5", "a rollback takes no version"),  # not silently ignored
    ("retrain", "prod", "7", "unknown action, expected one of: train, deploy, rollback"),
    ("", "", "", "unknown action"),
])
def test_guard_refuses_with_exit_2_and_says_why(action: str, environment: str, version: str,
                                                message: str, tmp_path: Path) -> None:
    result = run_guard(action, environment, version, cwd=tmp_path)
    assert result.returncode == REFUSED == 2
    assert message in result.stderr
    # The refused value is never echoed: a line of free text could read as a workflow command.
    for value in (environment, version):
        if value and value not in ("prod",):
            assert value not in result.stderr
    assert not (tmp_path / "pwned").exists()  # the value was compared, never run


@pytest.mark.parametrize("action", ["deploy", "rollback"])
def test_a_manual_operation_runs_from_the_release_branch_only(action: str) -> None:
    """It builds and pushes an image from the checked-out code: another branch's code must not reach an
    environment (a train from another branch is the pipeline's own business: its jobs stop at the gates)."""
    result = run_guard(action, "prod", "7" if action == "deploy" else "", ref="refs/heads/develop")
    assert result.returncode == 2 and "a manual deploy or rollback runs from main only" in result.stderr
    assert run_guard("train", ref="refs/heads/develop").returncode == 0


def test_guard_quotes_environment_names_as_literal_patterns() -> None:
    """A spec's environment names become case patterns: quoted, so none acts as a glob."""
    script = guard_script(("dev", "prod"), "main", "GITHUB_REF")
    assert "dev|prod) ;;" in script
    with pytest.raises(ValueError, match="at least one environment"):
        guard_script((), "main", "GITHUB_REF")


# --- The GitHub workflow: inputs, which jobs run for each action, and the version a manual run releases ---------

GITHUB_TRAINING = ("data-validation", "train", "validate-model", "register-model")


def _rendered(tmp: Path, platform: str, file: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """{model: (its pipeline model, the parsed `file`)} for the example specs on `platform`."""
    specs = {path: load_specs([str(path)])[0].spec for path in example_specs()}
    chosen = [path for path, spec in specs.items() if platform in spec.platforms]
    folders = render_to(chosen, tmp)
    out = {specs[path].model.name: (build_pipeline(specs[path]), yaml.safe_load(
        (folders[specs[path].model.name] / file).read_text(encoding="utf-8"))) for path in chosen}
    assert out
    return out


@pytest.fixture(scope="module")
def github_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, dict[str, Any]]]:
    return _rendered(tmp_path_factory.mktemp("dispatch"), "github_actions", WORKFLOW)


def _dispatch(inputs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """The github context and the inputs of a manual run of the release branch."""
    return {"event_name": "workflow_dispatch", "ref": "refs/heads/main"}, inputs


def _running(results: dict[str, str]) -> set[str]:
    return {job_id for job_id, result in results.items() if result != "skipped"}


def test_github_inputs_come_from_the_model(github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    for pipeline, workflow in github_trees.values():
        on = workflow.get("on", workflow.get(True))
        inputs = on["workflow_dispatch"]["inputs"]
        assert list(inputs) == [item.name for item in INPUTS]
        assert inputs["action"]["type"] == "choice" and inputs["action"]["default"] == "train"
        assert inputs["action"]["options"] == [action.name for action in ACTIONS]
        assert inputs["environment"]["type"] == "choice"
        names = [release.env.name for release in pipeline.releases]
        assert inputs["environment"]["options"] == [NO_ENVIRONMENT, *names]
        assert inputs["environment"]["default"] == NO_ENVIRONMENT  # a rollback must name its environment
        assert inputs["version"]["type"] == "string" and inputs["version"]["required"] is False
        for trigger in ("push", "schedule", "pull_request"):  # only a manual run carries inputs
            assert "inputs" not in (on.get(trigger) or {})


@pytest.mark.parametrize("event", ["push", "schedule", "workflow_dispatch"])
def test_github_train_runs_the_whole_pipeline_as_before(
        event: str, github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """A push or schedule has no inputs (`inputs.action` is empty): it trains and releases everywhere in order,
    like a manual run with the default action; nothing rolls back when nothing fails."""
    for pipeline, workflow in github_trees.values():
        jobs = workflow["jobs"]
        inputs = {"action": "train", "environment": pipeline.releases[0].env.name, "version": ""} \
            if event == "workflow_dispatch" else {}
        results = simulate(jobs, {"event_name": event, "ref": "refs/heads/main"}, inputs)
        expected = {job_id for job_id in jobs if not job_id.startswith("rollback-") and job_id != "notify-failure"}
        assert _running(results) == expected


def test_github_train_stops_where_it_stopped_before(github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """A failed gate stops a push before registration, the build and every release; a failed staging release
    rolls staging back and releases nothing further; another branch stops after validation."""
    for pipeline, workflow in github_trees.values():
        jobs = workflow["jobs"]
        push = {"event_name": "push", "ref": "refs/heads/main"}
        results = simulate(jobs, push, {}, frozenset({"validate-model"}))
        assert _running(results) == {"code-quality", "security-scan", "data-validation", "train", "validate-model",
                                     "notify-failure"} & set(jobs)
        first = f"deploy-{pipeline.releases[0].env.name}"
        results = simulate(jobs, push, {}, frozenset({first}))
        assert results[first] == "failure"
        assert results.get(f"rollback-{pipeline.releases[0].env.name}", "success") == "success"
        assert all(results[f"deploy-{r.env.name}"] == "skipped" for r in pipeline.releases[1:])
        assert results["post-deployment"] == "skipped" and results["notify-failure"] == "success"
        results = simulate(jobs, {"event_name": "push", "ref": "refs/heads/feature"}, {})
        assert results["validate-model"] == "success" and results["register-model"] == "skipped"
        assert results["build-image"] == "skipped"


@pytest.mark.parametrize("action", ["deploy", "rollback"])
def test_github_manual_operation_runs_only_that_environment_release(
        action: str, github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """deploy/rollback ENV: no training job, the image build, then ENV's release job alone (the job bound to the
    environment ENV, so its approval), nothing after it; the result agrees with Dispatch.plan."""
    for pipeline, workflow in github_trees.values():
        jobs = workflow["jobs"]
        assert pipeline.dispatch is not None
        for release in pipeline.releases:
            env = release.env.name
            plan = pipeline.dispatch.plan(action, env)
            results = simulate(jobs, *_dispatch({"action": action, "environment": env, "version": "7"}))
            for job_id in GITHUB_TRAINING:
                assert (results[job_id] != "skipped") == plan.training, job_id
            for other in pipeline.releases:
                assert (results[f"deploy-{other.env.name}"] != "skipped") == (other.env.name in plan.releases)
            assert (results["post-deployment"] != "skipped") == plan.post_release
            deployed = {job_id for job_id in _running(results) if "environment" in jobs[job_id]}
            assert deployed == {f"deploy-{env}"}
            assert jobs[f"deploy-{env}"]["environment"]["name"] == env
            assert results["build-image"] == "success" and results["release"] == "skipped"
            # A failure of the release still rolls back and notifies, as on a push.
            failed = simulate(jobs, *_dispatch({"action": action, "environment": env, "version": "7"}),
                              frozenset({f"deploy-{env}"}))
            if f"rollback-{env}" in jobs:
                assert failed[f"rollback-{env}"] == "success"
            assert failed["notify-failure"] == "success"


def test_github_inputs_reach_steps_only_through_env(github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """The guard runs first, in the first job; no `run:` splices an input; every step reading one gets it from its
    env under the names of dispatch.py."""
    for _, workflow in github_trees.values():
        jobs = workflow["jobs"]
        first = next(iter(jobs.values()))
        guard = first["steps"][0]
        on = workflow.get("on", workflow.get(True))
        environments = tuple(on["workflow_dispatch"]["inputs"]["environment"]["options"][1:])
        assert guard["run"].strip() == guard_script(environments, "main", "GITHUB_REF").strip()
        assert guard["env"] == {item.variable: "${{ (inputs.action || 'train') }}" if item.name == "action"
                                else "${{ inputs." + item.name + " }}" for item in INPUTS}
        for job in jobs.values():
            for step in job.get("steps", []):
                assert "inputs." not in step.get("run", ""), step.get("name")
                if any(item.variable in step.get("run", "") for item in INPUTS):
                    assert set(step["env"]) >= {item.variable for item in INPUTS}


def _build_step(workflow: dict[str, Any], name: str) -> dict[str, Any]:
    (step,) = [step for step in workflow["jobs"]["build-image"]["steps"] if step["name"] == name]
    return step


def test_github_build_exports_the_requested_version(github_trees: dict[str, tuple[Any, dict[str, Any]]],
                                                    tmp_path: Path) -> None:
    """The image of a manual deploy carries version N; a rollback's, the version holding the environment's alias
    (export_model.py --alias, stubbed here); a push's, the version it registered (the registration artifact)."""
    for model, (pipeline, workflow) in github_trees.items():
        choose = _build_step(workflow, "Choose the model version of a manual run")
        download = _build_step(workflow, "Download the registration artifact")
        context = {"inputs": {"action": "deploy"}, "github": {"event_name": "workflow_dispatch"}}
        assert evaluate(choose["if"], context) is True and evaluate(download["if"], context) is False
        context = {"inputs": {}, "github": {"event_name": "push"}}
        assert evaluate(choose["if"], context) is False and evaluate(download["if"], context) is True
        assert pipeline.dispatch is not None
        for release in pipeline.releases:
            work = tmp_path / model / release.env.name
            work.mkdir(parents=True)
            result = run_step(choose["run"], work, "deploy", release.env.name, "12")
            assert result.returncode == 0, result.stderr
            assert json.loads((work / "model-version.json").read_text())["version"] == "12"
            (work / "model-version.json").unlink()
            result = run_step(choose["run"], work, "rollback", release.env.name, "")
            assert result.returncode == 0, result.stderr
            argv = (work / "python-argv").read_text().split("\n")
            assert argv[argv.index("--alias") + 1] == pipeline.dispatch.alias(release.env.name)
            assert argv[argv.index("--output") + 1] == "model-version.json"
            result = run_step(choose["run"], work, "deploy", release.env.name, "$(id)")
            assert result.returncode == REFUSED


def run_step(script: str, cwd: Path, action: str, environment: str, version: str) -> subprocess.CompletedProcess[str]:
    """A step's bash with the inputs in its env, `python` stubbed to record its arguments and `az` to answer."""
    stub = cwd / "bin"
    stub.mkdir(exist_ok=True)
    (stub / "python").write_text('#!/bin/sh\nprintf "%s\\n" "$@" > python-argv\n')
    (stub / "python").chmod(0o755)
    (stub / "az").write_text('#!/bin/sh\necho sub\n')  # the AzureCLI task's `az account show`
    (stub / "az").chmod(0o755)
    variables = dict(zip((item.variable for item in INPUTS), (action, environment, version), strict=True))
    env = {"PATH": f"{stub}:{os.environ.get('PATH', '/usr/bin:/bin')}", "AZURE_SUBSCRIPTION_ID": "sub",
           "GITHUB_REF": "refs/heads/main", "BUILD_SOURCEBRANCH": "refs/heads/main", **variables}
    assert BASH is not None
    return subprocess.run([BASH, "--noprofile", "--norc", "-euo", "pipefail", "-c", script], env=env, cwd=cwd,
                          capture_output=True, text=True, check=False, timeout=30)


# --- The Azure DevOps deployment pipeline: runtime parameters, which stages run, the version released ----------

DEPLOYMENT = "azure-pipelines/deployment.yml"


@pytest.fixture(scope="module")
def azure_trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, dict[str, Any]]]:
    return _rendered(tmp_path_factory.mktemp("dispatch-ado"), "azure_devops", DEPLOYMENT)


def _parameters(action: str, environment: str, version: str = NO_VERSION) -> dict[str, str]:
    return {"action": action, "environment": environment, "version": version}


def test_azure_parameters_come_from_the_model(azure_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """Runtime parameters need a default (a triggered run uses them): train, the first environment, and a version
    the guard refuses for a deploy."""
    for pipeline, document in azure_trees.values():
        parameters = {item["name"]: item for item in document["parameters"]}
        assert list(parameters) == [item.name for item in INPUTS]
        assert all(item["type"] == "string" for item in parameters.values())
        assert parameters["action"]["values"] == [action.name for action in ACTIONS]
        assert parameters["action"]["default"] == "train"
        assert parameters["environment"]["values"] == [NO_ENVIRONMENT,
                                                       *(release.env.name for release in pipeline.releases)]
        assert parameters["environment"]["default"] == NO_ENVIRONMENT  # in the values, as Azure requires
        assert run_guard("rollback", NO_ENVIRONMENT).returncode == REFUSED
        assert parameters["version"]["default"] == NO_VERSION
        assert "values" not in parameters["version"]
        assert run_guard("deploy", "prod", parameters["version"]["default"]).returncode == REFUSED


def _release_stage(document: dict[str, Any], env: str) -> dict[str, Any]:
    (stage,) = [stage for stage in document["stages"]
                if any(job.get("environment") == env for job in stage["jobs"])]
    return stage


def test_azure_triggered_run_releases_everywhere_in_order(
        azure_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """The default parameters (a run the training pipeline triggers) release to every environment in order, as
    before; a failed environment stops the ones after it."""
    for pipeline, document in azure_trees.values():
        defaults = {item["name"]: item["default"] for item in document["parameters"]}
        results = simulate_stages(document, defaults)
        assert set(results.values()) == {"Succeeded"}
        first = _release_stage(document, pipeline.releases[0].env.name)["stage"]
        results = simulate_stages(document, defaults, frozenset({first}))
        for release in pipeline.releases[1:]:
            assert results[_release_stage(document, release.env.name)["stage"]] == "Skipped"
        assert results["PostDeployment"] == "Skipped"
        results = simulate_stages(document, defaults, frozenset({"BuildContainer"}))
        assert {stage for stage, result in results.items() if result != "Skipped"} == {"BuildContainer"}


@pytest.mark.parametrize("action", ["deploy", "rollback"])
def test_azure_manual_operation_runs_only_that_environment_stage(
        action: str, azure_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """deploy/rollback ENV: the build stage, then only the stage whose deployment job is bound to the environment
    ENV (its approvals and checks), no post-deployment stage; in agreement with Dispatch.plan."""
    for pipeline, document in azure_trees.values():
        assert pipeline.dispatch is not None
        for release in pipeline.releases:
            env = release.env.name
            plan = pipeline.dispatch.plan(action, env)
            results = simulate_stages(document, _parameters(action, env, "7"))
            ran = {stage for stage, result in results.items() if result != "Skipped"}
            expected = {"BuildContainer"} | {_release_stage(document, name)["stage"] for name in plan.releases}
            assert ran == expected | ({"PostDeployment"} if plan.post_release else set())
            assert ran == {"BuildContainer", _release_stage(document, env)["stage"]}  # whatever plan says
            (job,) = _release_stage(document, env)["jobs"]
            assert "deployment" in job and job["environment"] == env
            assert simulate_stages(document, _parameters(action, env, "7"),
                                   frozenset({"BuildContainer"}))[_release_stage(document, env)["stage"]] == "Skipped"


def test_azure_build_releases_the_requested_version(azure_trees: dict[str, tuple[Any, dict[str, Any]]],
                                                    tmp_path: Path) -> None:
    """The guard is the build job's first step; the training run's version is taken for train only, the requested
    one (or the alias holder for a rollback) otherwise; the release stages read the version the build published."""
    for model, (pipeline, document) in azure_trees.items():
        build = document["stages"][0]
        assert build["stage"] == "BuildContainer"
        (job,) = build["jobs"]
        steps = job["steps"]
        assert steps[0]["displayName"] == "Check the inputs of a manual run"
        assert guard_script(pipeline.dispatch.environments, "main", "BUILD_SOURCEBRANCH").strip() in steps[0]["bash"]
        env = {item.variable: "${{ parameters." + item.name + " }}" for item in INPUTS}
        assert steps[0]["env"] == env
        by_name = {step.get("displayName"): step for step in steps}
        choose = by_name["Choose the model version of a manual run"]
        assert choose["env"] == env
        for name in ("Download the registered model version", "Take the version the training run registered"):
            step = by_name[name]
            for action in ("train", "deploy", "rollback"):
                variables = {"dispatchAction": action}
                assert evaluate_condition(step["condition"], variables) == (action == "train")
                assert evaluate_condition(choose["condition"], variables) == (action != "train")
        publish = by_name["Publish the model version to release"]
        assert publish["inputs"]["artifact"] == "release-version"
        script = choose["inputs"]["inlineScript"]
        for release in pipeline.releases:
            work = tmp_path / model / release.env.name
            work.mkdir(parents=True)
            assert run_step(script, work, "deploy", release.env.name, "12").returncode == 0
            assert json.loads((work / "outputs/release/model-version.json").read_text())["version"] == "12"
            assert run_step(script, work, "rollback", release.env.name, "none").returncode == 0
            argv = (work / "python-argv").read_text().split("\n")
            assert argv[argv.index("--alias") + 1] == pipeline.dispatch.alias(release.env.name)
            assert run_step(script, work, "deploy", release.env.name, "none").returncode == REFUSED
        for stage in document["stages"][1:]:  # every release stage reads the version the build published
            text = json.dumps(stage)
            assert "/training/" not in text and "- download: training" not in text, stage["stage"]
            assert "release-version/model-version.json" in text, stage["stage"]


def test_drift_retraining_dispatches_the_train_action() -> None:
    """The drift workflow's retraining names the train action: it never depends on the input's default."""
    root = Path(__file__).resolve().parent.parent / "generated"
    drift = sorted(root.glob("*/.github/workflows/drift-monitor.yml"))
    assert drift
    for path in drift:
        runs = [step["run"] for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values()
                for step in job.get("steps", []) if "gh workflow run ml-pipeline.yml" in step.get("run", "")]
        assert runs and all(run.rstrip().endswith(f"-f {INPUTS[0].name}={ACTIONS[0].name}") for run in runs), path


def test_plan_reads_the_cases_the_platforms_render() -> None:
    """Dispatch.plan, from the same cases the conditions are rendered from: train releases in order, a manual
    operation one named environment, and the guard's refusals are refusals here too."""
    dispatch = Dispatch(environments=ENVS, aliases=(("dev", "staging"), ("staging", "staging"), ("prod", "production")),
                        branch="main")
    for action in ("", "train"):
        assert dispatch.plan(action) == Plan(training=True, releases=ENVS, post_release=True)
    for action in ("deploy", "rollback"):
        for env in ENVS:
            assert dispatch.plan(action, env) == Plan(training=False, releases=(env,), post_release=False)
    for action, env in (("deploy", "production"), ("retrain", "prod"), ("rollback", "")):
        with pytest.raises(ValueError, match="guard refuses"):
            dispatch.plan(action, env)
    assert dispatch.alias("prod") == "production"


def test_a_rollback_acts_only_when_its_release_job_ran(github_trees: dict[str, tuple[Any, dict[str, Any]]]) -> None:
    """A job cancelled while pending (a newer run's job took its place in the concurrency group: "any existing
    pending job ... will be canceled", docs.github.com/en/actions/using-jobs/using-concurrency) has result
    'cancelled' like one cancelled mid-rollout, but ran nothing: its rollback job must leave the environment,
    maybe mid-release in another run, alone. The release job marks itself started (its endpoint description,
    uploaded whatever happens); the rollback acts only when that artifact is there."""
    checked = 0
    for _, workflow in github_trees.values():
        jobs = workflow["jobs"]
        for job_id, job in jobs.items():
            rollback_id = f"rollback-{job_id.removeprefix('deploy-')}"
            if not job_id.startswith("deploy-") or rollback_id not in jobs:
                continue
            names = [step["name"] for step in job["steps"]]
            marker = names.index("Mark this release as started")
            first_script = next(i for i, step in enumerate(job["steps"]) if "python src/" in step.get("run", ""))
            assert marker < first_script
            upload = job["steps"][names.index("Upload the endpoint description")]
            assert evaluate(upload["if"], {}, {"always": True, "cancelled": True, "success": False}) is True
            rollback = jobs[rollback_id]["steps"]
            (download,) = [step for step in rollback if step.get("id") == "started"]
            assert download["continue-on-error"] is True
            acting = [step for step in rollback if "python src/" in step.get("run", "")]
            assert acting
            for step in acting:
                for outcome, result, acts in (("success", "cancelled", True), ("failure", "cancelled", False),
                                              ("failure", "failure", True)):  # a failed job may have lost its runner
                    context = {"steps": {"started": {"outcome": outcome}}, "needs": {job_id: {"result": result}}}
                    assert evaluate(step["if"], context) is acts
            # The marker is the file the always-run upload sends.
            marker_step = job["steps"][marker]
            assert marker_step["env"]["ENDPOINT_FILE"] == upload["with"]["path"]
            assert upload["with"]["overwrite"] is True  # a re-run attempt replaces the first attempt's
            checked += 1
    assert checked
