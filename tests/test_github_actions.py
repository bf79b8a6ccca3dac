"""GitHub Actions target: every rendered workflow passes the referees with zero findings and keeps the standards
(pinned actions, least privilege, OIDC, no expressions in shell code) and the seed's job structure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen import pins
from mlops_gen.commands.generate import render_all
from mlops_gen.pipeline import build_pipeline
from mlops_gen.spec.model import ProjectSpec, fairness_enabled, metric_gates
from mlops_gen.spec.validate import load_specs
from mlops_gen.targets.github_actions import release_condition
from tests.conftest import CORPUS, ROOT, example_specs
from tests.gh_expressions import simulate
from tests.referees import assert_clean, run_tool, tool

TARGET = "github_actions"
YAMLLINT_CONFIG = ROOT / "tests" / "yamllint.yaml"
PIPELINE = ".github/workflows/ml-pipeline.yml"
DRIFT = ".github/workflows/drift-monitor.yml"


def github_specs() -> list[Path]:
    """Example specs that render GitHub Actions, plus the gha-* corpus (each rollout strategy, GitHub only)."""
    examples = [path for path in example_specs() if TARGET in load_specs([str(path)])[0].spec.platforms]
    return [*examples, *sorted(CORPUS.glob("gha-*.yaml"))]


SPEC_PATHS = github_specs()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[ProjectSpec, Path]]:
    """{spec file name: (spec, model folder)} with the GitHub workflows written to disk."""
    out = tmp_path_factory.mktemp("gha")
    trees = {}
    for path in SPEC_PATHS:
        [(spec_file, files)] = render_all([str(path)], [TARGET])
        folder = out / spec_file.spec.model.name
        for relative, file in files.items():
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.data)
        trees[path.name] = (spec_file.spec, folder)
    return trees


def workflow_files(rendered: dict[str, tuple[ProjectSpec, Path]]) -> list[str]:
    return sorted(str(p) for _, folder in rendered.values() for p in (folder / ".github/workflows").glob("*.yml"))


def load(folder: Path, relative: str = PIPELINE) -> dict[str, Any]:
    document = yaml.safe_load((folder / relative).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def triggers(document: dict[str, Any]) -> dict[str, Any]:
    on = document.get("on", document.get(True))  # PyYAML reads a bare `on` key as the boolean true
    assert isinstance(on, dict)
    return on


def steps_running(job: dict[str, Any], needle: str) -> list[str]:
    return [step["run"] for step in job["steps"] if needle in step.get("run", "")]


def uses_of(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


def test_the_corpus_covers_every_rollout_strategy() -> None:
    strategies = {load_specs([str(p)])[0].spec.rollout.strategy for p in SPEC_PATHS}
    assert strategies == {"canary", "blue_green", "rolling", "direct"}


# ----- referees: zero findings -----

@pytest.mark.referee
def test_workflows_match_the_github_workflow_schema(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    assert_clean(run_tool(["check-jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *workflow_files(rendered)]))


@pytest.mark.referee
def test_actionlint_with_shellcheck_is_clean(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    shellcheck = f"-shellcheck={tool('shellcheck')}"
    assert_clean(run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", shellcheck,
                           *workflow_files(rendered)]))


@pytest.mark.referee
def test_actionlint_really_runs_shellcheck_on_run_blocks(rendered: dict[str, tuple[ProjectSpec, Path]],
                                                         tmp_path: Path) -> None:
    """Control: a generated workflow (same `defaults.run.shell`) with one unquoted variable added is reported, so a
    clean result above means shellcheck ran on our run blocks rather than being silently skipped."""
    _, folder = rendered["customer-churn.yaml"]
    text = (folder / PIPELINE).read_text(encoding="utf-8")
    bad = tmp_path / "ml-pipeline.yml"
    bad.write_text(text.replace("    steps:\n", "    steps:\n      - run: echo $HOME\n", 1), encoding="utf-8")
    result = run_tool(["actionlint", "-oneline", "-no-color", "-pyflakes=", f"-shellcheck={tool('shellcheck')}",
                       str(bad)])
    assert result.returncode == 1, result.stdout + result.stderr
    assert "SC2086" in result.stdout and len(result.stdout.splitlines()) == 1, result.stdout


@pytest.mark.referee
def test_zizmor_offline_default_policy_has_no_findings(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    # --strict-collection: a workflow zizmor cannot parse fails instead of being skipped with a warning.
    folders = [str(folder) for _, folder in rendered.values()]
    result = run_tool(["zizmor", "--offline", "--no-progress", "--color", "never", "--strict-collection", *folders])
    assert_clean(result)
    assert "No findings to report" in result.stdout, result.stdout


@pytest.mark.referee
def test_yamllint_is_clean(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    assert_clean(run_tool(["yamllint", "-s", "-c", str(YAMLLINT_CONFIG), "-f", "parsable",
                           *workflow_files(rendered)]))


# ----- standards -----

USES = re.compile(r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+\.\d+\.\d+)$")


def test_every_action_is_pinned_to_a_known_sha_with_its_tag(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for path in workflow_files(rendered):
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if "uses:" not in line:
                continue
            match = USES.match(line)
            assert match, f"{path}: unpinned or uncommented action: {line.strip()}"
            action = match["action"]
            assert pins.ACTIONS.get(action) == (match["sha"], match["tag"]), f"{path}: {line.strip()}"


def test_no_expression_inside_shell_code(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for _, folder in rendered.values():
        for relative in (PIPELINE, DRIFT):
            if not (folder / relative).exists():
                continue
            for job_id, job in load(folder, relative)["jobs"].items():
                for step in job["steps"]:
                    assert "${{" not in step.get("run", ""), f"{folder.name} {job_id}: {step['run']}"


def test_least_privilege_timeouts_and_oidc(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for _, folder in rendered.values():
        for relative in (PIPELINE, DRIFT):
            if not (folder / relative).exists():
                continue
            document = load(folder, relative)
            assert document["permissions"] == {}
            assert document["env"]["MLOPS_BACKEND"] == "azure"
            assert "concurrency" in document
            for job_id, job in document["jobs"].items():
                where = f"{folder.name}/{relative} {job_id}"
                assert isinstance(job["timeout-minutes"], int) and 0 < job["timeout-minutes"] <= 360, where
                assert job["runs-on"] == "ubuntu-24.04", where  # a pinned image, not one that moves
                permissions = job["permissions"]
                logins = uses_of(job, "azure/login")
                assert (permissions.get("id-token") == "write") == bool(logins), where
                for login in logins:
                    assert set(login["with"]) == {"client-id", "tenant-id", "subscription-id"}, where
                    assert login["with"]["client-id"] == "${{ vars.AZURE_CLIENT_ID }}", where
                writes = {scope for scope, level in permissions.items() if level == "write"} - {"id-token"}
                expected = {"release": {"contents"}, "retrain": {"actions"}}.get(job_id, set())
                assert writes == expected, where
                for checkout in uses_of(job, "actions/checkout"):
                    assert checkout["with"]["persist-credentials"] is False, where
                text = (folder / relative).read_text(encoding="utf-8")
                assert "AZURE_CREDENTIALS" not in text and "creds:" not in text


def test_python_version_and_linters_follow_the_spec(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for spec, folder in rendered.values():
        jobs = load(folder)["jobs"]
        for job in jobs.values():
            for step in uses_of(job, "actions/setup-python"):
                assert step["with"]["python-version"] == spec.python_version
        quality = jobs["code-quality"]
        assert bool(steps_running(quality, "ruff check")) == ("ruff" in spec.ci.linters)
        assert bool(steps_running(quality, "mypy")) == ("mypy" in spec.ci.linters)
        [tests] = steps_running(quality, "pytest")
        assert f"--cov-fail-under={spec.ci.coverage_min} " in tests
        scans = spec.ci.security_scans
        scan_job = jobs.get("security-scan", {"steps": []})
        assert bool(steps_running(scan_job, "bandit")) == scans.bandit
        assert bool(steps_running(scan_job, "pip-audit")) == scans.dependency_audit
        trivy = uses_of(jobs["build-image"], "aquasecurity/trivy-action")
        assert bool(trivy) == scans.container_scan
        for step in trivy:
            assert step["with"]["version"] == pins.TRIVY_VERSION and step["with"]["exit-code"] == "1"


def test_triggers_follow_the_spec(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for spec, folder in rendered.values():
        on = triggers(load(folder))
        assert on["push"]["branches"] == spec.triggers.branches
        assert on["push"].get("paths", []) == spec.triggers.paths
        assert ("pull_request" in on) == spec.triggers.pull_requests
        if spec.triggers.pull_requests:
            assert on["pull_request"]["branches"] == spec.triggers.branches[:1]
        assert on.get("schedule") == ([{"cron": spec.triggers.schedule}] if spec.triggers.schedule else None)
        assert "workflow_dispatch" in on
        drift = folder / DRIFT
        assert drift.exists() == spec.monitoring.drift.enabled
        if drift.exists():
            assert triggers(load(folder, DRIFT))["schedule"] == [{"cron": spec.monitoring.drift.schedule}]


def test_gates_fairness_and_registration(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    for spec, folder in rendered.values():
        jobs = load(folder)["jobs"]
        [gates] = steps_running(jobs["validate-model"], "validate_metrics.py")
        lines = [line.strip().rstrip(" \\") for line in gates.splitlines()]
        for metric, bound in metric_gates(spec).items():
            for side, value in (("min", bound.min), ("max", bound.max)):
                if value is not None:
                    assert sum(line.startswith(f"--{side} {metric}=") for line in lines) == 1, gates
        fairness = steps_running(jobs["validate-model"], "fairness_assessment.py")
        assert bool(fairness) == fairness_enabled(spec)
        if fairness and spec.fairness is not None:
            for feature in spec.fairness.sensitive_features:
                assert f"--sensitive-feature {feature} \\" in fairness[0]
        assert bool(steps_running(jobs["validate-model"], "explainability_analysis.py")) == spec.explainability.enabled
        register = jobs["register-model"]
        branch = spec.triggers.branches[0]
        assert register["if"] == release_condition(branch)
        assert "github.event_name != 'pull_request'" in register["if"]
        [call] = steps_running(register, "register_model.py")
        for tag in ('"build_id=${GITHUB_RUN_ID}"', '"commit=${GITHUB_SHA}"', '"branch=${GITHUB_REF_NAME}"',
                    "spec_hash="):
            assert f"--tag {tag}" in call
        for key in spec.registry.tags:
            assert f"{key}=" in call
        assert not steps_running(register, "--alias")  # aliases move when a release completes


@pytest.mark.parametrize(("branch", "expected"), [
    ("main", "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"),
    ("release/*", "github.event_name != 'pull_request' && startsWith(github.ref, 'refs/heads/release/')"),
    ("*", "github.event_name != 'pull_request'"),
])
def test_registration_runs_on_the_release_branch_only(branch: str, expected: str) -> None:
    assert release_condition(branch) == expected


def _deploy_jobs(jobs: dict[str, Any], env: str) -> list[str]:
    return [job_id for job_id, job in jobs.items()
            if isinstance(job.get("environment"), dict) and job["environment"]["name"] == env]


def _position(steps: list[dict[str, Any]], needle: str) -> list[int]:
    return [index for index, step in enumerate(steps) if needle in step.get("run", "")]


def test_environments_deploy_in_order_with_the_spec_strategy(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """One job per environment (one approval per release), bound to its environment, in spec order; inside it the
    model's steps in the model's order; promotion only after every test of what it promotes; the rollback inside
    the job on failure, and again from a job without environment (no approval) when the job failed or was
    cancelled."""
    for spec, folder in rendered.values():
        jobs = load(folder)["jobs"]
        pipeline = build_pipeline(spec)
        previous = "build-image"
        for release in pipeline.releases:
            env = release.env
            where = f"{folder.name} {env.name}"
            (job_id,) = _deploy_jobs(jobs, env.name)
            job = jobs[job_id]
            assert job["concurrency"]["cancel-in-progress"] is False, where
            assert job["needs"][0] == previous, f"{where}: {job_id} needs {job['needs']}, not {previous} first"
            assert "build-image" in job["needs"], f"{where}: the image digest comes from build-image's outputs"
            previous = job_id
            steps = job["steps"]
            # The model's success path, step for step: each step's command names its script or the tests.
            model_steps = [step for step in release.steps()]
            runs = [step.get("run", "") for step in steps if "if" not in step and step.get("run")]
            ran = [run for run in runs if ("python " in run or "bash " in run) and "pip install" not in run]
            assert len(ran) == len(model_steps), f"{where}: {len(ran)} commands, the model has {len(model_steps)}"
            for run, step in zip(ran, model_steps, strict=True):
                needle = {"-m pytest": "python -m pytest tests/endpoint", "extension": step.path}.get(step.script,
                                                                                                    step.script)
                assert needle in run, f"{where}: {step.id} expected {needle!r}, found {run.splitlines()[0]!r}"
            tests = _position(steps, "tests/smoke_test.py") + _position(steps, "python -m pytest tests/endpoint")
            promotions = _position(steps, "src/deployment/promote.py") + _position(steps, "promote_model.py")
            assert tests and all(max(tests) < index for index in promotions), f"{where}: promotion before a test"
            if release.strategy == "canary":
                deploys = [steps[i]["run"] for i in _position(steps, "src/deployment/deploy.py")]
                for deploy, percentage in zip(deploys, spec.rollout.increments, strict=True):
                    assert f"--traffic-percentage {percentage} \\" in deploy, where
                assert len(_position(steps, "monitor_deployment.py")) == len(spec.rollout.increments), where
            if release.strategy == "blue_green":
                idle = next(steps[i]["run"] for i in _position(steps, "tests/smoke_test.py"))
                assert f"--deployment-name {env.candidate_deployment}" in idle, where
            if release.strategy in ("canary", "blue_green", "rolling"):
                assert _position(steps, "monitor_deployment.py"), where
            immediate = [step for step in steps if "rollback.py" in step.get("run", "")]
            rollback = jobs.get(f"rollback-{env.name}")
            if spec.rollout.auto_rollback:
                assert [step["if"] for step in immediate] == ["${{ failure() }}"], where
                assert immediate and steps.index(immediate[0]) > max(tests + promotions), where
                assert rollback is not None and "environment" not in rollback, where
                assert rollback["needs"] == job_id and "'cancelled'" in rollback["if"], where
                assert rollback["if"].startswith("always()"), where
                assert steps_running(rollback, "rollback.py"), where
            else:
                assert not immediate and rollback is None, where
        assert jobs["post-deployment"]["needs"] == previous
        assert jobs["release"]["needs"] == "post-deployment"
        assert steps_running(jobs["release"], "gh release create")


def test_a_waiting_release_never_holds_back_training(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """Workflow-level concurrency groups only pull request runs per ref; other runs get a group of their own (the
    run id), so a release waiting for approval neither blocks a newer run's training nor gets cancelled by it."""
    for _, folder in rendered.values():
        concurrency = load(folder)["concurrency"]
        assert "github.event_name == 'pull_request' && github.ref || github.run_id" in concurrency["group"]
        assert concurrency["cancel-in-progress"] == "${{ github.event_name == 'pull_request' }}"


def test_aci_deploy_steps_get_the_pull_identity_from_a_variable(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """aci_target.py pulls the image with the identity ACI_ACR_IDENTITY names: each ACI deploy step sets it from
    the repository or environment variable, and no other deploy step carries it."""
    seen = 0
    for spec, folder in rendered.values():
        jobs = load(folder)["jobs"]
        for env in spec.environments:
            for job_id in _deploy_jobs(jobs, env.name):
                deploys = [step for step in jobs[job_id]["steps"] if "deploy.py" in step.get("run", "")
                           and "src/deployment/deploy.py" in step["run"]]
                for step in deploys:
                    identity = step.get("env", {}).get("ACI_ACR_IDENTITY")
                    if env.target == "aci":
                        seen += 1
                        assert identity == "${{ vars.ACI_ACR_IDENTITY }}", f"{folder.name} {job_id}"
                    else:
                        assert identity is None, f"{folder.name} {job_id}"
    assert seen, "no spec of the corpus deploys to ACI on GitHub"


def test_extension_steps_render_at_their_places(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    _, folder = rendered["gha-canary.yaml"]
    jobs = load(folder)["jobs"]

    def names(job_id: str) -> list[str]:
        return [step.get("name", "") for step in jobs[job_id]["steps"]]

    train = names("train")
    assert train.index("Refresh features") < train.index("Submit the training job")
    assert train.index("Log the training run") > train.index("Collect the training metrics")
    assert "Compliance check: PII" in names("validate-model")
    assert "Load test" in names("deploy-staging")
    production = names("deploy-prod-eu")
    # Your production checks run at full traffic, before the promotion they guard.
    assert production.index("Announce") < next(i for i, name in enumerate(production) if name.startswith("Promote"))
    assert steps_running(jobs["train"], "bash scripts/refresh_features.sh")


def test_rendering_is_deterministic(tmp_path: Path) -> None:
    """Same bytes in-process twice and in a fresh interpreter with another hash seed."""
    paths = [str(p) for p in SPEC_PATHS]

    def workflows() -> dict[str, dict[str, bytes]]:
        return {spec_file.spec.model.name: {path: file.data for path, file in files.items()
                                            if path.startswith(".github/workflows/")}
                for spec_file, files in render_all(paths, [TARGET])}

    first, second = workflows(), workflows()
    assert first == second
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-m", "mlops_gen", "generate", *paths, "-o", str(tmp_path), "--target", TARGET],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    for model, files in first.items():
        for relative, data in files.items():
            assert (tmp_path / model / relative).read_bytes() == data, f"{model}/{relative}"


def test_only_a_drift_result_starts_retraining(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """detect_drift.py exits 0 for drift and for no drift (the report's "result" says which) and non-zero only
    when the check could not run: retraining and the drift notification follow the result, never a failure."""
    seen = 0
    for spec, folder in rendered.values():
        path = folder / ".github" / "workflows" / "drift-monitor.yml"
        if not spec.monitoring.drift.enabled:
            assert not path.exists()
            continue
        seen += 1
        jobs = yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
        detect = jobs["detect-drift"]
        assert detect["outputs"] == {"result": "${{ steps.result.outputs.result }}"}
        names = [step.get("id") for step in detect["steps"]]
        runs = [step.get("run", "") for step in detect["steps"]]
        reads = names.index("result")
        assert "jq --raw-output .result drift-report.json" in runs[reads]
        assert any("detect_drift.py" in run for run in runs[:reads])
        for job_id in ("retrain", "notify"):
            assert jobs[job_id]["if"] == "needs.detect-drift.outputs.result == 'drift'", job_id
            assert "failure()" not in jobs[job_id]["if"]
    assert seen


# Steps that can outlive a GitHub OIDC login: `az login --federated-token` cannot renew the short-lived token, so a
# later Azure call fails with AADSTS700024 (azure/login docs; Azure/login#180, #372). azure/login requests a new one.
LONG_RUNNING = ("src/deployment/deploy.py", "src/deployment/monitor_deployment.py",
                "src/training/wait_for_completion.py")


def test_every_azure_step_after_a_long_one_logs_in_again(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """Walking each job's steps (independently of the planner): after a deployment, an observation window or the
    training wait, the next step that calls Azure (any python script but the notification) follows a fresh
    azure/login, under the same condition (a rollback after a failure logs in under `failure()` too)."""
    checked = 0
    for _, folder in rendered.values():
        for job_id, job in load(folder)["jobs"].items():
            stale = False
            login_condition: object = "none"
            for step in job["steps"]:
                uses = step.get("uses", "")
                run = step.get("run", "")
                if uses.startswith("azure/login@"):
                    stale, login_condition = False, step.get("if")
                    continue
                if "python " in run and "send_notification.py" not in run and "pip install" not in run:
                    if stale:
                        raise AssertionError(f"{folder.name} {job_id}: {step['name']!r} runs on a stale login")
                    if login_condition not in ("none", None):
                        assert step.get("if") == login_condition, f"{job_id}: {step['name']}"
                        checked += 1
                stale = stale or any(script in run for script in LONG_RUNNING)
    assert checked, "no rollback after a fresh login under failure(): the walk checked nothing conditional"


def test_release_jobs_deploy_the_pushed_image_by_digest(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """A tag can be pushed again (a re-run, a retrain of the same commit); a digest cannot. The build job outputs
    the digest of what it pushed (`docker image inspect` lists RepoDigests once the image is pushed), and every
    deploy.py call of a release job reads it from `needs.build-image.outputs` (only direct `needs` are visible:
    docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/accessing-contextual-information
    #needs-context)."""
    for _, folder in rendered.values():
        jobs = load(folder)["jobs"]
        build = jobs["build-image"]
        assert build["outputs"]["image"] == "${{ steps.push.outputs.image }}"
        (push,) = [step for step in build["steps"] if step.get("id") == "push"]
        assert "RepoDigests" in push["run"] and '"${GITHUB_OUTPUT}"' in push["run"]
        deploys = [(job_id, job) for job_id, job in jobs.items() if steps_running(job, "src/deployment/deploy.py")]
        assert deploys
        for job_id, job in deploys:
            assert job["env"]["IMAGE_REFERENCE"] == "${{ needs.build-image.outputs.image }}", job_id
            assert "build-image" in job["needs"], job_id
            for run in steps_running(job, "src/deployment/deploy.py"):
                assert '--image "${IMAGE_REFERENCE}"' in run, job_id


def test_pull_requests_never_log_in_to_azure(rendered: dict[str, tuple[ProjectSpec, Path]]) -> None:
    """Issue 12 item 10: a pull request would train in the workspace with the pipeline's identity. No job that
    logs in to Azure starts for a pull_request event, whichever job of it fails: the job conditions are evaluated
    (tests/gh_expressions.py, GitHub's documented semantics), a manual run's inputs are empty there."""
    for _, folder in rendered.values():
        jobs = load(folder)["jobs"]
        azure = {job_id for job_id, job in jobs.items()
                 if any(str(step.get("uses", "")).startswith("azure/login@") for step in job.get("steps", []))}
        assert azure
        for failing in [frozenset()] + [frozenset({job_id}) for job_id in jobs]:
            results = simulate(jobs, {"event_name": "pull_request", "ref": "refs/pull/1/merge"}, {}, failing)
            started = sorted(job_id for job_id in azure if results[job_id] != "skipped")
            assert not started, f"{folder.name}: {started} log in to Azure on pull requests (failing: {failing})"
