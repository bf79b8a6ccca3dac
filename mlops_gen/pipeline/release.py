"""The release of one model version to each environment, in order, for every rollout strategy.

Rules every strategy keeps (issue 11):
- the candidate is tested before it is promoted; promotion (traffic folded onto the stable deployment and the
  environment's alias moved) is the last step, so a rollback at any earlier point finds the previous version still
  serving and still holding the alias;
- every strategy is monitored under traffic where it takes traffic in steps (canary, blue-green, rolling), and rolls
  back on any failure when `rollout.auto_rollback` is on; a first release (nothing stable yet) is rolled back by
  removing what it deployed;
- a blue-green candidate is tested directly while it has no traffic;
- one approval per environment per release: platforms run a release in one approved job (or deployment job);
- the rollback never waits for an approval: it runs inside that job.
"""

from __future__ import annotations

from dataclasses import replace

from mlops_gen.pipeline.model import PYTEST, Flags, Phase, Ref, Release, Step, Value, When
from mlops_gen.pipeline.training import extensions, preflight
from mlops_gen.render.context import EnvView, environments
from mlops_gen.spec.model import ProjectSpec

VERSION_FILE = Ref("file", "version")
IMAGE = Ref("image")
PIPELINE_CONFIG = Ref("pipeline_config")
SMOKE_DATA = "tests/data/smoke_test_data.json"
ENDPOINT_TESTS = "tests/endpoint"
# Minutes to create or update a deployment (an Azure ML online deployment alone takes 15-20) with its checks.
DEPLOY_MINUTES = 45


def _target_flags(env: EnvView) -> Flags:
    """Where an environment's deployments live: the cluster for AKS, nothing more for endpoints."""
    if env.env.target == "aks":
        return (("--namespace", env.env.namespace or ""), ("--cluster", env.env.cluster or ""))
    return ()


def deploy_step(spec: ProjectSpec, env: EnvView, step_id: str, deployment: str, traffic: int,
                kind: str = "deploy") -> Step:
    flags: Flags = (("--target", env.env.target), ("--environment", env.name), ("--model-name", spec.model.name),
                    ("--version-file", VERSION_FILE), ("--endpoint-name", env.endpoint_name), ("--image", IMAGE),
                    ("--deployment-name", deployment), ("--traffic-percentage", traffic))
    if env.env.target == "aks":
        flags += (*_target_flags(env), *_manifests(env))
    elif env.env.target == "azureml_online_endpoint":
        flags += (("--instance-type", env.env.instance_type), ("--instance-count", env.env.instance_count))
    else:
        flags += (("--location", env.azure.location),)
    share = "without traffic" if traffic == 0 else f"with {traffic}% of the traffic"
    verb = "Route" if kind == "route" else "Deploy"
    name = (f"{verb} {traffic}% of the traffic to {deployment}" if kind == "route"
            else f"{verb} {deployment} {share}" if deployment != env.stable_deployment
            else f"Deploy to {env.name}")
    return Step(step_id, name, "src/deployment/deploy.py", (*flags, ("--output", Ref("endpoint_file", env.name))),
                kind=kind)


def smoke_step(env: EnvView, step_id: str, deployment: str | None = None) -> Step:
    """The smoke test through the endpoint, or of one deployment directly (an idle blue-green candidate)."""
    flags: Flags = (("--endpoint-file", Ref("endpoint_file", env.name)), ("--test-data", SMOKE_DATA))
    if deployment:
        flags += (("--deployment-name", deployment),)
    name = f"Smoke test {deployment} directly" if deployment else f"Smoke test {env.name}"
    return Step(step_id, name, "tests/smoke_test.py", flags, kind="test", gate=True, azure=False)


def endpoint_tests(env: EnvView, step_id: str, deployment: str | None = None) -> Step:
    flags: Flags = (("--endpoint-file", Ref("endpoint_file", env.name)),)
    if deployment:
        flags += (("--deployment", deployment),)
    flags += (("--junitxml", Ref("file", f"endpoint-tests-{env.name}-{step_id}.xml")),)
    name = f"Endpoint tests on {deployment} directly" if deployment else f"Endpoint tests on {env.name}"
    return Step(step_id, name, PYTEST, (("", ENDPOINT_TESTS), *flags), kind="test", gate=True, azure=False)


def monitor_step(spec: ProjectSpec, env: EnvView, step_id: str, baseline: str | None) -> Step:
    """Watch what deploy.py deployed (the endpoint file names it: the candidate, or the stable deployment on a
    first release), against the limits and, when there is one, the stable deployment's latency."""
    monitor = spec.rollout.monitor
    flags: Flags = (("--endpoint-file", Ref("endpoint_file", env.name)),
                    ("--duration-seconds", monitor.duration_seconds),
                    ("--interval-seconds", monitor.interval_seconds), ("--max-error-rate", monitor.max_error_rate),
                    ("--max-latency-ms", monitor.max_latency_ms))
    if baseline:
        flags += (("--baseline-deployment", baseline),)
    flags += (("--output", Ref("file", f"monitor-{env.name}-{step_id}.json")),)
    return Step(step_id, f"Monitor for {monitor.duration_seconds}s (error rate, latency)",
                "src/deployment/monitor_deployment.py", flags, kind="monitor", gate=True)


def _manifests(env: EnvView) -> Flags:
    """AKS: the environment's manifests (deploy creates from them; promote creates the stable Deployment from
    them after a first release; promote and rollback steer the route they define, if any)."""
    return (("--manifests", f"k8s/{env.name}"),) if env.env.target == "aks" else ()


def _swap_flags(env: EnvView, candidate: str) -> Flags:
    return (("--target", env.env.target), ("--endpoint-name", env.endpoint_name),
            ("--stable-deployment", env.stable_deployment), ("--candidate-deployment", candidate),
            *_target_flags(env))


def _candidate(env: EnvView) -> str:
    return env.candidate_deployment if env.side_by_side else env.stable_deployment


def _increments(spec: ProjectSpec, env: EnvView) -> tuple[Phase, ...]:
    candidate, stable = _candidate(env), env.stable_deployment
    if env.strategy == "canary":
        return tuple(Phase("increment", (
            deploy_step(spec, env, f"deploy-{pct}", candidate, pct),
            smoke_step(env, f"smoke-{pct}"),
            monitor_step(spec, env, f"monitor-{pct}", stable)), traffic=pct) for pct in spec.rollout.increments)
    if env.strategy == "blue_green":
        return (Phase("increment", (deploy_step(spec, env, "deploy-idle", candidate, 0),
                                    smoke_step(env, "smoke-idle", candidate),
                                    endpoint_tests(env, "tests-idle", candidate)), traffic=0),
                Phase("increment", (deploy_step(spec, env, "switch", candidate, 100, kind="route"),
                                    monitor_step(spec, env, "monitor", stable)), traffic=100))
    steps = [deploy_step(spec, env, "deploy", stable, 100), smoke_step(env, "smoke")]
    if env.strategy == "rolling":
        steps.append(monitor_step(spec, env, "monitor", None))
    return (Phase("increment", tuple(steps), traffic=100),)


def _extensions(spec: ProjectSpec, env: EnvView) -> tuple[Step, ...]:
    return extensions(spec, "after_production_deployment" if env.production else "after_staging_deployment")


# The roles a release needs besides the model registry's (its alias, its pre-deployment checks), by target.
RELEASE_NEEDS = {"azureml_online_endpoint": "endpoint", "aks": "aks", "aci": "aci"}


def _preflight(env: EnvView) -> Step:
    return preflight(("registry", RELEASE_NEEDS[env.env.target]), env.env.cluster if env.env.target == "aks" else None)


def alias_of(spec: ProjectSpec, env: EnvView) -> str:
    """The alias a release moves when it completes: production-like environments hold the production alias, the
    others the staging alias (a version holds it once it passed a pre-production environment, not at
    registration)."""
    return str(spec.registry.aliases.production if env.production else spec.registry.aliases.staging)


def _promote(spec: ProjectSpec, env: EnvView) -> tuple[Step, ...]:
    alias = alias_of(spec, env)
    if env.side_by_side:
        return (Step("promote", f"Promote {env.candidate_deployment} to {env.stable_deployment} and set the {alias} "
                     "alias", "src/deployment/promote.py", (
                         *_swap_flags(env, env.candidate_deployment), *_manifests(env),
                         ("--model-name", spec.model.name),
                         ("--alias", alias), ("--version-file", VERSION_FILE)), kind="promote"),)
    return (Step("alias", f"Set the {alias} alias", "src/registration/promote_model.py", (
        ("--model-name", spec.model.name), ("--version-file", VERSION_FILE), ("--alias", alias)),
        kind="promote"),)


NOTIFY_SCRIPT = "src/notification/send_notification.py"


def notify_flags(spec: ProjectSpec, event: str, status: str, details: tuple[Value, ...]) -> Flags:
    """The notification script's flags: what happened, the facts (`details`, KEY=VALUE) and this run's link,
    where it goes."""
    notifications = spec.notifications
    return (("--event", event), ("--model-name", spec.model.name), ("--status", status),
            *(("--detail", detail) for detail in details), ("--detail", Ref("run_url")),
            ("--channel", notifications.channel), ("--webhook-env", notifications.webhook_secret),
            *(("--email", email) for email in notifications.email))


def _rollback(spec: ProjectSpec, env: EnvView) -> tuple[Step, ...]:
    notify = Step("notify-failure", "Notify the team (rollout failed)", NOTIFY_SCRIPT,
                  notify_flags(spec, "deployment", "rolled_back" if spec.rollout.auto_rollback else "failed",
                               (f"environment={env.name}",)), when=When.FAILURE, azure=False)
    if not spec.rollout.auto_rollback:
        return (notify,)
    return (Step("rollback", f"Roll back {env.name}", "src/deployment/rollback.py", (
        *_swap_flags(env, _candidate(env)), *_manifests(env), ("--endpoint-file", Ref("endpoint_file", env.name))),
        kind="rollback", when=When.FAILURE), notify)


def _timeout(spec: ProjectSpec, phases: list[Phase]) -> int:
    monitor_minutes = -(-spec.rollout.monitor.duration_seconds // 60)  # ceiling
    steps = [step for phase in phases for step in phase.steps]
    deploys = sum(step.kind in ("deploy", "route") for step in steps)
    monitors = sum(step.kind == "monitor" for step in steps)
    return 15 + deploys * DEPLOY_MINUTES + monitors * monitor_minutes


def releases(spec: ProjectSpec) -> tuple[Release, ...]:
    out = []
    before: EnvView | None = None  # the environment released before this one
    for env in environments(spec):
        predeploy = [_preflight(env)]
        if env.production:
            # The version about to be deployed passed the environment before (it holds that environment's
            # alias), or it is the one this environment was last promoted to (it holds this environment's alias: a
            # manual rollback redeploys it), and still meets the gates; a first environment has no earlier alias.
            passed = (("--alias", alias_of(spec, before)), ("--serving-alias", alias_of(spec, env))) if before else ()
            predeploy.append(Step("checks", "Pre-deployment checks", "src/deployment/pre_deployment_checks.py", (
                ("--model-name", spec.model.name), *passed, ("--version-file", VERSION_FILE),
                ("--pipeline-config", PIPELINE_CONFIG)), kind="check"))
        phases: list[Phase] = [Phase("predeploy", tuple(predeploy)), *_increments(spec, env)]
        verify: tuple[Step, ...] = ()
        if env.strategy == "blue_green":
            verify += (smoke_step(env, "smoke"),)
        else:
            verify += (endpoint_tests(env, "tests"),)
        phases.append(Phase("verify", verify + _extensions(spec, env)))
        promote = _promote(spec, env)
        if promote:
            phases.append(Phase("promote", promote))
        phases = [replace(phase, steps=tuple(step.serving(env.name) for step in phase.steps)) for phase in phases]
        out.append(Release(env=env, strategy=env.strategy, phases=tuple(phases),
                           rollback=tuple(step.serving(env.name) for step in _rollback(spec, env)),
                           approval=env.env.approval == "required", timeout_minutes=_timeout(spec, phases)))
        before = env
    return tuple(out)
