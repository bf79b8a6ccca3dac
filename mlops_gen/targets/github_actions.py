"""Planner for the github_actions target: one pipeline workflow and, when drift monitoring is on, a drift workflow.

Everything that runs in one GitHub run lives in one workflow (`ml-pipeline.yml`): artifacts pass between jobs of a
run, whereas chaining workflows needs `workflow_run`, a trigger zizmor rightly calls dangerous. The deployment
chain (job ids, `needs`, canary increments, rollback jobs) is computed here so the template stays declarative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlops_gen.errors import UserError
from mlops_gen.render.context import EnvView, environments
from mlops_gen.render.filters import ShellRaw, number
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec, fairness_enabled, metric_gates

WORKFLOWS = ".github/workflows"
RUNNER = "ubuntu-24.04"  # pinned like the Azure DevOps vmImage: `ubuntu-latest` moves without a diff
# Files of the model folder the workflows rely on (written by the scripts, docker and k8s targets).
PIPELINE_CONFIG = "config/pipeline.yaml"
SMOKE_TEST_DATA = "tests/data/smoke_test_data.json"
MANIFESTS = "k8s"  # one folder of manifests per AKS environment: k8s/<environment>/
VERSION_FILE = "model-version.json"
# The dependency audit tool, pinned like every other tool of the pipeline (its findings change between releases).
PIP_AUDIT = "pip-audit==2.10.1"
# The image built by this run: immutable per commit. Both variables are set by GitHub or the workflow's env.
IMAGE = ShellRaw('"${IMAGE_REPOSITORY}:${GITHUB_SHA}"')
RUN_URL = ShellRaw('"run=${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}"')

Flags = list[tuple[str, Any]]

# Jobs of ml-pipeline.yml that do not come from an environment.
FIXED_JOBS = ("code-quality", "security-scan", "data-validation", "train", "validate-model", "register-model",
              "build-image", "post-deployment", "release", "notify-failure")


@dataclass(frozen=True)
class DeployJob:
    """One job of an environment's rollout."""

    id: str
    name: str
    kind: str  # direct | rolling | canary | green | swap
    needs: str
    traffic: int | None = None  # the candidate's traffic percentage; None: the stable deployment takes it all
    first: bool = False  # runs the pre-deployment checks
    last: bool = False  # finishes the environment: promotion, tests, extensions, endpoint artifact

    @property
    def monitors(self) -> bool:
        """Watches live traffic against the rollout limits (an idle blue-green candidate has none)."""
        return self.kind in ("canary", "swap", "rolling")


@dataclass(frozen=True)
class RollbackJob:
    id: str
    needs: list[str]


@dataclass(frozen=True)
class EnvPlan:
    env: EnvView
    stable: str
    candidate: str
    jobs: list[DeployJob]
    rollback: RollbackJob | None
    endpoint_file: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "endpoint_file", f"endpoint-{self.env.name}.json")

    @property
    def last_job(self) -> str:
        return self.jobs[-1].id


def _env_jobs(spec: ProjectSpec, env: EnvView, needs: str) -> list[DeployJob]:
    label = env.name
    if env.strategy == "canary":
        steps = spec.rollout.increments
        jobs = []
        for index, percentage in enumerate(steps):
            jobs.append(DeployJob(id=f"deploy-{env.name}-canary-{percentage}",
                                  name=f"Deploy {label}: canary {percentage}%", kind="canary", needs=needs,
                                  traffic=percentage, first=index == 0, last=index == len(steps) - 1))
            needs = jobs[-1].id
        return jobs
    if env.strategy == "blue_green":
        # The candidate is deployed and tested without traffic, then takes all of it while the stable deployment
        # stays up: monitoring under real traffic decides between promote (fold into stable) and rollback.
        green = DeployJob(id=f"deploy-{env.name}-green", name=f"Deploy {label}: idle candidate (blue-green)",
                          kind="green", needs=needs, traffic=0, first=True)
        swap = DeployJob(id=f"swap-{env.name}", name=f"Swap {label}: the candidate takes all traffic", kind="swap",
                         needs=green.id, traffic=100, last=True)
        return [green, swap]
    return [DeployJob(id=f"deploy-{env.name}", name=f"Deploy {label}", kind=env.strategy, needs=needs,
                      first=True, last=True)]


# GitHub-hosted runners end any job after 6 hours, whatever timeout-minutes says.
HOSTED_JOB_LIMIT = 360
# Creating or updating an Azure ML online deployment alone can take 15-20 minutes.
DEPLOY_MINUTES = 60


def job_timeout(spec: ProjectSpec, job: DeployJob) -> int:
    """Minutes for one rollout job: the deployment, plus the observation window when the job monitors."""
    monitor_minutes = -(-spec.rollout.monitor.duration_seconds // 60)  # ceiling
    return min(DEPLOY_MINUTES + (monitor_minutes if job.monitors else 0), HOSTED_JOB_LIMIT)


def deployment_plan(spec: ProjectSpec, first_needs: str = "build-image") -> list[EnvPlan]:
    """Environments in order, each needing the previous one's last job."""
    plans = []
    needs = first_needs
    for env in environments(spec):
        jobs = _env_jobs(spec, env, needs)
        # Canary and blue-green serve the candidate next to the stable deployment; rolling and direct replace
        # the stable deployment in place.
        stable = env.stable_deployment
        candidate = env.candidate_deployment if env.strategy in ("canary", "blue_green") else stable
        rollback = None
        if env.strategy in ("canary", "blue_green") and spec.rollout.auto_rollback:
            rollback = RollbackJob(id=f"rollback-{env.name}", needs=[job.id for job in jobs])
        plans.append(EnvPlan(env=env, stable=stable, candidate=candidate, jobs=jobs, rollback=rollback))
        needs = jobs[-1].id
    _unique_job_ids(plans)
    return plans


def _unique_job_ids(plans: list[EnvPlan]) -> None:
    """Job ids derive from environment names; two names may meet ('prod' canary 10 vs 'prod-canary-10'), and a
    repeated YAML key would silently drop a job."""
    seen: dict[str, str] = {job: "the pipeline" for job in FIXED_JOBS}
    for plan in plans:
        ids = [job.id for job in plan.jobs] + ([plan.rollback.id] if plan.rollback else [])
        for job_id in ids:
            if job_id in seen:
                raise UserError(f"environment {plan.env.name!r} needs the GitHub Actions job id {job_id!r}, which "
                                f"{seen[job_id]} already uses: rename the environment")
            seen[job_id] = f"environment {plan.env.name!r}"


def _target_flags(env: EnvView) -> Flags:
    """Where an environment's deployments live: the cluster for AKS, nothing more for endpoints."""
    if env.env.target == "aks":
        return [("--namespace", env.env.namespace), ("--cluster", env.env.cluster)]
    return []


def _deploy_flags(spec: ProjectSpec, plan: EnvPlan, job: DeployJob) -> Flags:
    env = plan.env
    flags: Flags = [("--target", env.env.target), ("--environment", env.name), ("--model-name", spec.model.name),
                    ("--version-file", VERSION_FILE), ("--endpoint-name", env.endpoint_name), ("--image", IMAGE),
                    ("--deployment-name", plan.candidate),
                    ("--traffic-percentage", 100 if job.traffic is None else job.traffic)]
    if env.env.target == "aks":
        flags += [*_target_flags(env), ("--manifests", f"{MANIFESTS}/{env.name}")]
    elif env.env.target == "azureml_online_endpoint":
        flags += [("--instance-type", env.env.instance_type), ("--instance-count", env.env.instance_count)]
    else:
        flags += [("--location", spec.azure.location)]
    return [*flags, ("--output", plan.endpoint_file)]


def _monitor_flags(spec: ProjectSpec, plan: EnvPlan, job: DeployJob) -> Flags:
    monitor = spec.rollout.monitor
    flags: Flags = [("--endpoint-file", plan.endpoint_file), ("--deployment-name", plan.candidate),
                    ("--duration-seconds", monitor.duration_seconds),
                    ("--interval-seconds", monitor.interval_seconds),
                    ("--max-error-rate", number(monitor.max_error_rate)),
                    ("--max-latency-ms", monitor.max_latency_ms)]
    if plan.stable != plan.candidate:
        flags.append(("--baseline-deployment", plan.stable))
    return [*flags, ("--output", f"monitor-{job.id}.json")]


def _swap_flags(plan: EnvPlan) -> Flags:
    """The flags rollback.py and promote.py share: which deployments of which endpoint."""
    return [("--target", plan.env.env.target), ("--endpoint-name", plan.env.endpoint_name),
            ("--stable-deployment", plan.stable), ("--candidate-deployment", plan.candidate),
            *_target_flags(plan.env)]


def _notify_flags(spec: ProjectSpec, event: str, status: str, details: Flags) -> Flags:
    notifications = spec.notifications
    return [("--event", event), ("--model-name", spec.model.name), ("--status", status), *details,
            ("--detail", RUN_URL), ("--channel", notifications.channel),
            ("--webhook-env", notifications.webhook_secret),
            *(("--email", email) for email in notifications.email)]


def _validation_flags(spec: ProjectSpec) -> dict[str, Any]:
    gate_flags: Flags = []
    for metric, bound in metric_gates(spec).items():
        if bound.min is not None:
            gate_flags.append(("--min", f"{metric}={number(bound.min)}"))
        if bound.max is not None:
            gate_flags.append(("--max", f"{metric}={number(bound.max)}"))
    fairness = fairness_enabled(spec) and spec.fairness is not None
    fairness_flags: Flags = ([("--sensitive-feature", feature) for feature in spec.fairness.sensitive_features]
                             if fairness and spec.fairness is not None else [])
    validation_files = ["test-results/"]
    if spec.champion_challenger.enabled:
        validation_files.append("champion-challenger.json")
    if fairness:
        validation_files.append("fairness.json")
    if spec.explainability.enabled:
        validation_files.append("explainability.json")
    card: Flags = [("--model-name", spec.model.name), ("--version-file", VERSION_FILE),
                   ("--metrics-file", "metrics.json")]
    if fairness:
        card.append(("--fairness-file", "fairness.json"))
    if spec.explainability.enabled:
        card.append(("--explainability-file", "explainability.json"))
    card += [("--pipeline-config", PIPELINE_CONFIG), ("--output", "model-card.md")]
    return {
        "gate_flags": gate_flags,
        "fairness_flags": fairness_flags,
        "validation_files": validation_files,
        "registry_tag_flags": [("--tag", f"{key}={value}") for key, value in spec.registry.tags.items()],
        "model_card_flags": card,
    }


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
    """Everything ml-pipeline.yml needs beyond the shared context: the deployment chain and each call's flags."""
    plans = deployment_plan(spec)
    monitored = _monitored(plans)
    drift = spec.monitoring.drift
    notify = {
        "deployed": _notify_flags(spec, "deployment", "succeeded",
                                  [("--detail", f"environments={','.join(p.env.name for p in plans)}")]),
        "failed": _notify_flags(spec, "pipeline", "failed", []),
        "drift": _notify_flags(spec, "drift", "drift_detected",
                               [("--detail", f"endpoint={monitored.env.endpoint_name}")]),
        **{f"rollback-{plan.env.name}": _notify_flags(spec, "rollback", "rolled_back",
                                                      [("--detail", f"environment={plan.env.name}")])
           for plan in plans},
    }
    return {
        "deploy_plan": plans,
        "runner": RUNNER,
        "release_branch": spec.triggers.branches[0],
        "pip_audit": PIP_AUDIT,
        "release_condition": release_condition(spec.triggers.branches[0]),
        "last_deploy_job": plans[-1].last_job,
        "monitored": monitored,
        "pipeline_config": PIPELINE_CONFIG,
        "smoke_test_data": SMOKE_TEST_DATA,
        # The job waits for the Azure ML training job, plus setup; a longer wait cannot run on a hosted runner.
        "train_timeout": min(spec.training.timeout_minutes + 30, HOSTED_JOB_LIMIT),
        "job_timeouts": {job.id: job_timeout(spec, job) for plan in plans for job in plan.jobs},
        "deploy_flags": {job.id: _deploy_flags(spec, plan, job) for plan in plans for job in plan.jobs},
        "monitor_flags": {job.id: _monitor_flags(spec, plan, job) for plan in plans for job in plan.jobs},
        "promote_flags": {plan.env.name: [*_swap_flags(plan), ("--model-name", spec.model.name),
                                          ("--alias", spec.registry.aliases.production),
                                          ("--version-file", VERSION_FILE)] for plan in plans},
        "rollback_flags": {plan.env.name: _swap_flags(plan) for plan in plans},
        "notify_flags": notify,
        "monitoring_flags": [("--endpoint-name", monitored.env.endpoint_name), ("--model-name", spec.model.name),
                             ("--method", drift.method), ("--threshold", number(drift.threshold)),
                             ("--schedule", drift.schedule),
                             *(("--alert-email", email) for email in spec.monitoring.alerts.email)],
        **_validation_flags(spec),
    }


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    context = pipeline_context(spec)
    files = [OutputFile(f"{WORKFLOWS}/ml-pipeline.yml", "github_actions/ml-pipeline.yml.j2", "github_actions",
                        extra=context)]
    if spec.monitoring.drift.enabled:
        files.append(OutputFile(f"{WORKFLOWS}/drift-monitor.yml", "github_actions/drift-monitor.yml.j2",
                                "github_actions", extra=context))
    return files


def _monitored(plans: list[EnvPlan]) -> EnvPlan:
    """The environment whose traffic the drift monitor watches: the first production-like one, else the last."""
    return next((plan for plan in plans if plan.env.production), plans[-1])
