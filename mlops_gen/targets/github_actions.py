"""Planner for the github_actions target: one pipeline workflow and, when drift monitoring is on, a drift workflow.

Everything that runs in one GitHub run lives in one workflow (`ml-pipeline.yml`): artifacts pass between jobs of a
run, whereas chaining workflows needs `workflow_run`, a trigger zizmor rightly calls dangerous. The deployment
chain (job ids, `needs`, canary increments, rollback jobs) is computed here so the template stays declarative.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mlops_gen.errors import UserError
from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline import Pipeline, Ref, Release, Step, When, build_pipeline
from mlops_gen.pipeline.azure import SUBSCRIPTION as AZURE_SUBSCRIPTION
from mlops_gen.pipeline.azure import azure_flags, relogins
from mlops_gen.pipeline.build import DRIFT_DETECTED, PIPELINE_FAILED, cloud_drift
from mlops_gen.pipeline.dispatch import ACTIONS, INPUTS, NO_ENVIRONMENT, TRAIN, Case, Dispatch
from mlops_gen.pipeline.model import EXTENSION, PYTEST
from mlops_gen.render.context import EnvView
from mlops_gen.render.filters import ShellRaw, env_value, number, script_call, sh
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec

WORKFLOWS = ".github/workflows"
RUNNER = "ubuntu-24.04"  # pinned like the Azure DevOps vmImage: `ubuntu-latest` moves without a diff
# Files of the model folder the workflows rely on (written by the scripts, docker and k8s targets).
PIPELINE_CONFIG = "config/pipeline.yaml"
SMOKE_TEST_DATA = "tests/data/smoke_test_data.json"
MANIFESTS = "k8s"  # one folder of manifests per AKS environment: k8s/<environment>/
VERSION_FILE = "model-version.json"
# The dependency audit tool, pinned like every other tool of the pipeline (its findings change between releases).
PIP_AUDIT = "pip-audit==2.10.1"
# The image built by this run, by digest (the build job's output, in each release job's env): a retrain of the same
# commit (schedule, drift, a re-run) builds a new model into a new image, which a reused tag would hide from Azure ML
# and from nodes caching the tag.
IMAGE = ShellRaw('"${IMAGE_REFERENCE}"')
BUILD_JOB = "build-image"
RUN_URL = ShellRaw('"run=${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"')

Flags = list[tuple[str, Any]]

# Jobs of ml-pipeline.yml that do not come from an environment.
FIXED_JOBS = ("code-quality", "security-scan", "data-validation", "train", "validate-model", "register-model",
              "build-image", "post-deployment", "release", "notify-failure")
# The pipeline model's stand-alone notices this platform sends (Pipeline.notifications), by the workflows' key: the
# pipeline's notify-failure job (any failed job of a run) and the drift workflow's notify job (drift found). Neither
# layout's GitHub workflows send a registration notice.
NOTIFICATIONS = {"failed": PIPELINE_FAILED, "drift": DRIFT_DETECTED}
# GitHub-hosted runners end any job after 6 hours, whatever timeout-minutes says.
HOSTED_JOB_LIMIT = 360
# Where the model's Ref("file", ...) names land in a job's working directory (artifacts carry them between jobs).
FILES = {"version": VERSION_FILE, "job": "training-job.json", "model-card": "model-card.md"}
TAGS = {"build_id": '"build_id=${GITHUB_RUN_ID}"', "build_number": '"build_number=${GITHUB_RUN_NUMBER}"',
        "branch": '"branch=${GITHUB_REF_NAME}"', "commit": '"commit=${GITHUB_SHA}"'}
GITHUB_CONDITIONS = {When.SUCCESS: None, When.FAILURE: "failure()", When.ALWAYS: "always()"}


def file_path(name: str) -> str:
    """A model file name as this platform's path: JUnit reports under test-results/, JSON by default."""
    if name in FILES:
        return FILES[name]
    if name.endswith(".xml"):
        return f"test-results/{name}"
    return name if "." in name.rsplit("/", 1)[-1] else f"{name}.json"


# The spec hash is of the spec file's bytes, known when rendering, not when planning: the planner writes this token
# and the template puts the hash in its place (a token no spec value can hold: `_` and `@` around it).
SPEC_HASH_TOKEN = "@_SPEC_HASH_@"  # noqa: S105 - a placeholder, not a secret


def resolve(value: Any) -> Any:
    """A model value as GitHub Actions spells it: Refs become files, shell variables of the run, or literals;
    None for a value the cloud run does not pass (the local data file)."""
    if not isinstance(value, Ref):
        return number(value) if isinstance(value, float) else value
    if value.kind == "file":
        return file_path(value.arg)
    if value.kind == "endpoint_file":
        return f"endpoint-{value.arg}.json"
    if value.kind == "tag":
        return f"spec_hash={SPEC_HASH_TOKEN}" if value.arg == "spec_hash" else ShellRaw(TAGS[value.arg])
    if value.kind == "data_path":
        return None
    if value.kind == "variable":  # a repository or environment variable, mapped into the step's env (run_step)
        return env_value(value.arg)
    return {"image": IMAGE, "run_url": RUN_URL, "pipeline_config": PIPELINE_CONFIG}[value.kind]


@dataclass(frozen=True)
class RunStep:
    """A model step as one `run:` step of a job."""

    name: str
    run: str
    condition: str | None
    env: dict[str, str]
    kind: str
    relogin: bool = False  # log in to Azure again first (see fresh_logins)


def fresh_logins(steps: list[Step], runs: list[RunStep], late: bool = False) -> list[RunStep]:
    """The runs, each logging in again (azure/login requests a new OIDC token) where pipeline.azure.relogins
    says the step follows one that can outlive the login."""
    return [replace(run, relogin=True) if relogin else run
            for run, relogin in zip(runs, relogins(steps, late), strict=True)]


@dataclass(frozen=True)
class ReleaseJob:
    """One environment's release as one job: one approval, the rollback inside it (it never waits for one)."""

    id: str
    name: str
    needs: tuple[str, ...]  # the previous environment's job, and the build job for the image digest
    release: Release
    steps: list[RunStep]
    rollback: list[RunStep]
    timeout: int
    rollback_job: str | None  # the job that rolls back when this one was cancelled or timed out
    reports: list[str] = field(default_factory=list)
    condition: str = ""  # its `if:` (dispatch_conditions): a push releases in order, a manual run one environment

    @property
    def env(self) -> EnvView:
        return self.release.env

    @property
    def endpoint_file(self) -> str:
        return f"endpoint-{self.env.name}.json"

    @property
    def subscription(self) -> str | None:
        """Its environment's own subscription: the job logs in to it (AZURE_SUBSCRIPTION_ID in the job's env), so
        the Azure CLI calls of its scripts (AKS credentials, container groups) act there too."""
        return self.env.own_subscription


SUBSCRIPTION = ShellRaw('"${AZURE_SUBSCRIPTION_ID}"')  # the job's (see own_subscription)


def _azure_flags(spec: ProjectSpec, step: Step) -> Flags:
    """pipeline.azure.azure_flags, the job's subscription as this platform spells it."""
    return [(flag, SUBSCRIPTION if value == AZURE_SUBSCRIPTION else value) for flag, value in azure_flags(spec, step)]


def _secret_env(spec: ProjectSpec) -> dict[str, str]:
    secret = spec.notifications.webhook_secret
    return {secret: "${{ secrets." + secret + " }}"} if spec.notifications.channel != "none" else {}


def run_step(spec: ProjectSpec, step: Step, indent: int = 10) -> RunStep:
    flags = [(flag, found) for flag, value in step.flags if (found := resolve(value)) is not None]
    env: dict[str, str] = {}
    if step.script == PYTEST:
        args = [f"--junitxml={sh(value)}" if flag == "--junitxml" else f"{flag} {sh(value)}" if flag else sh(value)
                for flag, value in flags]
        run = (" \\\n" + " " * indent + "  ").join([f"python -m pytest {args[0]}", *args[1:]])
    elif step.script == EXTENSION:
        run = f"{'bash' if step.path.endswith('.sh') else 'python'} {sh(step.path)}"
    else:
        run = str(script_call(step.script, flags + (_azure_flags(spec, step) if step.azure else []), indent=indent))
    if step.script == "src/notification/send_notification.py":
        env = _secret_env(spec)
    if step.kind in ("deploy", "route") and step.value("--target") == "aci":
        env = {"ACI_ACR_IDENTITY": "${{ vars.ACI_ACR_IDENTITY }}"}  # the identity the container group pulls with
    for _, value in step.flags:  # variables reach the script through env, never spliced into its text
        if isinstance(value, Ref) and value.kind == "variable":
            env = {**env, value.arg: "${{ vars." + value.arg + " }}"}
    return RunStep(step.name, run, GITHUB_CONDITIONS[step.when], env, step.kind)


def release_jobs(spec: ProjectSpec, pipeline: Pipeline, first_needs: str = BUILD_JOB) -> list[ReleaseJob]:
    """Environments in order, each one job needing the previous environment's."""
    jobs = []
    needs = first_needs
    for release in pipeline.releases:
        job_id = f"deploy-{release.env.name}"
        steps = fresh_logins(list(release.steps()), [run_step(spec, step) for step in release.steps()])
        rollback = fresh_logins(list(release.rollback), [run_step(spec, step) for step in release.rollback],
                                late=True)
        has_rollback = any(step.kind == "rollback" for step in release.rollback)
        reports = sorted({file_path(value.arg) for step in release.steps() for _, value in step.flags
                          if isinstance(value, Ref) and value.kind == "file" and value.arg.startswith("monitor-")})
        jobs.append(ReleaseJob(id=job_id, name=f"Deploy to {release.env.name} ({release.strategy})",
                               needs=tuple(dict.fromkeys((needs, BUILD_JOB))),
                               release=release, steps=steps, rollback=rollback,
                               timeout=min(release.timeout_minutes, HOSTED_JOB_LIMIT),
                               rollback_job=f"rollback-{release.env.name}" if has_rollback else None,
                               reports=reports))
        needs = job_id
    _unique_job_ids(jobs)
    return jobs


def _unique_job_ids(jobs: list[ReleaseJob]) -> None:
    """Job ids derive from environment names; two names may meet ('prod' and a job 'rollback-prod'), and a
    repeated YAML key would silently drop a job."""
    seen: dict[str, str] = {job: "the pipeline" for job in FIXED_JOBS}
    for job in jobs:
        for job_id in (job.id, job.rollback_job):
            if job_id is None:
                continue
            if job_id in seen:
                raise UserError(f"environment {job.env.name!r} needs the GitHub Actions job id {job_id!r}, which "
                                f"{seen[job_id]} already uses: rename the environment")
            seen[job_id] = f"environment {job.env.name!r}"


# The action of this run: a manual run's input; other triggers have no inputs (`inputs.action` is empty) and train.
# `inputs` holds a workflow_dispatch run's inputs with their types; for other events it is empty:
# https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#inputs-context
ACTION = f"(inputs.action || '{TRAIN.name}')"
TRAINS = f"{ACTION} == '{TRAIN.name}'"
DISPATCHED = f"{ACTION} != '{TRAIN.name}'"


def dispatch_env() -> dict[str, str]:
    """The inputs as the env of a step: untrusted text reaches the shell as variables, never spliced into `run:`."""
    values = {"action": ACTION}
    return {item.variable: "${{ " + values.get(item.name, f"inputs.{item.name}") + " }}" for item in INPUTS}


def _results(needs: tuple[str, ...]) -> str:
    return " && ".join(f"needs.{need}.result == 'success'" for need in needs)


def github_cases(cases: tuple[Case, ...], previous: tuple[str, ...] = ()) -> str:
    """The model's cases (Dispatch) as one expression: any case; in a case, the action, the environment named and
    the previous job's success. Several cases come one per line (a folded scalar joins them with spaces)."""
    terms = []
    for case in cases:
        parts = [TRAINS if case.trains else DISPATCHED]
        if case.environment is not None:  # a spec name ([a-z0-9-]): safe inside a string literal
            parts.append(f"inputs.{INPUTS[1].name} == '{case.environment}'")
        if case.after_previous and previous:
            parts.append(_results(previous))
        terms.append(" && ".join(parts))
    return terms[0] if len(terms) == 1 else "(" + "\n|| ".join(f"({term})" for term in terms) + ")"


def dispatch_conditions(dispatch: Dispatch, jobs: list[ReleaseJob], build_needs: tuple[str, ...]) -> dict[str, str]:
    """The `if:` of each job whose running depends on the action: the cases of the pipeline model (Dispatch).

    A job whose need was skipped is skipped, unless its `if:` calls a status function; `!cancelled()` keeps it
    while honouring a cancellation, and then the conditions name each need's result themselves:
    https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idneeds
    https://docs.github.com/en/actions/reference/workflows-and-actions/expressions#status-check-functions
    - training (data validation, and so train, gates, registration): Dispatch.training;
    - the image build: after registration, or, when the run trains nothing (a manual operation), after the checks
      of the code (the first job also checks the inputs): it then builds the image of the requested version;
    - a release job: Dispatch.release (in order after the previous environment's, or alone when named);
    - the post-release work: Dispatch.post_release (its needs' success is implied: no status function).
    """
    registration, *checks = build_needs
    training = github_cases(dispatch.training)
    untrained = DISPATCHED if training == TRAINS else f"!({training})"  # no training planned: a manual operation
    out = {
        "training": training,
        "dispatched": untrained,
        "build": f"!cancelled() && (needs.{registration}.result == 'success'\n|| ({untrained}\n"
                 f"&& {_results(tuple(checks))}))",
        "post_release": github_cases(dispatch.post_release),
    }
    for job in jobs:
        previous = tuple(need for need in job.needs if need != BUILD_JOB)
        out[job.id] = release_job_condition(dispatch, job.env.name, previous, BUILD_JOB)
    return out


def release_job_condition(dispatch: Dispatch, environment: str, previous: tuple[str, ...], build_job: str) -> str:
    """The `if:` of an environment's release job: Dispatch.release, after the job building the image (and, for a
    push, the previous environment's). Lines of a folded scalar (`>-`): YAML joins them with spaces."""
    return (f"!cancelled() && needs.{build_job}.result == 'success'\n"
            f"&& {github_cases(dispatch.release(environment), previous)}")


# The runner's variable holding the run's ref ("refs/heads/<branch>" for a branch's run).
REF_VARIABLE = "GITHUB_REF"


def dispatch_inputs(dispatch: Dispatch) -> dict[str, dict[str, Any]]:
    """`on.workflow_dispatch.inputs`: the action and the environment as choices (from the pipeline model), the
    version as text (the guard checks it)."""
    action, environment, version = INPUTS
    return {
        action.name: {"description": action.description, "type": "choice", "required": True,
                      "default": TRAIN.name, "options": [a.name for a in ACTIONS]},
        environment.name: {"description": environment.description + " (deploy, rollback)", "type": "choice",
                           "required": False, "default": NO_ENVIRONMENT,
                           "options": [NO_ENVIRONMENT, *dispatch.environments]},
        version.name: {"description": version.description, "type": "string", "required": False, "default": ""},
    }


def notice_flags(step: Step) -> Flags:
    """A stand-alone notification's flags (Pipeline.notifications) as a workflow passes them."""
    return [(flag, resolve(value)) for flag, value in step.flags]


def _artifact_files(pipeline: Pipeline) -> dict[str, list[str]]:
    """What each training job uploads: the files first named in its stage, which its steps write (an earlier
    stage's files arrive by download); JUnit reports as the test-results/ folder."""
    out: dict[str, list[str]] = {}
    seen: set[str] = set()
    for stage in pipeline.training:
        named = {file_path(value.arg) for step in stage.steps for _, value in step.flags
                 if isinstance(value, Ref) and value.kind == "file"}
        written = sorted(named - seen)
        seen |= named
        reports = ["test-results/"] if any(path.startswith("test-results/") for path in written) else []
        out[stage.id] = reports + [path for path in written if not path.startswith("test-results/")]
    return out


def release_condition(branch: str) -> str:
    """The `if:` of the registration job: pushes, schedules and dispatches of the release branch, never PRs.

    A glob branch matches by its literal prefix (expressions have no glob matching); the branch name's alphabet
    (spec.types.BranchName) holds no quote, so it sits safely inside the expression's string literal.
    """
    prefix = branch.split("*", 1)[0]
    condition = "github.event_name != 'pull_request'"
    if prefix == branch:
        return f"{condition} && github.ref == 'refs/heads/{branch}'"
    if prefix:
        return f"{condition} && startsWith(github.ref, 'refs/heads/{prefix}')"
    return condition


def pipeline_context(spec: ProjectSpec) -> dict[str, Any]:
    """Everything ml-pipeline.yml needs beyond the shared context: the release jobs and each call's flags."""
    pipeline = build_pipeline(spec)
    assert pipeline.dispatch is not None
    dispatch = pipeline.dispatch
    jobs = release_jobs(spec, pipeline)
    scans = spec.ci.security_scans
    build_needs = ("register-model", "code-quality",
                   *(("security-scan",) if scans.bandit or scans.dependency_audit else ()))
    conditions = dispatch_conditions(dispatch, jobs, build_needs)
    jobs = [replace(job, condition=conditions[job.id]) for job in jobs]
    monitored = pipeline.monitored
    training = {stage.id: fresh_logins(list(stage.steps), [run_step(spec, step) for step in stage.steps])
                for stage in pipeline.training}
    return {
        "training": training,
        "training_files": _artifact_files(pipeline),
        "release_jobs": jobs,
        "post_release": [run_step(spec, step) for step in pipeline.post_release],
        "drift_steps": [run_step(spec, step) for step in cloud_drift(spec, pipeline)],
        "runner": RUNNER,
        "release_branch": spec.triggers.branches[0],
        "pip_audit": PIP_AUDIT,
        "release_condition": release_condition(spec.triggers.branches[0]),
        "last_deploy_job": jobs[-1].id,
        "monitored": monitored,
        "pipeline_config": PIPELINE_CONFIG,
        # The job waits for the Azure ML training job, plus setup; a longer wait cannot run on a hosted runner.
        "train_timeout": min(spec.training.timeout_minutes + 30, HOSTED_JOB_LIMIT),
        # The notices this platform sends of the pipeline model's stand-alone ones (NOTIFICATIONS).
        "notify_flags": {key: notice_flags(pipeline.notifications[event]) for key, event in NOTIFICATIONS.items()
                         if event in pipeline.notifications},
        "secret_env": _secret_env(spec),
        "dispatch_inputs": dispatch_inputs(dispatch),
        "retrain_input": f"{INPUTS[0].name}={TRAIN.name}",  # the drift workflow's dispatch of ml-pipeline.yml
        "dispatch_env": dispatch_env(),
        "dispatch_conditions": conditions,
        "build_needs": build_needs,
        "guard_script": dispatch.guard(REF_VARIABLE),
        "resolve_script": dispatch.resolve_script(spec.model.name, VERSION_FILE, lambda alias: str(script_call(
            "src/deployment/export_model.py", [
                ("--model-name", spec.model.name), ("--alias", alias), ("--output-dir", "model"),
                ("--output", VERSION_FILE), ("--workspace", spec.azure.workspace),
                ("--resource-group", spec.azure.resource_group), ("--subscription-id", SUBSCRIPTION)], indent=4)),
            REF_VARIABLE),
    }


def monorepo_shared(repo: Monorepo) -> list[OutputFile]:
    """The monorepo layout's shared reusable workflows (mlops_gen.targets.github_monorepo)."""
    from mlops_gen.targets import github_monorepo

    return github_monorepo.monorepo_shared(repo)


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    """A model's thin callers of the shared workflows in the monorepo layout (mlops_gen.targets.github_monorepo)."""
    from mlops_gen.targets import github_monorepo

    return github_monorepo.monorepo_model(spec, repo)


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    context = pipeline_context(spec)
    files = [OutputFile(f"{WORKFLOWS}/ml-pipeline.yml", "github_actions/ml-pipeline.yml.j2", "github_actions",
                        extra=context)]
    if spec.monitoring.drift.enabled:
        files.append(OutputFile(f"{WORKFLOWS}/drift-monitor.yml", "github_actions/drift-monitor.yml.j2",
                                "github_actions", extra=context))
    return files
