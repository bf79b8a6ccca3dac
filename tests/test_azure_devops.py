"""The Azure DevOps pipelines: structure from the spec, referee-clean, safe variable use, deterministic output.

Rendered for every example spec and the azure-* corpus specs (each rollout strategy, Azure-only and both
platforms). Referee note: the vendored Azure Pipelines schema is Microsoft's service schema, which types numbers
and booleans outside task inputs as strings; Azure reads every YAML scalar as a string and documents `boolean` as
the strings true/false/yes/... and `timeoutInMinutes`/`increments` as strings, so the templates quote those values
(`timeoutInMinutes: "60"`, `increments: ["10", ...]`, `always: "true"`) and keep native types inside task
`inputs`, where the schema types them per task. No schema finding is suppressed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.commands.generate import render_all
from mlops_gen.pipeline import build_pipeline
from mlops_gen.spec.model import ProjectSpec, metric_gates
from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, ROOT, example_specs
from tests.pipeline_calls import WHAT, hook_commands
from tests.pipeline_calls import azure_scripts as _scripts
from tests.pipeline_calls import mappings as _walk
from tests.referees import assert_clean, run_tool, tool

TARGETS = ("azure_devops",)
AZURE_SPECS = [path for path in example_specs() if "azure_devops" in load_specs([str(path)])[0].spec.platforms]
CORPUS_SPECS = sorted(CORPUS.glob("azure-*.yaml"))
ALL_SPECS = AZURE_SPECS + CORPUS_SPECS
FILES = ("azure-pipelines/training.yml", "azure-pipelines/deployment.yml")
YAMLLINT_CONFIG = ROOT / "tests" / "yamllint.yaml"

# `$(name)` macros: Azure expands them textually before a step runs.
MACRO = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
# Predefined variable namespaces a pipeline may reference without defining them.
PREDEFINED = ("Build.", "System.", "Agent.", "Pipeline.", "Environment.", "strategy.")
# Predefined values a pusher or pull-request author controls: never as macro text inside a script.
USER_CONTROLLED = ("Build.SourceBranch", "Build.SourceBranchName", "Build.SourceVersionMessage",
                   "Build.RequestedFor", "Build.RequestedForEmail", "Build.SourceVersionAuthor",
                   "System.PullRequest.SourceBranch", "System.PullRequest.TargetBranch",
                   "System.PullRequest.SourceRepositoryURI", "Build.Repository.Name")


def _spec(path: Path) -> ProjectSpec:
    return load_specs([str(path)])[0].spec


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Path]:
    """{spec path: model folder} for every spec that lists azure_devops."""
    out = tmp_path_factory.mktemp("azure")
    for spec_file, files in render_all([str(p) for p in ALL_SPECS], TARGETS):
        for relative, file in files.items():
            target = out / spec_file.spec.model.name / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.data)
    return {path: out / _spec(path).model.name for path in ALL_SPECS}


def _pipeline_files(rendered: dict[Path, Path]) -> list[Path]:
    files = sorted(path for folder in rendered.values() for path in (folder / "azure-pipelines").glob("*.yml"))
    assert len(files) >= len(rendered) * len(FILES)
    return files


def _load(folder: Path, name: str) -> dict[str, Any]:
    data = yaml.safe_load((folder / "azure-pipelines" / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for item in node for text in _strings(item)]
    return []


def _on(strategy: dict[Any, Any]) -> dict[str, Any]:
    """The `on:` hook: YAML 1.1 loaders (PyYAML) read that key as the boolean true; Azure reads it as 'on'."""
    hook = strategy["on"] if "on" in strategy else strategy[True]
    assert isinstance(hook, dict)
    return hook


def _stage(document: dict[str, Any], name: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [stage for stage in document["stages"] if stage["stage"] == name]
    assert len(matches) == 1, f"stage {name} not found once"
    return matches[0]


def _step_with(stage: dict[str, Any], needle: str) -> str:
    bodies = [body for body in _scripts(stage) if needle in body]
    assert len(bodies) == 1, f"{needle!r} is in {len(bodies)} scripts of {stage.get('stage', 'a hook')}"
    return bodies[0]


# ----- referees -----

def test_azure_schema_accepts_every_pipeline(rendered: dict[Path, Path]) -> None:
    files = [str(path) for path in _pipeline_files(rendered)]
    assert_clean(run_tool(["check-jsonschema", "--builtin-schema", "vendor.azure-pipelines",
                           "--regex-variant", "nonunicode", *files]))


def test_yamllint_finds_nothing(rendered: dict[Path, Path]) -> None:
    files = [str(path) for path in _pipeline_files(rendered)]
    assert_clean(run_tool(["yamllint", "--strict", "-c", str(YAMLLINT_CONFIG), "-f", "parsable", *files]))


def test_shellcheck_finds_nothing_in_any_script(rendered: dict[Path, Path]) -> None:
    shellcheck = tool("shellcheck")
    problems = []
    for path in _pipeline_files(rendered):
        for body in _scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            # Azure replaces macros before bash runs; a plain word stands in for the value.
            text = "#!/bin/bash\n" + MACRO.sub(lambda m: "MACRO_" + m.group(1).replace(".", "_"), body)
            result = subprocess.run([shellcheck, "--shell=bash", "-"], input=text, capture_output=True, text=True,
                                    check=False)
            if result.returncode:
                problems.append(f"{path}:\n{result.stdout}")
    assert not problems, "\n".join(problems)


# ----- safety -----

def test_every_script_is_strict_bash(rendered: dict[Path, Path]) -> None:
    for path in _pipeline_files(rendered):
        for body in _scripts(yaml.safe_load(path.read_text(encoding="utf-8"))):
            assert body.startswith("set -euo pipefail\n"), f"{path}: {body[:80]!r}"


def test_every_macro_is_defined(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        for name in [path.stem for path in sorted((folder / "azure-pipelines").glob("*.yml"))]:
            document = _load(folder, name)
            defined = set(document["variables"])
            # The webhook is a secret variable: set in the pipeline settings, never in YAML.
            secrets = {spec.notifications.webhook_secret} if spec.notifications.channel != "none" else set()
            for key in defined:
                assert re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", key), f"variable {key!r} cannot expand"
            texts = _strings({key: value for key, value in document.items() if key != "name"})
            for text in texts:
                for used in MACRO.findall(text):
                    assert used in defined or used in secrets or used.startswith(PREDEFINED), \
                        f"{folder.name}/{name}.yml uses undefined $({used})"
            # The run name uses the date and revision counters only.
            assert not MACRO.findall(document["name"])
            assert "$(Date:yyyyMMdd)" in document["name"] and "$(Rev:r)" in document["name"]


def test_no_predefined_macro_inside_scripts(rendered: dict[Path, Path]) -> None:
    """Scripts read predefined values from the environment ("${BUILD_SOURCEBRANCHNAME}"): a branch name or
    commit message pasted in as macro text would become shell code."""
    for path in _pipeline_files(rendered):
        text = path.read_text(encoding="utf-8")
        for name in USER_CONTROLLED:
            assert f"$({name})" not in text, f"{path} pastes $({name})"
        for body in _scripts(yaml.safe_load(text)):
            for used in MACRO.findall(body):
                assert not used.startswith(("Build.", "System.", "Agent.", "Pipeline.")), \
                    f"{path}: $({used}) inside a script; read ${used.upper().replace('.', '_')} instead"


# ----- structure -----

def test_training_pipeline_structure(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        training = _load(folder, "training")
        assert [stage["stage"] for stage in training["stages"]] == \
            ["CodeQuality", "DataValidation", "ModelTraining", "ModelValidation", "ModelRegistration"]
        quality = _stage(training, "CodeQuality")
        assert f"--cov-fail-under={spec.ci.coverage_min}" in _step_with(quality, "pytest tests/unit")
        scans = spec.ci.security_scans
        assert len([body for body in _scripts(quality) if "pip-audit --strict" in body]) == scans.dependency_audit
        assert len([body for body in _scripts(quality) if "bandit --recursive" in body]) == scans.bandit
        assert training["trigger"]["branches"]["include"] == spec.triggers.branches
        if spec.triggers.paths:
            assert training["trigger"]["paths"]["include"] == spec.triggers.paths
        else:
            assert "paths" not in training["trigger"]
        if spec.triggers.pull_requests:
            assert training["pr"]["branches"]["include"] == [spec.triggers.branches[0]]
        else:
            assert training["pr"] == "none"
        if spec.triggers.schedule:
            assert training["schedules"][0]["cron"] == spec.triggers.schedule
            assert training["schedules"][0]["branches"]["include"] == [spec.triggers.branches[0]]
        else:
            assert "schedules" not in training
        variables = training["variables"]
        assert variables["azureSubscription"] == spec.azure.service_connection
        assert variables["MLOPS_BACKEND"] == "azure"
        assert "$(Date:yyyyMMdd)" in training["name"] and "$(Rev:r)" in training["name"]


def test_metric_gates_one_line_each(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        body = _step_with(_stage(_load(folder, "training"), "ModelValidation"), "validate_metrics.py")
        lines = [line.strip().rstrip("\\").strip() for line in body.splitlines()]
        expected = []
        for metric, bound in metric_gates(spec).items():
            for side, value in (("min", bound.min), ("max", bound.max)):
                if value is not None:
                    expected.append(f"--{side} {metric}={value:g}")
        gate_lines = [line for line in lines if line.startswith(("--min ", "--max "))]
        assert gate_lines == expected


def test_fairness_and_explainability_follow_the_spec(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        validation = _stage(_load(folder, "training"), "ModelValidation")
        fairness = [body for body in _scripts(validation) if "fairness_assessment.py" in body]
        if spec.fairness and spec.fairness.enabled:
            (body,) = fairness
            features = re.findall(r"--sensitive-feature (\S+)", body)
            assert features == spec.fairness.sensitive_features
            assert f"--threshold {spec.fairness.threshold:g}" in body
        else:
            assert not fairness
        explain = [body for body in _scripts(validation) if "explainability_analysis.py" in body]
        assert len(explain) == (1 if spec.explainability.enabled else 0)
        champion = [body for body in _scripts(validation) if "champion_challenger.py" in body]
        assert len(champion) == (1 if spec.champion_challenger.enabled else 0)
        publish = [step for step in validation["jobs"][0]["steps"] if step.get("task") == "PublishTestResults@2"]
        assert publish and all(step["inputs"]["failTaskOnFailedTests"] is True for step in publish)


def test_registration_only_on_the_release_branch(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        training = _load(folder, "training")
        registration = _stage(training, "ModelRegistration")
        condition = registration["condition"]
        assert "ne(variables['Build.Reason'], 'PullRequest')" in condition
        branch = spec.triggers.branches[0]
        if branch.split("*")[0]:
            assert training["variables"]["releaseBranchRef"] == "refs/heads/" + branch.split("*")[0]
            assert "variables['releaseBranchRef']" in condition
        body = _step_with(registration, "register_model.py")
        for tag in ('"build_id=${BUILD_BUILDID}"', '"build_number=${BUILD_BUILDNUMBER}"',
                    '"branch=${BUILD_SOURCEBRANCHNAME}"', '"commit=${BUILD_SOURCEVERSION}"', "spec_hash="):
            assert f"--tag {tag}" in body
        for key, value in spec.registry.tags.items():
            assert f"{key}={value}" in body
        assert f"--keep {spec.registry.keep_versions}" in _step_with(registration, "archive_versions.py")
        # The staging alias moves when a pre-production release completes, not at registration.
        assert "promote_model.py" not in "\n".join(_scripts(registration))
        artifacts = [step["inputs"]["artifact"] for step in registration["jobs"][0]["steps"]
                     if step.get("task") == "PublishPipelineArtifact@1"]
        assert artifacts == ["registered-model", "model-card"]


def _model_commands(steps: Any) -> list[tuple[str, dict[str, str]]]:
    out = []
    for step in steps:
        command = {"-m pytest": "python -m pytest tests/endpoint"}.get(step.script, f"python {step.script}")
        if step.script == "extension":
            command = f"{'bash' if step.path.endswith('.sh') else 'python'} {step.path}"
        out.append((command, {flag: str(value) for flag, value in step.flags if flag in WHAT}))
    return out


def test_deployment_pipeline_runs_the_model_in_the_model_order(rendered: dict[Path, Path]) -> None:
    """Azure runs a deployment job's hooks in a fixed order (preDeploy, then deploy, routeTraffic and
    postRouteTraffic, once or per canary increment, then on.success, or on.failure when a hook failed:
    learn.microsoft.com/azure/devops/pipelines/process/deployment-jobs). Flattened in that order, each
    environment's job runs exactly the model's success path, step for step with what each step acts on, and
    on.failure exactly the model's rollback."""
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        deployment = _load(folder, "deployment")
        assert deployment["trigger"] == "none" and deployment["pr"] == "none"
        (resource,) = deployment["resources"]["pipelines"]
        assert resource["source"] == f"{spec.model.name}-training"
        assert resource["trigger"]["branches"]["include"] == [spec.triggers.branches[0]]
        pipeline = build_pipeline(spec)
        stages = [stage["stage"] for stage in deployment["stages"]]
        assert stages == ["BuildContainer", *[f"DeployTo{r.env.ident}" for r in pipeline.releases], "PostDeployment"]
        for release in pipeline.releases:
            view, where = release.env, f"{folder.name} {release.env.name}"
            stage = _stage(deployment, f"DeployTo{view.ident}")
            # The build stage too: its result is in the condition that lets a manual run release one environment.
            assert stage["dependsOn"] == ["BuildContainer", *([f"DeployTo{view.previous}"] if view.previous else [])]
            (job,) = stage["jobs"]  # one deployment job: one approval of the environment per release
            assert job["deployment"] == f"Deploy{view.ident}" and job["environment"] == view.name
            (kind,) = job["strategy"]
            strategy = job["strategy"][kind]
            assert kind == ("canary" if release.strategy == "canary" else "runOnce"), where
            ran = hook_commands(strategy["preDeploy"]) if "preDeploy" in strategy else []
            rounds = strategy["increments"] if kind == "canary" else [None]
            if kind == "canary":
                assert rounds == [str(phase.traffic) for phase in release.phase("increment")], where
            for increment in rounds:
                for hook in ("deploy", "routeTraffic", "postRouteTraffic"):
                    if hook in strategy:
                        ran += hook_commands(strategy[hook], increment)
            success = _on(strategy)["success"]
            ran += hook_commands(success)
            expected = _model_commands([*release.steps(), *release.rollback])
            assert ran == expected, f"{where}:\n  ran      {ran}\n  expected {expected}"
            conditions = [step.get("condition") for step in success["steps"]
                          if "rollback.py" in step.get("inputs", {}).get("inlineScript", "")]
            assert conditions == (["failed()"] if spec.rollout.auto_rollback else []), where
            assert hook_commands(_on(strategy)["failure"]) == _model_commands(release.rollback), where


def test_promotion_follows_every_test_of_what_it_promotes(rendered: dict[Path, Path]) -> None:
    """In execution order, no promotion (promote.py, promote_model.py) precedes a test; independent of the model,
    so a model that put promotion first fails here too."""
    for _, folder in rendered.items():
        deployment = _load(folder, "deployment")
        for stage in deployment["stages"]:
            for job in stage["jobs"]:
                if "strategy" not in job:
                    continue
                (strategy,) = job["strategy"].values()
                commands = [command for hook in ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")
                            if hook in strategy for command, _ in hook_commands(strategy[hook], "100")]
                commands += [command for command, _ in hook_commands(_on(strategy)["success"])]
                tests = [i for i, c in enumerate(commands) if "smoke_test.py" in c or "pytest" in c]
                promotions = [i for i, c in enumerate(commands) if "promote" in c]
                assert tests, stage["stage"]
                assert all(max(tests) < i for i in promotions), f"{folder.name} {stage['stage']}: {commands}"


def test_drift_monitor_follows_the_spec(rendered: dict[Path, Path]) -> None:
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        drift = spec.monitoring.drift
        path = folder / "azure-pipelines" / "drift-monitor.yml"
        assert path.exists() == drift.enabled
        if not drift.enabled:
            continue
        document = _load(folder, "drift-monitor")
        assert document["trigger"] == "none" and document["schedules"][0]["cron"] == drift.schedule
        body = _step_with(_stage(document, "DriftCheck"), "detect_drift.py")
        assert f"--method {drift.method}" in body and f"--threshold {drift.threshold:g}" in body
        # Only the check's result "drift" retrains: the condition reads the output variable the check's step
        # (named `drift`) sets, in the stage-dependency form Azure documents for stage conditions
        # (learn.microsoft.com/azure/devops/pipelines/process/conditions); a failed check starts nothing.
        (job,) = _stage(document, "DriftCheck")["jobs"]
        (step,) = [step for step in job["steps"] if step.get("name") == "drift"]
        script = step["inputs"]["inlineScript"]
        assert "##vso[task.setvariable variable=result;isOutput=true]" in script
        assert script.index("detect_drift.py") < script.index("task.setvariable")
        retrain = _stage(document, "Retrain")
        assert retrain["condition"] == (f"and(succeeded(), eq(dependencies.DriftCheck.outputs"
                                        f"['{job['job']}.drift.result'], 'drift'))")
        assert "az pipelines run --name '$(trainingPipeline)'" in _step_with(retrain, "az pipelines run")
        assert document["variables"]["trainingPipeline"] == f"{spec.model.name}-training"


def test_jobs_pin_the_image_and_set_timeouts(rendered: dict[Path, Path]) -> None:
    for path in _pipeline_files(rendered):
        for stage in yaml.safe_load(path.read_text(encoding="utf-8"))["stages"]:
            for job in stage["jobs"]:
                assert job["pool"] == {"vmImage": "ubuntu-24.04"}
                assert re.fullmatch(r"[1-9][0-9]*", job["timeoutInMinutes"])


def test_azure_cli_uses_the_service_connection_variable(rendered: dict[Path, Path]) -> None:
    """Every Azure CLI task logs in through the pipeline's service connection variable, but in the deployment job of
    an environment with a service connection of its own, which is spelled out: Azure DevOps authorizes a task's
    connection when it compiles the run, so a job- or stage-level variable there fails it
    (github.com/microsoft/azure-pipelines-tasks/issues/12036)."""
    own_connections = 0
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        connections = {env.name: env.azure.service_connection for env in spec.environments}
        # the drift check runs with the watched environment's identity when it reads what that one collected
        drift = {step.served_in for step in build_pipeline(spec).drift}
        watched = connections.get(next(iter(drift), ""))
        for path in sorted((folder / "azure-pipelines").glob("*.yml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            owned = {id(task): connections.get(job["environment"]) for job in _walk(document) if "deployment" in job
                     for task in _walk(job) if task.get("task") == "AzureCLI@2"}
            owned |= {id(task): watched for task in _walk(document) if task.get("name") == "drift"}
            for node in _walk(document):
                if node.get("task") == "AzureCLI@2":
                    own = owned.get(id(node))
                    assert node["inputs"]["azureSubscription"] == (own or "$(azureSubscription)"), path
                    assert node["inputs"]["scriptType"] == "bash"
                    own_connections += own is not None
    assert own_connections, "the corpus has an environment with a service connection of its own"


def test_extension_steps_at_their_places(rendered: dict[Path, Path]) -> None:
    spec_path = CORPUS / "azure-canary.yaml"
    spec = _spec(spec_path)
    folder = rendered[spec_path]
    training, deployment = _load(folder, "training"), _load(folder, "deployment")

    def order(stage: dict[str, Any]) -> list[str]:
        return [step.get("displayName", "") for job in stage["jobs"] for step in job["steps"]]

    steps = order(_stage(training, "ModelTraining"))
    assert steps.index("Refresh features") < steps.index("Submit the training job")
    assert steps.index("Collect the training metrics") < steps.index("Log lineage")
    steps = order(_stage(training, "ModelValidation"))
    # Your after_validation steps run after every gate (the model's order).
    gates = [i for i, name in enumerate(steps) if name.startswith(("Metric gates", "Champion", "Fairness", "Explain"))]
    assert gates and max(gates) < steps.index("Bias review ticket")
    staging = _on(_stage(deployment, "DeployToStaging")["jobs"][0]["strategy"]["runOnce"])["success"]["steps"]
    names = [step.get("displayName", "") for step in staging]
    assert (names.index("Publish endpoint tests on staging (tests)") < names.index("Load test")
            < names.index("Contract test"))
    # Your production checks run at full traffic, before the promotion they guard.
    production = _on(_stage(deployment, "DeployToProduction")["jobs"][0]["strategy"]["canary"])["success"]["steps"]
    names = [step.get("displayName", "") for step in production]
    assert names.index("Update status page") < next(i for i, name in enumerate(names) if name.startswith("Promote"))
    assert "Update status page" not in order(_stage(deployment, "PostDeployment"))
    scripts = "\n".join(_scripts(training) + _scripts(deployment))
    for point, entries in spec.extensions:
        for entry in entries:
            runner = "bash" if entry.script.endswith(".sh") else "python"
            assert f"{runner} {entry.script}" in scripts, point


# ----- platform subsets and determinism -----

def test_only_listed_platforms_are_rendered(tmp_path: Path) -> None:
    github_only = [path for path in example_specs() if "azure_devops" not in _spec(path).platforms]
    assert github_only, "an example spec without azure_devops keeps this test meaningful"
    for _, files in render_all([str(p) for p in github_only], TARGETS):
        assert not [path for path, file in files.items() if file.target == "azure_devops"]


def test_rendering_is_deterministic() -> None:
    def render() -> dict[str, dict[str, bytes]]:
        return {spec.spec.model.name: {path: file.data for path, file in files.items()}
                for spec, files in render_all([str(p) for p in ALL_SPECS], TARGETS)}

    first, second = render(), render()
    assert first == second
    assert all(set(FILES) <= set(files) for files in first.values())


def test_threshold_change_touches_only_its_lines(tmp_path: Path) -> None:
    original = ROOT / "specs" / "customer-churn.yaml"
    changed = tmp_path / "customer-churn.yaml"
    text = original.read_text(encoding="utf-8")
    assert "accuracy: {min: 0.85}" in text
    changed.write_text(text.replace("accuracy: {min: 0.85}", "accuracy: {min: 0.91}"), encoding="utf-8")
    (before,) = [files for _, files in render_all([str(original)], TARGETS)]
    (after,) = [files for _, files in render_all([str(changed)], TARGETS)]
    assert before.keys() == after.keys()
    for path in before:
        old_lines = before[path].text.splitlines()
        new_lines = after[path].text.splitlines()
        assert len(old_lines) == len(new_lines)
        differing = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
        for old, new in differing:
            # The header names the spec file and the lineage tag carries the spec's hash: both follow any change.
            if old.startswith("# Generated by mlops-gen from") or "spec_hash=" in old:
                continue
            assert "accuracy=0.85" in old and "accuracy=0.91" in new, (old, new)
    training = after["azure-pipelines/training.yml"].text.splitlines()
    assert len([line for line in training if "accuracy=0.91" in line]) == 1


def test_corpus_specs_are_named_after_their_models() -> None:
    for path in CORPUS_SPECS:
        assert _spec(path).model.name == path.stem


def test_every_endpoint_lookup_has_a_publisher(rendered: dict[Path, Path]) -> None:
    """Lifecycle hooks and stages run on separate agents: each endpoint file a step looks up must be published
    by an earlier job under the name the lookup expects (per environment, step and job attempt)."""
    for spec_path, folder in rendered.items():
        spec = _spec(spec_path)
        document = _load(folder, "deployment")
        published = set()
        for node in _walk(document):
            if node.get("task") == "PublishPipelineArtifact@1":
                name = node["inputs"]["artifact"]
                if name.startswith("endpoint-"):
                    assert name.endswith("-a$(System.JobAttempt)"), name
                    stem = name.removesuffix("-a$(System.JobAttempt)")
                    steps = [str(step) for step in spec.rollout.increments] + ["$(strategy.increment)"]
                    published |= {stem.replace("$(strategy.increment)", step) for step in steps}
        lookups = [match for body in _scripts(document)
                   for match in re.findall(r"'\*/(endpoint-\S+)-a\*/endpoint\.json'", body)]
        assert lookups, folder.name
        for lookup in lookups:
            assert lookup in published, f"{folder.name}: nothing publishes {lookup}"


def test_pull_requests_never_reach_azure(rendered: dict[Path, Path]) -> None:
    """Issue 12 item 10: the first stage that logs in to Azure (DataValidation) is skipped for pull requests, and
    every later training stage depends on it (a stage whose dependency was skipped is skipped under the default
    `succeeded()`: learn.microsoft.com/azure/devops/pipelines/process/conditions)."""
    for _, folder in rendered.items():
        training = _load(folder, "training")
        stages = {stage["stage"]: stage for stage in training["stages"]}
        assert stages["DataValidation"]["condition"] == (
            "and(succeeded(), ne(variables['Build.Reason'], 'PullRequest'))")
        for name, stage in stages.items():
            if name in ("CodeQuality", "DataValidation"):
                continue
            depends = stage.get("dependsOn")
            chain = [depends] if isinstance(depends, str) else list(depends or [])
            while chain and "DataValidation" not in chain:
                chain = [d for dep in chain for d in ([stages[dep].get("dependsOn")]
                                                      if isinstance(stages[dep].get("dependsOn"), str)
                                                      else stages[dep].get("dependsOn") or [])]
            assert "DataValidation" in chain, f"{folder.name}: {name} does not depend on DataValidation"
            assert "always()" not in str(stage.get("condition", "")), name
