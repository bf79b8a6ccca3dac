"""The pipeline model's releases in Azure DevOps' spelling: one deployment job per environment whose lifecycle hooks
hold the model's steps, in the model's order.

Azure runs a deployment job's hooks as separate agent jobs in a fixed order (preDeploy, deploy, routeTraffic,
postRouteTraffic, then on.success or on.failure; the canary strategy repeats deploy to postRouteTraffic per
increment with `$(strategy.increment)`):
https://learn.microsoft.com/azure/devops/pipelines/process/deployment-jobs#descriptions-of-lifecycle-hooks
So each step goes to the hook its kind belongs to, hooks never go backwards, and the endpoint description that
deploy.py writes travels between hooks as a pipeline artifact per environment, hook and job attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from mlops_gen.pipeline import Pipeline, Ref, Release, Step, When
from mlops_gen.pipeline.model import PYTEST
from mlops_gen.render.context import EnvView
from mlops_gen.render.filters import ShellRaw, sh
from mlops_gen.targets.azure_steps import PATHS, AzureStep, azure_step, resolve

INCREMENT = "$(strategy.increment)"  # the canary strategy's current increment, expanded by Azure per hook run
HOOKS = ("preDeploy", "deploy", "routeTraffic", "postRouteTraffic")
# The hook a step of each kind moves the release to; other kinds (tests, checks) stay in the current hook.
HOOK_OF_KIND = {"check": "preDeploy", "deploy": "deploy", "route": "routeTraffic", "monitor": "postRouteTraffic"}
# What a hook's endpoint description is published as (canary deploy hooks: per increment).
RUN_ONCE_TAGS = {"deploy": "release", "routeTraffic": "routed"}
# The model version this run releases, as the build stage published it (RELEASE_VERSION_ARTIFACT): the version the
# triggering training run registered, or, for a manual deploy or rollback, the version it asked for.
RELEASE_VERSION_ARTIFACT = "release-version"
RELEASE_VERSION_DIR = "outputs/release"
DEPLOYMENT_FILES = {"version": f'"${{PIPELINE_WORKSPACE}}/{RELEASE_VERSION_ARTIFACT}/model-version.json"'}
IMAGE = ShellRaw('"$(imageName):${BUILD_BUILDID}"')
NOTIFY_SCRIPT = "src/notification/send_notification.py"
DOCS_SCRIPT = "src/documentation/update_deployment_docs.py"
# Microsoft-hosted agents end a job after 6 hours (private projects), whatever timeoutInMinutes says.
HOSTED_JOB_LIMIT = 360


@dataclass(frozen=True)
class Item:
    """One entry of a hook's step list; the template spells each type."""

    type: str  # setup | kube_tools | download_none | download_version | download_endpoints | fetch | step | ...
    step: AzureStep | None = None
    dev: bool = False  # setup: the test requirements too
    path: str = ""  # publish / tests: what to publish
    artifact: str = ""  # publish: the artifact's name
    title: str = ""
    condition: str | None = None
    script: str = ""  # fetch: the bash that finds the endpoint description


@dataclass(frozen=True)
class AzureRelease:
    env: EnvView
    canary: bool  # the native canary strategy (else runOnce)
    increments: tuple[int, ...]
    hooks: tuple[tuple[str, tuple[Item, ...]], ...]
    on_failure: tuple[Item, ...]
    on_success: tuple[Item, ...]
    timeout: int
    final_tags: tuple[str, ...] = field(default=())  # what the release published, newest first


def endpoint_path(env_name: str) -> str:
    return f"{PATHS['endpoints_dir']}/{env_name}/endpoint.json"


def release_resolver(value: Any) -> Any:
    """Release-only values; the rest resolve as in the training pipeline."""
    if isinstance(value, Ref):
        if value.kind == "endpoint_file":
            return endpoint_path(value.arg)
        if value.kind == "image":
            return IMAGE
        if value.kind == "file" and value.arg in DEPLOYMENT_FILES:
            return ShellRaw(DEPLOYMENT_FILES[value.arg])
    return NotImplemented


def _azure(step: Step, condition: str | None, notify_env: dict[str, str] | None,
           env: EnvView | None = None) -> AzureStep:
    """Every release step runs with the service connection's login (endpoint keys and tokens come from it), but
    the notification, which needs none. `env`: the environment the step serves in."""
    base = azure_step(step, condition, release_resolver, env)
    prelude = ""
    variables = None
    if step.script == NOTIFY_SCRIPT and notify_env:
        secret = next(iter(notify_env))
        # An unset secret variable arrives as its own macro text.
        prelude = f'if [[ "${{{secret}:-}}" == "\\$("* ]]; then unset {secret}; fi\n'
        variables = notify_env
    cli = step.script != NOTIFY_SCRIPT
    return replace(base, script=prelude + base.script, cli=cli, subscription=cli and base.subscription,
                   env=variables)


def _artifact(kind: str, env: EnvView, tag: str) -> str:
    return f"{kind}-{env.name}-{tag}-a$(System.JobAttempt)"


def fetch_script(env: EnvView, tags: tuple[str, ...], required: bool) -> str:
    """Copy the newest published endpoint description (tags newest first, then the newest job attempt) to where
    the steps read it; a rollback finds none when the release failed before deploying."""
    target = endpoint_path(env.name)
    patterns = [f"  {sh(f'*/endpoint-{env.name}-{tag}-a*/endpoint.json')}" for tag in tags]
    lines = [
        'newest() { find "${PIPELINE_WORKSPACE}" -maxdepth 2 -path "$1" | sort -V | tail -n 1; }',
        'endpoint_file=""',
        "patterns=(",
        *patterns,
        ")",
        'for pattern in "${patterns[@]}"; do',
        '  endpoint_file="$(newest "${pattern}")"',
        '  if [[ -n "${endpoint_file}" ]]; then break; fi',
        "done",
        f"mkdir -p {sh(target.rsplit('/', 1)[0])}",
    ]
    if required:
        lines += ['test -n "${endpoint_file}" || { echo "no endpoint description found" >&2; exit 1; }',
                  f'cp "${{endpoint_file}}" {sh(target)}']
    else:
        lines += ['if [[ -n "${endpoint_file}" ]]; then', f'  cp "${{endpoint_file}}" {sh(target)}', "fi"]
    return "\n".join(lines)


def _symbolic(step: Step, pct: int) -> Step:
    """A canary increment's step with its share spelled as Azure's increment variable."""
    def value(flag: str, found: Any) -> Any:
        if flag == "--traffic-percentage" and found == pct:
            return INCREMENT
        if isinstance(found, Ref):
            return Ref(found.kind, found.arg.replace(f"-{pct}", f"-{INCREMENT}"))
        return found
    return replace(step, id=step.id.replace(f"-{pct}", f"-{INCREMENT}"),
                   name=step.name.replace(f"{pct}%", f"{INCREMENT}%"),
                   flags=tuple((flag, value(flag, found)) for flag, found in step.flags))


def _canary_steps(release: Release) -> list[Step]:
    """The increment phases as one symbolic phase, which Azure's canary strategy repeats per increment; every
    increment must be that phase with its own share, or the native strategy would not run the model."""
    increments = release.phase("increment")
    symbolic = [[_symbolic(step, phase.traffic or 0) for step in phase.steps] for phase in increments]
    if any(steps != symbolic[0] for steps in symbolic):
        raise ValueError(f"{release.env.name}: canary increments differ beyond their share")
    return symbolic[0]


def _by_hook(steps: list[Step]) -> dict[str, list[Step]]:
    """Each step in the hook of its kind, hooks in Azure's order and never going back."""
    out: dict[str, list[Step]] = {hook: [] for hook in HOOKS}
    current = 0
    for step in steps:
        wanted = HOOK_OF_KIND.get(step.kind)
        if wanted is not None:
            index = HOOKS.index(wanted)
            if index < current:
                raise ValueError(f"{step.id}: a {step.kind} step after the {HOOKS[current]} hook")
            current = index
        out[HOOKS[current]].append(step)
    return out


def _reads_endpoint(steps: list[Step]) -> bool:
    """A step reads the endpoint description before any step of the hook writes it."""
    for step in steps:
        if step.kind in ("deploy", "route"):
            return False
        if any(isinstance(value, Ref) and value.kind == "endpoint_file" for _, value in step.flags):
            return True
    return False


def _needs_training(steps: list[Step]) -> bool:
    return any(isinstance(value, Ref) and (value.kind == "image" or value.arg in DEPLOYMENT_FILES)
               for step in steps for _, value in step.flags)


class _HookBuilder:
    def __init__(self, env: EnvView, notify_env: dict[str, str] | None) -> None:
        self.env = env
        self.notify_env = notify_env
        self.published: list[str] = []  # endpoint descriptions published so far, in order

    def items(self, steps: list[Step], tag: str | None, rollback_condition: str | None = None,
              optional_fetch: bool = False) -> tuple[Item, ...]:
        out = [Item("setup", dev=any(step.script == PYTEST for step in steps))]
        if self.env.env.target == "aks":  # every hook is its own agent job: each needs kubectl and kubelogin
            out.append(Item("kube_tools", title="Install kubectl and kubelogin"))
        downloads = []
        if _needs_training(steps):
            downloads.append(Item("download_version"))
        reads = _reads_endpoint(steps) and self.published
        if reads:
            downloads.append(Item("download_endpoints"))
        out += downloads or [Item("download_none")]
        if reads:
            out.append(Item("fetch", title="Fetch the endpoint description",
                            script=fetch_script(self.env, tuple(reversed(self.published)), not optional_fetch)))
        for step in steps:
            condition = rollback_condition if step.when is When.FAILURE else None
            out.append(Item("step", _azure(step, condition, self.notify_env, self.env)))
            if step.script == PYTEST:
                out.append(Item("tests", path=str(resolve(step.value("--junitxml"), release_resolver)),
                                title=f"{step.name[0].lower()}{step.name[1:]} ({step.id})"))
        if tag is not None and any(step.kind in ("deploy", "route") for step in steps):
            out.append(Item("publish", path=f"{PATHS['endpoints_dir']}/{self.env.name}",
                            artifact=_artifact("endpoint", self.env, tag), title="Publish the endpoint description"))
            self.published.append(tag)
        if tag is not None and any(step.kind == "monitor" for step in steps):
            out.append(Item("publish", path=PATHS["reports_dir"], artifact=_artifact("monitor", self.env, tag),
                            title="Publish the monitoring report", condition="succeededOrFailed()"))
        return tuple(out)


def azure_release(release: Release, timeout_cap: int, notify_env: dict[str, str] | None) -> AzureRelease:
    env = release.env
    builder = _HookBuilder(env, notify_env)
    canary = release.strategy == "canary"
    increments = tuple(phase.traffic or 0 for phase in release.phase("increment")) if canary else ()
    rollout = _canary_steps(release) if canary else [step for phase in release.phases
                                                     if phase.kind == "increment" for step in phase.steps]
    predeploy = [step for phase in release.phase("predeploy") for step in phase.steps]
    by_hook = _by_hook(predeploy + rollout)
    hooks = []
    for hook in HOOKS:
        if by_hook[hook]:
            tag = INCREMENT if canary else RUN_ONCE_TAGS.get(hook, hook)
            hooks.append((hook, builder.items(by_hook[hook], tag)))
    if canary:  # the on hooks run once, after the last increment
        builder.published = [str(pct) for pct in increments]
    after = [step for phase in release.phases if phase.kind in ("verify", "promote") for step in phase.steps]
    on_success = builder.items(after + list(release.rollback), None, rollback_condition="failed()")
    on_failure = builder.items([replace(step, when=When.SUCCESS) for step in release.rollback], None,
                               optional_fetch=True)
    return AzureRelease(env=env, canary=canary, increments=increments, hooks=tuple(hooks), on_failure=on_failure,
                        on_success=on_success, timeout=min(release.timeout_minutes, timeout_cap),
                        final_tags=tuple(reversed(builder.published)))


def post_release(pipeline: Pipeline, releases: list[AzureRelease],
                 notify_env: dict[str, str] | None) -> tuple[Item, ...]:
    """The PostDeployment job: the model's post-release steps, each environment's endpoint description fetched
    first."""
    steps = list(pipeline.post_release)
    out = [Item("setup"), Item("download_version"), Item("download_endpoints")]
    for azure in releases:
        out.append(Item("fetch", title=f"Fetch the endpoint description of {azure.env.name}",
                        script=fetch_script(azure.env, azure.final_tags, True)))
    envs = [azure.env for azure in releases]
    out += [Item("step", _azure(step, None, notify_env, step.serving_env(envs))) for step in steps]
    records = sorted({str(resolve(value, release_resolver)).rsplit("/", 1)[0] for step in steps
                      if step.script == DOCS_SCRIPT for flag, value in step.flags if flag == "--output"})
    out += [Item("publish", path=folder, artifact="deployment-docs-a$(System.JobAttempt)",
                 title="Publish the deployment records", condition="succeededOrFailed()") for folder in records]
    return tuple(out)


def deployment_context(pipeline: Pipeline, notify_env: dict[str, str] | None) -> dict[str, Any]:
    releases = [azure_release(release, HOSTED_JOB_LIMIT, notify_env) for release in pipeline.releases]
    return {"releases": releases, "post_release": post_release(pipeline, releases, notify_env)}
