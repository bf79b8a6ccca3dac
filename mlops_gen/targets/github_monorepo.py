"""GitHub Actions in the monorepo layout: shared reusable workflows and a thin caller per model.

The shared part (`monorepo_shared`, rendered once, from no spec) is five reusable workflows in the repository root's
`.github/workflows/` (GitHub runs workflows from there only; subfolders are not supported):
`mlops.pipeline.yml` (code quality, security scan, the training stages, the serving image), `mlops.release.yml`
(one environment's release and its rollback job), `mlops.post.yml` (post-release steps and the GitHub release),
`mlops.notify.yml` (the failure notice) and `mlops.drift.yml` (the scheduled drift check, and its notice). Each
model gets `.github/workflows/mlops-<model>.yml` (and `mlops-<model>.drift.yml` when drift monitoring is on):
triggers with path filters, the manual operations' inputs, and jobs that `uses:` the shared workflows with the
spec's values as typed `with:` inputs. The steps of each job, and the notices (the plan's parts notify:<event>),
come from the model's plan (`<model folder>/config/plan.json`) through the shared runner
(`src/pipeline/run_plan.py`): no shared file lists a model's steps or names a model.

Rules of GitHub Actions this design relies on (docs.github.com/en/actions, "Reuse workflows" and "Reusable
workflows" reference, reference/workflows-and-actions/reusing-workflow-configurations):
- A reusable workflow declares `on.workflow_call.inputs` with a type (boolean, number or string); the caller's
  `with:` values must match those types (actionlint checks each call against the called file).
- The calling job takes only name, uses, with, secrets, strategy, needs, if, concurrency and permissions: no
  `runs-on`, `steps`, `env`, `timeout-minutes` or `environment`. So every timeout lies in the shared jobs, and the
  environment binding of a release lies in the shared release job, from its input (`environment:` may use the
  `inputs` context there); approvals stay per environment because the caller calls the release workflow once per
  environment.
- The caller's workflow-level `env` does not reach the called workflow: every value is an input. `vars` are the
  caller repository's (and, in a job bound to an environment, that environment's). Secrets reach it only when the
  calling job passes them, by name or with `secrets: inherit`; the callers pass the one webhook secret by name
  (an environment secret of that name takes precedence in a job bound to that environment), never `inherit`.
- The called workflow's GITHUB_TOKEN permissions can only be downgraded from the calling job's: each calling job
  grants the union of what its called jobs need, and each called job asks for its own least.
- A workflow output maps a job output of the called workflow (`on.workflow_call.outputs.<id>.value:
  ${{ jobs.<job>.outputs.<id> }}`), read by later calling jobs as `needs.<calling job>.outputs.<id>`: the image
  digest reaches the release jobs that way (IMAGE_REFERENCE).
- Limits: at most four levels of workflows and twenty unique reusable workflows per caller file (ten levels and
  fifty on github.com); a caller here uses one level and at most four workflows. A run's artifacts are the whole
  run's, called workflows included: jobs hand the run folder to each other as artifacts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mlops_gen.layout.paths import RUN_FOLDER as RUN_DIR
from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.dispatch import (
    ACTION,
    ENVIRONMENT,
    TRAIN,
    VERSION,
    Dispatch,
    deploy_record,
    guard_script_reading,
)
from mlops_gen.render.context import environments
from mlops_gen.render.filters import ShellRaw, script_call, yaml_str
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec
from mlops_gen.targets.docker import BASE_IMAGE_ARG, MODEL_EXPORT, base_image
from mlops_gen.targets.github_actions import (
    DISPATCHED,
    FILES,
    HOSTED_JOB_LIMIT,
    NOTIFICATIONS,
    PIP_AUDIT,
    REF_VARIABLE,
    RUNNER,
    dispatch_env,
    dispatch_inputs,
    file_path,
    github_cases,
    release_condition,
    release_job_condition,
)
from mlops_gen.targets.plan_file import PLAN as PLAN_FILE

TARGET = "github_actions"
TEMPLATES = "github_actions/monorepo"
PIPELINE, RELEASE, POST, NOTIFY, DRIFT = "pipeline.yml", "release.yml", "post.yml", "notify.yml", "drift.yml"
SHARED_WORKFLOWS = (PIPELINE, RELEASE, POST, NOTIFY, DRIFT)
CALLER_DRIFT_SUFFIX = "drift"
# The runner's contract (design: "Runtime contract: the plan and its runner"); the runner is
# templates/scripts/src/pipeline/run_plan.py, its run folder RUN_DIR there, its plan config/plan.json
# (targets/plan_file.PLAN).
RUNNER_SCRIPT = "src/pipeline/run_plan.py"
RUN_ARTIFACT = "mlops-run-"  # each job's copy of the run folder: mlops-run-<job>, merged on download
REPORTS_DIR = "mlops-reports"  # the code-quality job's reports (kept out of the run folder)
PLATFORM = "github"
# The shared workflows' one secret (a name, not a value): each caller maps its spec's webhook secret into it.
WEBHOOK_SECRET = "webhook"  # noqa: S105
PIPELINE_JOB, POST_JOB = "pipeline", "post"
# Each training stage of the plan (pipeline.training.training_stages: the ids) as one job of mlops.pipeline.yml:
# (stage id, job id as in the per-model workflow, name, timeout-minutes).
STAGES = (("data", "data-validation", "Data validation", "30"),
          ("train", "train", "Train", "${{ inputs.train-timeout }}"),
          ("validate", "validate-model", "Validate the model", "60"),
          ("register", "register-model", "Register the model", "30"))
# Callers name the shared workflows by path in the same repository ("./"): GitHub reads a local reusable workflow
# from the caller's own commit (not from a checked-out workspace), and every GitHub edition supports this form.
# zizmor (self-repository, a "help" finding) recommends the newer "$/" form, which not every GitHub edition and
# runner accepts yet: the callers keep "./" and say so to zizmor on that line.
LOCAL = "./"
SELF_REPOSITORY = "  # zizmor: ignore[self-repository]"
AZURE_PERMISSIONS = {"contents": "read", "id-token": "write"}  # check out; OIDC token for azure/login
POST_PERMISSIONS = {"contents": "write", "id-token": "write"}  # + create the GitHub release and its tag
READ_PERMISSIONS = {"contents": "read"}
DRIFT_PERMISSIONS = {"actions": "write", "contents": "read", "id-token": "write"}  # + dispatch the pipeline


@dataclass(frozen=True)
class Input:
    """One `on.workflow_call.inputs` entry."""

    description: str
    type: str = "string"
    required: bool = True
    default: Any = None


COMMON_INPUTS = {
    "model-dir": Input("The model's folder, relative to the repository root (holds config/plan.json)"),
    "model-name": Input("The model's name"),
    "python-version": Input("The Python version of the model's jobs"),
}
SUBSCRIPTION_INPUT = Input("The Azure subscription the jobs log in to and act in")
PIPELINE_INPUTS = {
    ACTION.name: Input(ACTION.description, required=False, default=TRAIN.name),
    ENVIRONMENT.name: Input(ENVIRONMENT.description + " (deploy, rollback)", required=False, default=""),
    VERSION.name: Input(VERSION.description, required=False, default=""),
    "environments": Input("The model's environments in release order, space-separated (a manual run names one)"),
    "aliases": Input("The alias each environment's promotion moves, a JSON object (a rollback redeploys it)"),
    "release-branch": Input("The branch manual deploys and rollbacks run from"),
    "register": Input("Whether this run may register a model version (the release branch's pushes and "
                      "dispatches)", type="boolean"),
    "ruff": Input("Lint with ruff", type="boolean", required=False, default=False),
    "mypy": Input("Type check with mypy", type="boolean", required=False, default=False),
    "coverage-min": Input("The unit tests' coverage minimum, in percent", type="number"),
    "bandit": Input("Run bandit", type="boolean", required=False, default=False),
    "dependency-audit": Input("Audit the dependencies with pip-audit", type="boolean", required=False,
                              default=False),
    "container-scan": Input("Scan the image with Trivy", type="boolean", required=False, default=False),
    "train-timeout": Input("timeout-minutes of the training job", type="number"),
    "subscription-id": SUBSCRIPTION_INPUT,
    "workspace": Input("The Azure ML workspace of training and the model registry"),
    "resource-group": Input("The resource group of that workspace"),
    "registry": Input("The Azure container registry's name"),
    "image-repository": Input("The serving image's repository (<registry>.azurecr.io/<model>)"),
    "python-image": Input("The python base image of the serving image"),
}
RELEASE_INPUTS = {
    "environment": Input("The environment to release to: the job binds it (its approvals, secrets, variables)"),
    "strategy": Input("The rollout strategy (shown in the job's name; the steps come from the plan)"),
    "target": Input("Where the environment serves: azureml_online_endpoint, aks or aci"),
    "subscription-id": SUBSCRIPTION_INPUT,
    "image-reference": Input("The serving image by digest (the pipeline's output)"),
    "timeout-minutes": Input("timeout-minutes of the release job (the whole rollout)", type="number"),
    "rollback": Input("Whether a failed, timed-out or cancelled release is rolled back by a job of its own",
                      type="boolean"),
}
POST_INPUTS = {"subscription-id": SUBSCRIPTION_INPUT}
# The notice itself is the plan's (notify:<event>, NOTIFY_PARTS): the notify workflow takes the common inputs only.
NOTIFY_INPUTS: dict[str, Input] = {}
DRIFT_INPUTS = {
    "subscription-id": SUBSCRIPTION_INPUT,
    "endpoint": Input("The watched endpoint (shown in the job's name)"),
    "pipeline-workflow": Input("The model's pipeline workflow file, dispatched to retrain"),
    "release-branch": Input("The branch the retraining runs on; empty: the default branch", required=False,
                            default=""),
}
INPUTS = {PIPELINE: PIPELINE_INPUTS, RELEASE: RELEASE_INPUTS, POST: POST_INPUTS, NOTIFY: NOTIFY_INPUTS,
          DRIFT: DRIFT_INPUTS}
# The plan's notices the shared workflows send, as runner parts, by github_actions.NOTIFICATIONS' key (the per-model
# workflows send the same ones): notify.yml the failure notice, drift.yml the drift notice.
NOTIFY_PARTS = {key: f"notify:{event}" for key, event in NOTIFICATIONS.items()}


def _expr(text: str) -> str:
    return "${{ " + text + " }}"


# Bash: `read_plan <key>` prints the plan's list under <key> (its `secrets` or `variables`), space-separated.
READ_PLAN = [
    "read_plan() {",
    "  python - \"${MODEL_DIR}/" + PLAN_FILE + "\" \"$1\" <<'PYTHON'",
    "import json, sys",
    "with open(sys.argv[1], encoding='utf-8') as plan:",
    "    print(' '.join(json.load(plan)[sys.argv[2]]))",
    "PYTHON",
    "}",
    "# The notification secret under the name the plan gives it.",
    'secret_names="$(read_plan secrets)"',
    'read -r -a secrets <<< "${secret_names}"',
    'for name in "${secrets[@]}"; do export "${name}=${WEBHOOK}"; done',
]


def runner_script() -> str:
    """Bash running one part of the model's plan (MLOPS_PART): the notification secret and the repository
    variables the plan names (its `secrets` and `variables`) go into the environment under their own names first,
    then the shared runner runs the part. Inputs and secrets reach it through env only."""
    return "\n".join([
        *READ_PLAN,
        "# The repository (or environment) variables the plan's steps read, each under its own name.",
        'variable_names="$(read_plan variables)"',
        'read -r -a variables <<< "${variable_names}"',
        'for name in "${variables[@]}"; do',
        "  value=\"$(jq --raw-output --arg name \"${name}\" '.[$name] // empty' <<< \"${REPOSITORY_VARIABLES}\")\"",
        '  export "${name}=${value}"',
        "done",
        f'python "${{SHARED_DIR}}/{RUNNER_SCRIPT}" --model-dir "${{MODEL_DIR}}" --platform {PLATFORM} \\',
        '  "${MLOPS_PART}"',
    ]) + "\n"


def _shell(name: str) -> ShellRaw:
    return ShellRaw(f'"${{{name}}}"')


def resolve_script() -> str:
    """Bash writing the model version a manual run releases (VERSION_FILE): the guard again (another job than the
    first check), then the requested version for deploy, or for rollback the version holding the environment's
    alias (ALIAS), exported by export_model.py."""
    export = script_call("src/deployment/export_model.py", [
        ("--model-name", _shell("MODEL_NAME")), ("--alias", _shell("ALIAS")), ("--output-dir", _shell("MODEL_EXPORT")),
        ("--output", _shell("VERSION_FILE")), ("--workspace", _shell("WORKSPACE")),
        ("--resource-group", _shell("RESOURCE_GROUP")), ("--subscription-id", _shell("AZURE_SUBSCRIPTION_ID"))])
    return "\n".join([guard().rstrip("\n"), *deploy_record('"${MODEL_NAME}"', '"${VERSION_FILE}"'), str(export)]) + "\n"


def guard() -> str:
    """The dispatch guard of the shared workflows: the model's environments and release branch from env."""
    return guard_script_reading("MLOPS_ENVIRONMENTS", "RELEASE_BRANCH", REF_VARIABLE)


def build_condition() -> str:
    """The image build: after registration; or, for a run that trains nothing (a manual operation), after the code
    checks (the security scan may be off: skipped)."""
    return (f"!cancelled() && (needs.register-model.result == 'success'\n|| ({DISPATCHED}\n"
            "&& needs.code-quality.result == 'success'\n"
            "&& (needs.security-scan.result == 'success' || needs.security-scan.result == 'skipped')))")


def shared_context(repo: Monorepo) -> dict[str, Any]:
    """What the shared workflows need besides `repo`: nothing of any spec."""
    training = github_cases(Dispatch(environments=(), aliases=(), branch="").training)
    stages = [{"id": stage, "job": job, "name": name, "timeout": timeout, "part": f"stage:{stage}",
               "needs": STAGES[index - 1][1] if index else None, "register": stage == "register"}
              for index, (stage, job, name, timeout) in enumerate(STAGES)]
    return {
        "runner": RUNNER,
        "run_dir": RUN_DIR,
        "run_artifact": RUN_ARTIFACT,
        "reports_dir": REPORTS_DIR,
        "webhook_secret": WEBHOOK_SECRET,
        "common_inputs": COMMON_INPUTS,
        "pipeline_inputs": PIPELINE_INPUTS,
        "release_inputs": RELEASE_INPUTS,
        "post_inputs": POST_INPUTS,
        "drift_inputs": DRIFT_INPUTS,
        "runner_script": runner_script(),
        "guard_script": guard(),
        "resolve_script": resolve_script(),
        "export_call": str(script_call("src/deployment/export_model.py", [
            ("--model-name", _shell("MODEL_NAME")), ("--version-file", _shell("VERSION_FILE")),
            ("--output-dir", _shell("MODEL_EXPORT")), ("--output", _shell("EXPORT_RECORD")),
            ("--workspace", _shell("WORKSPACE")), ("--resource-group", _shell("RESOURCE_GROUP")),
            ("--subscription-id", _shell("AZURE_SUBSCRIPTION_ID"))])),
        "dispatch_env": dispatch_env(),
        "training_condition": training,
        "dispatched_condition": DISPATCHED,
        "build_condition": build_condition(),
        "build_needs": ("register-model", "code-quality", "security-scan"),
        "stages": stages,
        "pip_audit": PIP_AUDIT,
        "version_file": f"{RUN_DIR}/{FILES['version']}",
        "export_record": f"{RUN_DIR}/model-export.json",
        "model_export": MODEL_EXPORT,
        "base_image_arg": BASE_IMAGE_ARG,
        "files": {name: FILES[name] for name in ("version", "model-card")},
        "post_part": "post",
        "drift_part": "drift",
        "notify_parts": NOTIFY_PARTS,
        "drift_report": f"{RUN_DIR}/{file_path('drift-report')}",
        "retrain_input": f"{ACTION.name}={TRAIN.name}",
    }


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    context = shared_context(repo)
    return [OutputFile(repo.shared_workflow(name), f"{TEMPLATES}/{name}.j2", TARGET, extra=context)
            for name in SHARED_WORKFLOWS]


# ----- the callers (one model's values) -----

def _literal(value: Any) -> str:
    """A `with:` value as YAML: booleans and numbers bare (the input's type), strings quoted, expressions as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, ShellRaw):  # an expression of the caller: ${{ ... }}
        return str(value)
    return yaml_str(value)


def _with(values: dict[str, Any], inputs: dict[str, Input]) -> dict[str, str]:
    """Checked against the called workflow's inputs: a name it does not declare, or a missing required one, is a
    bug here (actionlint would say so later, on the user's side)."""
    declared = {**COMMON_INPUTS, **inputs}
    unknown = set(values) - set(declared)
    missing = {name for name, item in declared.items() if item.required} - set(values)
    if unknown or missing:
        raise RuntimeError(f"inputs not declared: {sorted(unknown)}; required inputs missing: {sorted(missing)}")
    return {name: _literal(value) for name, value in values.items()}


def path_filters(spec: ProjectSpec, repo: Monorepo) -> list[str]:
    """A change to the model's folder runs its pipeline; a change to the shared part or the shared workflows runs
    every model's; so does a change to the caller itself."""
    return [repo.model(spec.model.name) + "/**", repo.shared() + "/**",
            repo.shared_workflow("*.yml"), repo.caller(spec.model.name)]


def caller_context(spec: ProjectSpec, repo: Monorepo) -> dict[str, Any]:
    pipeline = build_pipeline(spec)
    assert pipeline.dispatch is not None
    dispatch = pipeline.dispatch
    model = spec.model.name
    subscription = spec.azure.subscription_id or ShellRaw(_expr("vars.AZURE_SUBSCRIPTION_ID"))
    common = {"model-dir": repo.model(model), "model-name": model, "python-version": spec.python_version}
    scans = spec.ci.security_scans
    pipeline_with = _with({
        **common,
        ACTION.name: ShellRaw(_expr(f"inputs.{ACTION.name} || '{TRAIN.name}'")),
        ENVIRONMENT.name: ShellRaw(_expr(f"inputs.{ENVIRONMENT.name} || ''")),
        VERSION.name: ShellRaw(_expr(f"inputs.{VERSION.name} || ''")),
        "environments": " ".join(dispatch.environments),
        "aliases": json.dumps(dict(dispatch.aliases), separators=(",", ":")),
        "release-branch": dispatch.branch,
        "register": ShellRaw(_expr(release_condition(spec.triggers.branches[0]))),
        "ruff": "ruff" in spec.ci.linters,
        "mypy": "mypy" in spec.ci.linters,
        "coverage-min": spec.ci.coverage_min,
        "bandit": scans.bandit,
        "dependency-audit": scans.dependency_audit,
        "container-scan": scans.container_scan,
        # The job waits for the Azure ML training job, plus setup; a longer wait cannot run on a hosted runner.
        "train-timeout": min(spec.training.timeout_minutes + 30, HOSTED_JOB_LIMIT),
        "subscription-id": subscription,
        "workspace": spec.azure.workspace,
        "resource-group": spec.azure.resource_group,
        "registry": spec.azure.registry,
        "image-repository": f"{spec.azure.registry}.azurecr.io/{model}",
        "python-image": base_image(spec),
    }, PIPELINE_INPUTS)
    jobs = []
    previous: tuple[str, ...] = ()
    views = {view.name: view for view in environments(spec)}
    for release in pipeline.releases:
        env = views[release.env.name]
        job_id = f"deploy-{env.name}"
        jobs.append({
            "id": job_id, "environment": env.name, "name": f"Deploy to {env.name} ({release.strategy})",
            "needs": tuple(dict.fromkeys((*previous, PIPELINE_JOB))),
            "condition": release_job_condition(dispatch, env.name, previous, PIPELINE_JOB),
            "with": _with({
                **common, "environment": env.name, "strategy": release.strategy, "target": env.env.target,
                "subscription-id": env.own_subscription or subscription,
                "image-reference": ShellRaw(_expr(f"needs.{PIPELINE_JOB}.outputs.image")),
                "timeout-minutes": min(release.timeout_minutes, HOSTED_JOB_LIMIT),
                "rollback": any(step.kind == "rollback" for step in release.rollback),
            }, RELEASE_INPUTS)})
        previous = (job_id,)
    monitored = pipeline.monitored
    branch = spec.triggers.branches[0]
    notifications = spec.notifications
    return {
        "path_filters": path_filters(spec, repo),
        "release_branch": branch,
        "plan_file": PLAN_FILE,
        "uses_workflow": {name.removesuffix(".yml"): LOCAL + repo.shared_workflow(name) for name in SHARED_WORKFLOWS},
        "self_repository": SELF_REPOSITORY,
        "dispatch_inputs": dispatch_inputs(dispatch),
        "pipeline_job": PIPELINE_JOB,
        "post_job": POST_JOB,
        "pipeline_with": pipeline_with,
        "release_jobs": jobs,
        "post_condition": github_cases(dispatch.post_release),
        "post_with": _with({**common, "subscription-id": subscription}, POST_INPUTS),
        "notify_with": _with(common, NOTIFY_INPUTS),
        "drift_with": _with({
            **common, "subscription-id": subscription, "endpoint": monitored.env.endpoint_name,
            "pipeline-workflow": repo.caller(model).rsplit("/", 1)[1],
            "release-branch": "" if "*" in branch else branch,
        }, DRIFT_INPUTS),
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_secret_name": notifications.webhook_secret if notifications.channel != "none" else "",
        "azure_permissions": AZURE_PERMISSIONS,
        "post_permissions": POST_PERMISSIONS,
        "read_permissions": READ_PERMISSIONS,
        "drift_permissions": DRIFT_PERMISSIONS,
    }


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    context = caller_context(spec, repo)
    files = [OutputFile(repo.caller(spec.model.name), f"{TEMPLATES}/caller.yml.j2", TARGET, extra=context)]
    if spec.monitoring.drift.enabled:
        files.append(OutputFile(repo.caller(spec.model.name, CALLER_DRIFT_SUFFIX), f"{TEMPLATES}/caller-drift.yml.j2",
                                TARGET, extra=context))
    return files
