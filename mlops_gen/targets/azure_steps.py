"""The pipeline model's steps in Azure DevOps' spelling: files under the agent's working folders, the run's
variables, and an AzureCLI@2 task (or a plain bash step) per step. The templates only place them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mlops_gen.pipeline import Ref, Step
from mlops_gen.pipeline.model import EXTENSION, PYTEST
from mlops_gen.render.context import EnvView
from mlops_gen.render.filters import ShellRaw, env_value, number, script_call, sh

# Where stage outputs live in the agent's working directory; artifacts carry them between jobs and pipelines.
PATHS = {
    "training_dir": "outputs/training",
    "job_file": "outputs/training/training-job.json",
    "metrics_file": "outputs/training/metrics.json",
    "reports_dir": "reports",
    "registration_dir": "outputs/registration",
    "version_file": "outputs/registration/model-version.json",
    "model_card": "outputs/registration/model-card.md",
    "endpoints_dir": "outputs/endpoints",
    "docs_dir": "outputs/docs",
    "pipeline_config": "config/pipeline.yaml",
    "smoke_data": "tests/data/smoke_test_data.json",
    "endpoint_tests": "tests/endpoint",
    "image_dir": "outputs/image",
    "data_dir": "outputs/data",
    "data_file": "outputs/data/data.json",
}
FILES = {"data": PATHS["data_file"], "job": PATHS["job_file"], "metrics": PATHS["metrics_file"],
         "version": PATHS["version_file"], "model-card": PATHS["model_card"]}
TAGS = {"build_id": '"build_id=${BUILD_BUILDID}"', "build_number": '"build_number=${BUILD_BUILDNUMBER}"',
        "branch": '"branch=${BUILD_SOURCEBRANCHNAME}"', "commit": '"commit=${BUILD_SOURCEVERSION}"'}
# The spec hash is of the spec file's bytes, known when rendering: the template puts it in place of this token.
SPEC_HASH_TOKEN = "@_SPEC_HASH_@"  # noqa: S105 - a placeholder, not a secret
# Flags naming a file the step writes: its folder is made first.
WRITES = frozenset({"--output", "--junit-output", "--report-output", "--job-file", "--junitxml"})
SUBSCRIPTION = ShellRaw('"${subscription_id}"')  # the task's login's (azure_cli in _steps.j2)
AZURE = [("--workspace", "$(workspaceName)"), ("--resource-group", "$(resourceGroup)"),
         ("--subscription-id", SUBSCRIPTION)]


def coordinates(env: EnvView | None) -> list[tuple[str, Any]]:
    """The coordinates a step's scripts act on: the training workspace's (the pipeline's variables), or those of
    the environment it serves in, with the training workspace as --registry-* (model versions, aliases and
    training data stay there)."""
    if env is None or not env.separate:
        return AZURE
    flags: list[tuple[str, Any]] = [
        ("--workspace", env.azure.workspace), ("--resource-group", env.azure.resource_group),
        ("--subscription-id", SUBSCRIPTION), ("--registry-workspace", "$(workspaceName)"),
        ("--registry-resource-group", "$(resourceGroup)")]
    if env.own_subscription:  # spec.semantic makes sure the pipeline's subscriptionId is set then
        flags.append(("--registry-subscription-id", "$(subscriptionId)"))
    return flags


def file_path(name: str) -> str:
    """A model file name as a path of the agent: training and registration outputs in their folders, reports
    (JUnit and JSON) under reports/."""
    if name in FILES:
        return FILES[name]
    return f"{PATHS['reports_dir']}/{name if '.' in name.rsplit('/', 1)[-1] else name + '.json'}"


Resolver = Callable[[Any], Any]  # a pipeline's own values first (NotImplemented: not one of them)


def resolve(value: Any, own: Resolver | None = None) -> Any:
    """A model value as an Azure DevOps step passes it; None for a value a cloud run does not pass."""
    if own is not None and (found := own(value)) is not NotImplemented:
        return found
    if not isinstance(value, Ref):
        return number(value) if isinstance(value, float) else value
    if value.kind == "file":
        return file_path(value.arg)
    if value.kind == "tag":
        return f"spec_hash={SPEC_HASH_TOKEN}" if value.arg == "spec_hash" else ShellRaw(TAGS[value.arg])
    if value.kind == "data_path":
        return None
    if value.kind == "variable":  # a pipeline variable: Azure Pipelines passes those to scripts as environment
        return env_value(value.arg)  # variables (secret ones excepted)
    return {"pipeline_config": PATHS["pipeline_config"], "run_url": ShellRaw('"run=${BUILD_BUILDNUMBER}"')}[value.kind]


@dataclass(frozen=True)
class AzureStep:
    name: str
    script: str
    cli: bool  # an AzureCLI@2 task (the service connection's login); else a plain bash step
    subscription: bool  # looks up the subscription id for --subscription-id
    condition: str | None = None
    keep_session: bool = False  # a long wait: the task keeps its Azure CLI session alive
    env: dict[str, str] | None = None  # secrets reach a step only through an explicit mapping
    ref_name: str | None = None  # the step's `name:`, for output variables
    # An environment's own service connection and subscription, spelled out: Azure DevOps authorizes a task's
    # service connection when it compiles the run, before job or stage variables exist
    # (learn.microsoft.com/azure/devops/pipelines/library/service-endpoints; github.com/microsoft/
    # azure-pipelines-tasks/issues/12036: a job-level variable there fails the run).
    connection: str | None = None
    account: str | None = None


def azure_step(step: Step, condition: str | None = None, own: Resolver | None = None,
               env: EnvView | None = None) -> AzureStep:
    """`env`: the environment the step serves in (its step.served_in), for its coordinates and identity."""
    connection = env.own_connection if env is not None else None
    account = env.own_subscription if env is not None else None
    if step.script == EXTENSION:
        runner = "bash" if step.path.endswith(".sh") else "python"
        return AzureStep(step.name, f"{runner} {sh(step.path)}", cli=True, subscription=False, condition=condition,
                         connection=connection, account=account)
    flags = [(flag, found) for flag, value in step.flags if (found := resolve(value, own)) is not None]
    folders = sorted({path.rsplit("/", 1)[0] for flag, path in flags if flag in WRITES and isinstance(path, str)
                      and path.startswith(("outputs/", "reports/"))})
    lines = [f"mkdir -p {' '.join(sh(folder) for folder in folders)}"] if folders else []
    if step.script == PYTEST:
        args = [f"{flag}={sh(v)}" if flag == "--junitxml" else f"{flag} {sh(v)}" if flag else sh(v)
                for flag, v in flags]
        lines.append(" \\\n  ".join([f"python -m pytest {args[0]}", *args[1:]]))
    else:
        lines.append(str(script_call(step.script, (coordinates(env) if step.azure else []) + flags)))
    return AzureStep(step.name, "\n".join(lines), cli=step.azure, subscription=step.azure, condition=condition,
                     keep_session=step.id == "wait" or step.kind == "monitor", connection=connection,
                     account=account)


def training_steps(stages: Any) -> dict[str, list[AzureStep]]:
    """Per training stage its steps; in the validation stage every gate runs even when an earlier one failed, so
    one run reports every failing gate (the job still fails)."""
    out: dict[str, list[AzureStep]] = {}
    for stage in stages:
        out[stage.id] = [azure_step(step, "succeededOrFailed()" if stage.id == "validate" and index else None)
                         for index, step in enumerate(stage.steps)]
    return out
