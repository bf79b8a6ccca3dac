"""Planner for the azure_devops target: the training and the deployment pipeline of one model.

Values that need a little logic (run-time conditions, job timeouts, where files land between jobs) are computed
here, so the templates only place them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.build import DRIFT_DETECTED, MODEL_REGISTERED, cloud_drift
from mlops_gen.pipeline.dispatch import ACTIONS, INPUTS, NO_ENVIRONMENT, NO_VERSION, TRAIN, Case, Dispatch
from mlops_gen.pipeline.training import gate_flags
from mlops_gen.render.filters import script_call, sh
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import ProjectSpec, fairness_enabled
from mlops_gen.targets.azure_release import (
    RELEASE_VERSION_ARTIFACT,
    RELEASE_VERSION_DIR,
    AzureRelease,
    deployment_context,
)
from mlops_gen.targets.azure_steps import AZURE, PATHS, azure_step, training_steps
from mlops_gen.targets.github_actions import PIP_AUDIT

# The pipeline model's stand-alone notices this platform sends (Pipeline.notifications), by key: the registration
# stage's last step (a version registered) and the drift monitor's Notify job (drift found); no pipeline-failure
# notice. The per-model templates spell their own calls (training.yml, drift-monitor.yml); the monorepo layout's
# shared templates send the plan's notify:<event> parts.
NOTIFICATIONS = {"registered": MODEL_REGISTERED, "drift": DRIFT_DETECTED}
VM_IMAGE = "ubuntu-24.04"  # pinned: `ubuntu-latest` moves under a pipeline without a diff

ARTIFACTS = {
    "data": "validated-data",  # the data version validation pinned, for training
    "training": "training",
    "validation": "validation-reports",
    "registered_model": "registered-model",
    "model_card": "model-card",
}


def release_condition(branch: str) -> tuple[str | None, list[str]]:
    """The `releaseBranchRef` variable value and the lines of a stage condition true on pushes and schedules of
    `branch` (a name or a glob), never on pull requests. The branch travels as a variable, so the expression
    itself carries no spec text."""
    prefix = branch.split("*", 1)[0]
    lines = ["and(succeeded(),"]
    if prefix == branch:
        lines.append("eq(variables['Build.SourceBranch'], variables['releaseBranchRef']),")
    elif prefix:
        # A glob: match its literal prefix; Azure expressions have no glob matching.
        lines.append("startsWith(variables['Build.SourceBranch'], variables['releaseBranchRef']),")
    else:
        return None, [*lines, "ne(variables['Build.Reason'], 'PullRequest'))"]
    return f"refs/heads/{prefix}", [*lines, "ne(variables['Build.Reason'], 'PullRequest'))"]


def timeouts(spec: ProjectSpec) -> dict[str, int]:
    """Job timeouts in minutes of the jobs outside the pipeline model's releases (those carry their own), each with
    room for setup on a fresh agent."""
    return {
        "setup": 30,
        "training": spec.training.timeout_minutes + 30,
        "validation": 60,
        "registration": 30,
        "build": 45,
        "post": 30,
    }


def repeated_args(spec: ProjectSpec) -> dict[str, list[tuple[str, str]]]:
    """Flag lists that repeat per spec item, one `(flag, value)` per gate bound, feature, tag or recipient."""
    gates = list(gate_flags(spec))
    features = [("--sensitive-feature", name) for name in spec.fairness.sensitive_features] \
        if fairness_enabled(spec) and spec.fairness else []
    notify = [("--channel", spec.notifications.channel), ("--webhook-env", spec.notifications.webhook_secret)]
    notify += [("--email", email) for email in spec.notifications.email]
    return {
        "gate_args": gates,
        "feature_args": features,
        "registry_tag_args": [("--tag", f"{key}={value}") for key, value in spec.registry.tags.items()],
        "notify_args": notify,
        "alert_args": [("--alert-email", email) for email in spec.monitoring.alerts.email],
    }


# The manual operations reach the deployment pipeline as runtime parameters (a triggered run takes the defaults,
# train: what it did before); conditions read them through these variables, steps through env.
# https://learn.microsoft.com/azure/devops/pipelines/process/runtime-parameters
ACTION_VARIABLE = "dispatchAction"
ENVIRONMENT_VARIABLE = "dispatchEnvironment"
TRAINS = f"eq(variables['{ACTION_VARIABLE}'], '{TRAIN.name}')"
DISPATCHED = f"ne(variables['{ACTION_VARIABLE}'], '{TRAIN.name}')"
BUILD_STAGE = "BuildContainer"
# The predefined variable holding the run's ref, as scripts see it ("refs/heads/<branch>").
REF_VARIABLE = "BUILD_SOURCEBRANCH"


def _succeeded(stage: str) -> str:
    return f"in(dependencies.{stage}.result, 'Succeeded', 'SucceededWithIssues')"


def azure_cases(cases: tuple[Case, ...], previous: str | None = None) -> list[str]:
    """The model's cases (Dispatch) as the lines of one condition: or() of the cases, and() of a case's action, the
    environment named and the previous stage's success (on a line of its own)."""
    terms = []
    for case in cases:
        parts = [TRAINS if case.trains else DISPATCHED]
        if case.environment is not None:  # a spec name ([a-z0-9-]): safe inside a string literal
            parts.append(f"eq(variables['{ENVIRONMENT_VARIABLE}'], '{case.environment}')")
        if case.after_previous and previous:
            parts.append(f"\n{_succeeded(previous)}")
        terms.append(parts[0] if len(parts) == 1 else "and(" + ", ".join(parts).replace(", \n", ",\n") + ")")
    text = terms[0] if len(terms) == 1 else "or(" + ",\n".join(terms) + ")"
    return text.split("\n")


def stage_conditions(dispatch: Dispatch, releases: list[AzureRelease]) -> dict[str, Any]:
    """The pipeline model's cases (Dispatch) as stage conditions: each release stage by Dispatch.release (after
    the previous one, or alone when named), the post-deployment stage by Dispatch.post_release. A condition
    replaces the default succeeded(), and would run even in a cancelled run, hence not(canceled()):
    https://learn.microsoft.com/azure/devops/pipelines/process/conditions"""
    post = azure_cases(dispatch.post_release)
    out: dict[str, Any] = {"post": ["and(succeeded(),", *post[:-1], post[-1] + ")"], "releases": {}}
    for release in releases:
        env = release.env
        previous = f"DeployTo{env.previous}" if env.previous else None
        lines = azure_cases(dispatch.release(env.name), previous)
        out["releases"][env.name] = {
            "depends_on": [BUILD_STAGE, *([previous] if previous else [])],
            # Lines of a folded scalar (`>-`): YAML joins them with spaces.
            "condition": [f"and(not(canceled()), {_succeeded(BUILD_STAGE)},", *lines[:-1], lines[-1] + ")"],
        }
    return out


def dispatch_context(spec: ProjectSpec, dispatch: Dispatch, releases: list[AzureRelease]) -> dict[str, Any]:
    action, environment, version = INPUTS
    version_file = f"{RELEASE_VERSION_DIR}/model-version.json"

    def export(alias: str) -> str:
        return str(script_call("src/deployment/export_model.py", [
            ("--model-name", "$(modelName)"), ("--alias", alias), ("--output-dir", "model"),
            ("--output", version_file), *AZURE], indent=4))

    return {
        "parameters": [
            # This pipeline trains nothing itself: its "train" releases what the training pipeline registered.
            {"name": action.name, "displayName": f"{TRAIN.name} (release what training registered last), deploy "
                                                 "a version, or roll back an environment",
             "default": TRAIN.name,
             "values": [a.name for a in ACTIONS]},
            {"name": environment.name, "displayName": environment.description + " (deploy, rollback)",
             "default": NO_ENVIRONMENT, "values": [NO_ENVIRONMENT, *dispatch.environments]},
            {"name": version.name, "displayName": version.description, "default": NO_VERSION, "values": None},
        ],
        "variables": {ACTION_VARIABLE: "${{ parameters." + action.name + " }}",
                      ENVIRONMENT_VARIABLE: "${{ parameters." + environment.name + " }}"},
        "env": {item.variable: "${{ parameters." + item.name + " }}" for item in INPUTS},
        "trains": TRAINS,
        "dispatched": DISPATCHED,
        "guard": dispatch.guard(REF_VARIABLE),
        "resolve": f"mkdir -p {sh(RELEASE_VERSION_DIR)}\n"
                   + dispatch.resolve_script(spec.model.name, sh(version_file), export, REF_VARIABLE),
        "artifact": RELEASE_VERSION_ARTIFACT,
        "dir": RELEASE_VERSION_DIR,
        "version_file": version_file,
        "conditions": stage_conditions(dispatch, releases),
    }


def _extra(spec: ProjectSpec) -> dict[str, Any]:
    pipeline = build_pipeline(spec)
    # The webhook is a secret variable (pipeline settings or a variable group, never YAML): secrets reach a
    # step only through an explicit env mapping.
    notify_env = ({spec.notifications.webhook_secret: f"$({spec.notifications.webhook_secret})"}
                  if spec.notifications.channel != "none" else None)
    deployment = deployment_context(pipeline, notify_env)
    assert pipeline.dispatch is not None
    return {
        **deployment,
        "dispatch": dispatch_context(spec, pipeline.dispatch, deployment["releases"]),
        # The drift check's step is named: its result is an output variable the Retrain stage's condition reads.
        "drift_steps": [replace(azure_step(step, env=step.serving_env(r.env for r in pipeline.releases)),
                                ref_name="drift") for step in cloud_drift(spec, pipeline)],
        "training": training_steps(pipeline.training),
        **repeated_args(spec),
        "vm_image": VM_IMAGE,
        "pip_audit": PIP_AUDIT,  # one pin for both platforms' dependency audit
        "paths": PATHS,
        "artifacts": ARTIFACTS,
        "timeouts": timeouts(spec),
        "release_ref": release_condition(spec.triggers.branches[0])[0],
        "registration_condition": release_condition(spec.triggers.branches[0])[1],
        "release_branch": spec.triggers.branches[0],
        "notify_env": notify_env,
    }


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    extra = _extra(spec)
    files = [
        OutputFile("azure-pipelines/training.yml", "azure_devops/training.yml.j2", "azure_devops", extra=extra),
        OutputFile("azure-pipelines/deployment.yml", "azure_devops/deployment.yml.j2", "azure_devops",
                   extra=extra),
    ]
    if spec.monitoring.drift.enabled:
        files.append(OutputFile("azure-pipelines/drift-monitor.yml", "azure_devops/drift-monitor.yml.j2",
                                "azure_devops", extra=extra))
    return files


# The monorepo layout's hooks (protocol: mlops_gen/layout; design: docs of issue 14) live in azure_monorepo, which
# builds on this module: imported when called, so neither module imports the other at load time.
def monorepo_shared(repo: Any) -> list[OutputFile]:
    from mlops_gen.targets import azure_monorepo

    return azure_monorepo.monorepo_shared(repo)


def monorepo_model(spec: ProjectSpec, repo: Any) -> list[OutputFile]:
    from mlops_gen.targets import azure_monorepo

    return azure_monorepo.monorepo_model(spec, repo)
