"""Planner for the github_actions target: one pipeline workflow and, when drift monitoring is on, a drift workflow.

Everything that runs in one GitHub run lives in one workflow (`ml-pipeline.yml`): artifacts pass between jobs of a
run, whereas chaining workflows needs `workflow_run`, a trigger zizmor rightly calls dangerous. The deployment
chain (job ids, `needs`, canary increments, rollback jobs) is computed here so the template stays declarative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mlops_gen.render.context import EnvView, environments
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec

WORKFLOWS = ".github/workflows"

# Deployment names inside an endpoint (Azure ML) or Deployment suffixes (AKS), per rollout strategy.
DEPLOYMENT_NAMES: dict[str, tuple[str, str]] = {
    "canary": ("stable", "canary"),
    "blue_green": ("blue", "green"),
    "rolling": ("stable", "stable"),
    "direct": ("stable", "stable"),
}


@dataclass(frozen=True)
class DeployJob:
    """One job of an environment's rollout."""

    id: str
    name: str
    kind: str  # direct | rolling | canary | green | swap
    needs: str
    traffic: int | None = None  # canary traffic percentage; 0 for the idle blue-green colour
    first: bool = False  # runs the pre-deployment checks
    last: bool = False  # finishes the environment: promotion, tests, extensions, endpoint artifact


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
    timeout_minutes: int
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
        green = DeployJob(id=f"deploy-{env.name}-green", name=f"Deploy {label}: green (idle)", kind="green",
                          needs=needs, traffic=0, first=True)
        swap = DeployJob(id=f"swap-{env.name}", name=f"Swap {label}: green takes all traffic", kind="swap",
                         needs=green.id, last=True)
        return [green, swap]
    return [DeployJob(id=f"deploy-{env.name}", name=f"Deploy {label}", kind=env.strategy, needs=needs,
                      first=True, last=True)]


def deployment_plan(spec: ProjectSpec, first_needs: str = "build-image") -> list[EnvPlan]:
    """Environments in order, each needing the previous one's last job."""
    plans = []
    needs = first_needs
    monitor_minutes = -(-spec.rollout.monitor.duration_seconds // 60)  # ceiling
    for env in environments(spec):
        jobs = _env_jobs(spec, env, needs)
        stable, candidate = DEPLOYMENT_NAMES[env.strategy]
        rollback = None
        if env.strategy in ("canary", "blue_green") and spec.rollout.auto_rollback:
            rollback = RollbackJob(id=f"rollback-{env.name}", needs=[job.id for job in jobs])
        plans.append(EnvPlan(env=env, stable=stable, candidate=candidate, jobs=jobs, rollback=rollback,
                             timeout_minutes=30 + monitor_minutes))
        needs = jobs[-1].id
    return plans


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    plans = deployment_plan(spec)
    files = [OutputFile(f"{WORKFLOWS}/ml-pipeline.yml", "github_actions/ml-pipeline.yml.j2", "github_actions",
                        extra={"deploy_plan": plans, "last_deploy_job": plans[-1].last_job})]
    if spec.monitoring.drift.enabled:
        files.append(OutputFile(f"{WORKFLOWS}/drift-monitor.yml", "github_actions/drift-monitor.yml.j2",
                                "github_actions", extra={"monitored": _monitored(plans)}))
    return files


def _monitored(plans: list[EnvPlan]) -> EnvPlan:
    """The environment whose traffic the drift monitor watches: the first production-like one, else the last."""
    return next((plan for plan in plans if plan.env.production), plans[-1])
