"""Azure DevOps in the monorepo layout: shared templates with typed parameters, thin per-model pipelines that
extend them.

The shared part (`monorepo_shared`, rendered once from no spec) is four templates under
`<out>/_shared/azure-pipelines/`: `training.yml`, `deployment.yml` and `drift-monitor.yml` (extends templates: a
whole pipeline body) and `release-environment.yml` (a job template: one environment's deployment job). Each model
gets thin pipelines under `<out>/<model>/azure-pipelines/` (`monorepo_model`) that hold what Azure only reads from
the pipeline's own file (triggers, schedules, the pipeline resource, runtime parameters) and
`extends: {template: /<out>/_shared/azure-pipelines/<name>.yml, parameters: ...}` with the spec's values.

Rules the design relies on (Microsoft's documentation):
- Template parameters are typed (string, number, boolean, object, ...), may be restricted to `values:`, and an
  extends template receives them under `extends.parameters`; a value of the wrong type fails the run at compile
  time (learn.microsoft.com/azure/devops/pipelines/process/template-parameters,
  .../yaml-schema/parameters-parameter, .../yaml-schema/extends).
- A template path starting with `/` is absolute within the repository, any other is relative to the including
  file (.../process/templates, "Reference template paths"): the thin pipelines name `/<out>/_shared/...`, and
  deployment.yml includes `release-environment.yml` beside it.
- Template expressions `${{ }}` are expanded at compile time and "can be used anywhere"; runtime expressions and
  macros cannot name an environment or a service connection (.../process/expressions; an environment name given
  as `$(var)` is taken verbatim: github.com/microsoft/azure-pipelines-yaml/issues/251). So environment names,
  job and stage names, `dependsOn` and the task's `azureSubscription` come from parameters through `${{ }}`, and
  `${{ each env in parameters.environments }}` makes one deployment job per environment, bound to
  `environment: ${{ env.name }}`: approvals stay on each Azure DevOps environment.
- Triggers, schedules and the pipeline resource cannot be templated ("you can only specify triggers in the
  pipeline's main YAML file", .../repos/azure-repos-git); they stay in the thin pipelines. Path filters are
  relative to the repository root and a trailing `*` covers the folder (.../repos/azure-repos-git, "Paths" and
  "Wildcards").
- Limits: at most 100 template files per pipeline and 20 levels of nesting (.../process/templates, "Imposed
  limits"); a pipeline here uses at most 2 files and 2 levels (SHARED_TEMPLATES, INCLUDES).

The jobs run the model's plan (`<out>/<model>/config/plan.json`) through the shared runner
`<out>/_shared/src/pipeline/run_plan.py` (RUNNER): no shared file lists a model's steps. Every value reaches a
script through `env:`, never through the script's text.
"""

from __future__ import annotations

import shlex
from functools import cache
from typing import Any

from mlops_gen.layout.paths import RUN_FOLDER, Monorepo
from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.dispatch import (
    ACTIONS,
    DEPLOY,
    INPUTS,
    NO_ENVIRONMENT,
    NO_VERSION,
    TRAIN,
    VERSION,
    Dispatch,
    guard_script_reading,
)
from mlops_gen.pipeline.model import Pipeline, Ref, Step
from mlops_gen.pipeline.training import training_stages
from mlops_gen.render.context import azure_pipelines, environments
from mlops_gen.render.filters import ShellRaw, script_call
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets.azure_devops import (
    ACTION_VARIABLE,
    BUILD_STAGE,
    ENVIRONMENT_VARIABLE,
    NOTIFICATIONS,
    REF_VARIABLE,
    VM_IMAGE,
    azure_cases,
    release_condition,
    timeouts,
)
from mlops_gen.targets.docker import BASE_IMAGE_ARG, MODEL_EXPORT, PYTHON_IMAGES, base_image
from mlops_gen.targets.github_actions import PIP_AUDIT

TARGET = "azure_devops"
TEMPLATES = "azure_devops/monorepo"
FOLDER = "azure-pipelines"
# The shared templates; deployment.yml includes release-environment.yml (one level below the extends template).
SHARED_TEMPLATES = ("training.yml", "deployment.yml", "release-environment.yml", "drift-monitor.yml")
INCLUDES = {"deployment.yml": ("release-environment.yml",)}

# The runtime contract (monorepo design, "Runtime contract"): the runner, its platform name and the run folder.
RUNNER = "src/pipeline/run_plan.py"
PLATFORM = "azure_devops"
# Names inside the run folder (the runner's file_path of "version" and of the drift step's "drift-report"): the
# version a release deploys, and the drift check's report, whose "result" (drift | no_drift) decides on retraining.
VERSION_FILE = "model-version.json"
DRIFT_REPORT = "drift-report.json"
# The plan's notices the shared templates send, as runner parts, by azure_devops.NOTIFICATIONS' key: training.yml
# the registration notice (after the registration stage's steps), drift-monitor.yml the drift notice.
NOTIFY_PARTS = {key: f"notify:{event}" for key, event in NOTIFICATIONS.items()}
# The environment's own subscription, for a release served in another subscription than training's.
ENV_SUBSCRIPTION_VARIABLE = "AZURE_ENVIRONMENT_SUBSCRIPTION_ID"

# The values every step's script reads from its env (set from parameters in the templates, never spliced).
ENV = {
    "model_dir": "MLOPS_CI_MODEL_DIR",
    "shared_dir": "MLOPS_CI_SHARED_DIR",
    "part": "MLOPS_CI_PART",
    "parts": "MLOPS_CI_RUN_PARTS",
    "subscription": "MLOPS_CI_SUBSCRIPTION_ID",
    "env_subscription": "MLOPS_CI_ENVIRONMENT_SUBSCRIPTION_ID",
    "variables": "MLOPS_CI_VARIABLES",
    "environments": "MLOPS_CI_ENVIRONMENTS",
    "release_branch": "MLOPS_CI_RELEASE_BRANCH",
    "model_name": "MLOPS_CI_MODEL_NAME",
    "workspace": "MLOPS_CI_WORKSPACE",
    "resource_group": "MLOPS_CI_RESOURCE_GROUP",
    "registry": "MLOPS_CI_REGISTRY",
    "image_repository": "MLOPS_CI_IMAGE_REPOSITORY",
    "python_image": "MLOPS_CI_PYTHON_IMAGE",
    "alias": "MLOPS_CI_ALIAS",
}


def template_path(repo: Monorepo, name: str) -> str:
    """The shared template as a thin pipeline names it: repository-root absolute (a leading `/`)."""
    return "/" + repo.shared(f"{FOLDER}/{name}")


def artifact(part: str) -> str:
    """The run folder of one job, as a pipeline artifact; a re-run of the job publishes beside it."""
    return f"mlops-run-{part}-a$(System.JobAttempt)"


# ----- scripts of the shared templates (no model value: everything comes from env) -----

def _var(key: str) -> str:
    return f'"${{{ENV[key]}}}"'


def merge_script() -> str:
    """Merge the run folders earlier jobs published (downloaded under the pipeline workspace, this run's and the
    triggering training run's) into the model's run folder, parts in the order given, re-runs by attempt."""
    run = f'{_var("model_dir")}/{RUN_FOLDER}'
    return "\n".join([
        f"mkdir -p {run}",
        f'read -r -a parts <<< {_var("parts")}',
        'for part in "${parts[@]}"; do',
        '  while IFS= read -r folder; do',
        f'    cp -R "${{folder}}/." {run}/',
        '  done < <(find "${PIPELINE_WORKSPACE}" -mindepth 1 -maxdepth 2 -type d \\',
        '    -name "mlops-run-${part}-a*" | sort -V)',
        "done",
    ])


def unset_script() -> str:
    """Unset the mapped pipeline variables that are not set (an unset variable arrives as its own macro text)."""
    return "\n".join([
        f'read -r -a names <<< {_var("variables")}',
        'for name in "${names[@]}"; do',
        '  if [[ "${!name:-}" == "\\$("* ]]; then unset "${name}"; fi',
        "done",
    ])


def login_script() -> str:
    """Select the subscription (the environment's own one first), export AZURE_SUBSCRIPTION_ID for the runner, and
    unset mapped pipeline variables that are not set (unset_script)."""
    return "\n".join([
        unset_script(),
        f'if [ -n {_var("env_subscription")} ]; then',
        f'  az account set --subscription {_var("env_subscription")}',
        f'  export {ENV_SUBSCRIPTION_VARIABLE}={_var("env_subscription")}',
        f'elif [ -n {_var("subscription")} ]; then',
        f'  az account set --subscription {_var("subscription")}',
        "fi",
        f'if [ -n {_var("subscription")} ]; then',
        f'  AZURE_SUBSCRIPTION_ID={_var("subscription")}',
        "else",
        '  AZURE_SUBSCRIPTION_ID="$(az account show --query id --output tsv)"',
        "fi",
        "export AZURE_SUBSCRIPTION_ID",
    ])


def runner_script() -> str:
    """One part of the model's plan through the shared runner."""
    return "\n".join([
        login_script(),
        f'python {_var("shared_dir")}/{RUNNER} \\',
        f'  --model-dir {_var("model_dir")} --platform {PLATFORM} {_var("part")}',
    ])


def notify_script() -> str:
    """One notice of the model's plan (a part notify:<event>) through the shared runner: no Azure login (a
    notification needs none), the webhook secret mapped into env like every variable the plan names."""
    return "\n".join([
        unset_script(),
        f'python {_var("shared_dir")}/{RUNNER} \\',
        f'  --model-dir {_var("model_dir")} --platform {PLATFORM} {_var("part")}',
    ])


def guard_script() -> str:
    """The manual run's inputs checked before anything acts on them: the per-model layout's checks
    (dispatch.guard_script_reading), with the model's environments and release branch read from env."""
    return guard_script_reading(ENV["environments"], ENV["release_branch"], REF_VARIABLE).rstrip("\n")


def _shared_call(script: str, args: list[tuple[str, Any]]) -> str:
    """A stage script of the shared folder, its flags checked against the script's contract."""
    text = str(script_call(script, args))
    return text.replace(f"python {script}", f'python {_var("shared_dir")}/{script}', 1)


def _coordinates() -> list[tuple[str, Any]]:
    return [("--workspace", ShellRaw(_var("workspace"))), ("--resource-group", ShellRaw(_var("resource_group"))),
            ("--subscription-id", ShellRaw('"${AZURE_SUBSCRIPTION_ID}"'))]


def version_scripts() -> dict[str, str]:
    """The version a run releases, into the run folder: a manual deploy's requested one, a rollback's the version
    holding the environment's alias (exported, like the per-model layout's manual rollback)."""
    version = f'"${{{VERSION.variable}}}"'
    target = f'{_var("model_dir")}/{RUN_FOLDER}/{VERSION_FILE}'
    record = '{"model_name": "%s", "version": "%s"}\\n'
    deploy = "\n".join([
        f"mkdir -p {_var('model_dir')}/{RUN_FOLDER}",
        f"printf {shlex.quote(record)} {_var('model_name')} {version} \\",
        f"  > {target}",
    ])
    rollback = "\n".join([
        login_script(),
        f"mkdir -p {_var('model_dir')}/{RUN_FOLDER}",
        _shared_call("src/deployment/export_model.py", [
            ("--model-name", ShellRaw(_var("model_name"))), ("--alias", ShellRaw(_var("alias"))),
            ("--output-dir", ShellRaw(f'"${{AGENT_TEMPDIRECTORY}}/{MODEL_EXPORT}"')),
            ("--output", ShellRaw(target)), *_coordinates()]),
    ])
    return {"deploy": deploy, "rollback": rollback}


def export_script() -> str:
    """The released version's model files into the shared folder, the image build's context."""
    return "\n".join([
        login_script(),
        _shared_call("src/deployment/export_model.py", [
            *_coordinates(), ("--model-name", ShellRaw(_var("model_name"))),
            ("--version-file", ShellRaw(f'{_var("model_dir")}/{RUN_FOLDER}/{VERSION_FILE}')),
            ("--output-dir", ShellRaw(f'{_var("shared_dir")}/{MODEL_EXPORT}')),
            ("--output", ShellRaw(f'{_var("model_dir")}/{RUN_FOLDER}/image-model.json'))]),
    ])


def build_script() -> str:
    """The serving image from the shared Dockerfile; the shared folder is its context (its .dockerignore)."""
    return "\n".join([
        "model_version=\"$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"version\"])' \\",
        f'  {_var("model_dir")}/{RUN_FOLDER}/image-model.json)"',
        "docker build \\",
        f'  --file {_var("shared_dir")}/Dockerfile \\',
        f'  --build-arg "{BASE_IMAGE_ARG}={_var("python_image")[1:-1]}" \\',
        f'  --tag "${{{ENV["image_repository"]}}}:${{BUILD_BUILDID}}" \\',
        f'  --tag "${{{ENV["image_repository"]}}}:model-${{model_version}}" \\',
        '  --label "org.opencontainers.image.revision=${BUILD_SOURCEVERSION}" \\',
        f'  --label "org.opencontainers.image.title=${{{ENV["model_name"]}}}" \\',
        f'  {_var("shared_dir")}',
    ])


def drift_result_script() -> str:
    """The drift report's result as the output variable the Retrain stage's condition reads."""
    return "\n".join([
        f'report="$(find {_var("model_dir")}/{RUN_FOLDER} -name {DRIFT_REPORT} -type f | sort | head -n 1)"',
        'test -n "${report}" || { echo "no drift report in the run folder" >&2; exit 1; }',
        "result=\"$(python -c 'import json, sys; print(json.load(open(sys.argv[1]))[\"result\"])' \"${report}\")\"",
        'case "${result}" in drift|no_drift) ;; *) echo "unexpected drift result" >&2; exit 1 ;; esac',
        'echo "##vso[task.setvariable variable=result;isOutput=true]${result}"',
    ])


# ----- conditions, from the per-model layout's cases with the environment as a template expression -----

_ENV_SENTINEL = "mlops-sentinel-environment"
_PREVIOUS_SENTINEL = "MlopsSentinelPrevious"
ENV_EXPRESSION = "${{ replace(parameters.environment.name, '''', '''''') }}"
PREVIOUS_EXPRESSION = "DeployTo${{ parameters.environment.previous }}"


def _conditions() -> dict[str, list[str]]:
    """Stage conditions of a release (first environment, and one after a previous release) and of the post stage,
    as azure_devops.stage_conditions words them, the environment name a template expression escaped for a string
    literal (a quote doubled)."""
    dispatch = Dispatch(environments=(_ENV_SENTINEL,), aliases=((_ENV_SENTINEL, "x"),), branch="x")

    def release(previous: str | None) -> list[str]:
        lines = azure_cases(dispatch.release(_ENV_SENTINEL), previous)
        succeeded = f"in(dependencies.{BUILD_STAGE}.result, 'Succeeded', 'SucceededWithIssues')"
        out = [f"and(not(canceled()), {succeeded},", *lines[:-1], lines[-1] + ")"]
        text = "\n".join(out).replace(f", eq(variables['{ENVIRONMENT_VARIABLE}']",
                                       f",\neq(variables['{ENVIRONMENT_VARIABLE}']")
        return (text.replace(f"'{_ENV_SENTINEL}'", f"'{ENV_EXPRESSION}'")
                .replace(f"dependencies.{_PREVIOUS_SENTINEL}.", f"dependencies.{PREVIOUS_EXPRESSION}.").split("\n"))

    post = azure_cases(dispatch.post_release)
    return {"first": release(None), "next": release(_PREVIOUS_SENTINEL),
            "post": ["and(succeeded(),", *post[:-1], post[-1] + ")"]}


def _registration() -> dict[str, list[str]]:
    """The registration stage's condition per kind of release branch (exact name, glob with a prefix, any)."""
    return {kind: release_condition(branch)[1] for kind, branch in BRANCH_KINDS.items()}


BRANCH_KINDS = {"exact": "main", "prefix": "release/*", "any": "*"}


def branch_kind(branch: str) -> str:
    ref, _ = release_condition(branch)
    return "any" if ref is None else "exact" if ref == f"refs/heads/{branch}" else "prefix"


@cache
def _reference_stages() -> tuple[tuple[str, str], ...]:
    """The training stages' ids and names: the same for every spec (a minimal one stands for all)."""
    spec = ProjectSpec.model_validate({"apiVersion": "mlops-gen/v1", "kind": "ModelPipeline",
                                       "model": {"name": "reference"}, "environments": [{"name": "dev"}]})
    return tuple((stage.id, stage.name) for stage in training_stages(spec))


# The per-model layout's stage names and the timeouts (azure_devops.timeouts) of each training stage's job.
STAGE_IDENTS = {"data": "DataValidation", "train": "ModelTraining", "validate": "ModelValidation",
                "register": "ModelRegistration"}
STAGE_TIMEOUTS = {"data": "setup", "train": "training", "validate": "validation", "register": "registration"}


def training_parts() -> list[str]:
    return [stage_id for stage_id, _ in _reference_stages()]


def shared_context() -> dict[str, Any]:
    scripts = version_scripts()
    return {
        "stages": [{"id": stage_id, "name": name, "ident": STAGE_IDENTS[stage_id], "timeout": STAGE_TIMEOUTS[stage_id]}
                   for stage_id, name in _reference_stages()],
        "env": ENV,
        "run_folder": RUN_FOLDER,
        "vm_image": VM_IMAGE,
        "pip_audit": PIP_AUDIT,
        "python_versions": sorted(PYTHON_IMAGES),
        "actions": [action.name for action in ACTIONS],
        "train": TRAIN.name,
        "no_environment": NO_ENVIRONMENT,
        "no_version": NO_VERSION,
        "inputs": INPUTS,
        "action_variable": ACTION_VARIABLE,
        "environment_variable": ENVIRONMENT_VARIABLE,
        "build_stage": BUILD_STAGE,
        "branch_kinds": list(BRANCH_KINDS),
        "conditions": _conditions(),
        "registration": _registration(),
        "scripts": {"merge": merge_script(), "runner": runner_script(), "guard": guard_script(),
                    "deploy_version": scripts["deploy"], "rollback_version": scripts["rollback"],
                    "export": export_script(), "build": build_script(), "drift_result": drift_result_script(),
                    "notify": notify_script()},
        # The plan's notices these templates send (azure_devops.NOTIFICATIONS, as the per-model pipelines do).
        "notify_parts": NOTIFY_PARTS,
        "artifact": artifact,
        "training_parts": " ".join(training_parts()),
        # What a release merges: training's folders (through the build's), the build's and earlier releases'.
        "build_parts": " ".join([*training_parts(), "build", "release-*"]),
        "deploy_action": DEPLOY.name,
    }


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    extra = shared_context()
    return [OutputFile(repo.shared(f"{FOLDER}/{name}"), f"{TEMPLATES}/{name}.j2", TARGET, extra=extra)
            for name in SHARED_TEMPLATES]


# ----- the per-model thin pipelines -----

def step_variables(spec: ProjectSpec, pipeline: Pipeline) -> list[str]:
    """Pipeline variables the model's steps read (each mapped into the jobs' env): the notification webhook (a
    secret) and every variable a step's flag names."""
    steps: list[Step] = [step for stage in pipeline.training for step in stage.steps]
    steps += [step for release in pipeline.releases for step in (*release.steps(), *release.rollback)]
    steps += [*pipeline.post_release, *pipeline.drift, *pipeline.notifications.values()]
    names = {value.arg for step in steps for _, value in step.flags if isinstance(value, Ref)
             and value.kind == "variable"}
    if spec.notifications.channel != "none":
        names.add(spec.notifications.webhook_secret)
    return sorted(names)


def model_parameters(spec: ProjectSpec, repo: Monorepo) -> dict[str, Any]:
    """The values every thin pipeline passes (each template declares the ones it takes)."""
    pipeline = build_pipeline(spec)
    assert pipeline.dispatch is not None
    views = environments(spec)
    by_name = {release.env.name: release for release in pipeline.releases}
    envs = []
    for view in views:
        envs.append({
            "name": view.name, "id": view.ident, "previous": view.previous or "",
            "target": view.env.target, "strategy": view.strategy, "approval": view.env.approval,
            "serviceConnection": view.own_connection or spec.azure.service_connection,
            "subscriptionId": view.own_subscription or "",
            "alias": pipeline.dispatch.alias(view.name),
            "timeoutMinutes": min(by_name[view.name].timeout_minutes, 360),
        })
    scans = spec.ci.security_scans
    branch = spec.triggers.branches[0]
    names = azure_pipelines(spec)
    return {
        "modelName": spec.model.name,
        "modelDir": repo.model(spec.model.name),
        "sharedDir": repo.shared(),
        "pythonVersion": spec.python_version,
        "pythonImage": base_image(spec),
        "serviceConnection": spec.azure.service_connection,
        "subscriptionId": spec.azure.subscription_id or "",
        "workspace": spec.azure.workspace,
        "resourceGroup": spec.azure.resource_group,
        "containerRegistry": spec.azure.registry,
        "imageRepository": f"{spec.azure.registry}.azurecr.io/{spec.model.name}",
        "releaseBranch": branch,
        "releaseBranchRef": release_condition(branch)[0] or "",
        "releaseBranchMatch": branch_kind(branch),
        "linters": list(spec.ci.linters),
        "coverageMin": spec.ci.coverage_min,
        "bandit": scans.bandit,
        "dependencyAudit": scans.dependency_audit,
        "containerScan": scans.container_scan,
        "timeouts": timeouts(spec),
        "variables": step_variables(spec, pipeline),
        "environments": envs,
        "trainingPipeline": names["training_name"],
    }


# Which parameters each thin pipeline passes to its template (the template declares exactly these, plus the
# ones with defaults the thin pipelines leave alone).
PASSED = {
    "training.yml": ("modelName", "modelDir", "sharedDir", "pythonVersion", "serviceConnection", "subscriptionId",
                     "releaseBranchRef", "releaseBranchMatch", "linters", "coverageMin", "bandit",
                     "dependencyAudit", "timeouts", "variables"),
    "deployment.yml": ("modelName", "modelDir", "sharedDir", "pythonVersion", "pythonImage", "serviceConnection",
                       "subscriptionId", "workspace", "resourceGroup", "containerRegistry", "imageRepository",
                       "releaseBranch", "containerScan", "timeouts", "variables", "environments"),
    "drift-monitor.yml": ("modelName", "modelDir", "sharedDir", "pythonVersion", "serviceConnection",
                          "subscriptionId", "releaseBranch", "trainingPipeline", "timeouts", "variables"),
}


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    if TARGET not in spec.platforms:
        return []
    values = model_parameters(spec, repo)
    names = [name for name in PASSED if name != "drift-monitor.yml" or spec.monitoring.drift.enabled]
    files = []
    for name in names:
        extra = {
            "passed": {key: values[key] for key in PASSED[name]},
            "template_path": template_path(repo, name),
            "paths": [f"{repo.model(spec.model.name)}/*", f"{repo.shared()}/*"],
            "release_branch": values["releaseBranch"],
            "names": azure_pipelines(spec),
            "actions": [action.name for action in ACTIONS],
            "train": TRAIN.name,
            "no_environment": NO_ENVIRONMENT,
            "no_version": NO_VERSION,
            "inputs": INPUTS,
            "environment_names": [env["name"] for env in values["environments"]],
            "registration_stage": STAGE_IDENTS["register"],
        }
        files.append(OutputFile(repo.model(spec.model.name, f"{FOLDER}/{name}"), f"{TEMPLATES}/model-{name}.j2",
                                TARGET, extra=extra))
    return files
