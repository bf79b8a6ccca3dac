"""`build_pipeline(spec)`: the one place the stage sequence and the release order are decided."""

from __future__ import annotations

from dataclasses import replace

from mlops_gen.memo import per_spec
from mlops_gen.pipeline.dispatch import Dispatch
from mlops_gen.pipeline.model import Pipeline, Ref, Release, Step, Value, monitored_release
from mlops_gen.pipeline.release import NOTIFY_SCRIPT, alias_of, notify_flags, releases
from mlops_gen.pipeline.training import training_stages
from mlops_gen.render.context import EnvView
from mlops_gen.render.filters import number
from mlops_gen.spec.model import ProjectSpec

# Targets whose deployments collect production data (Azure ML's data collector, src/serving/collection.py) and
# that Azure ML model monitoring can watch (configure_monitoring.py refuses the others).
MONITORING_TARGETS = frozenset({"azureml_online_endpoint"})
# The collection the scoring app logs inputs to (serving/collection.py INPUTS: a test keeps the two equal); Azure ML
# registers it as the data asset `<endpoint>-<deployment>-<collection>`.
COLLECTED_INPUTS = "model_inputs"
# The pipeline variable naming the recent production inputs when the watched deployment collects none (AKS, ACI).
DRIFT_CURRENT_VARIABLE = "DRIFT_CURRENT_DATA"
# What a stand-alone notification is about (Pipeline.notifications; the monorepo runner's part notify:<event>).
PIPELINE_FAILED = "pipeline_failed"  # any job of a pipeline run failed
MODEL_REGISTERED = "model_registered"  # the registration stage registered a version
DRIFT_DETECTED = "drift_detected"  # the scheduled drift check found drift (and started retraining)
NOTIFICATION_EVENTS = (PIPELINE_FAILED, MODEL_REGISTERED, DRIFT_DETECTED)


def collects_production_data(env: EnvView) -> bool:
    """Whether an environment's deployments log their inputs for Azure ML model monitoring to read."""
    return env.env.target in MONITORING_TARGETS


def training_data(spec: ProjectSpec) -> str:
    """The training data asset, as drift is measured against it (the scheduled check, the Azure ML monitor)."""
    return f"azureml:{spec.data.dataset}:{spec.data.version}"


def _post_release(spec: ProjectSpec, rel: tuple[Release, ...]) -> tuple[Step, ...]:
    steps: list[Step] = []
    monitored = monitored_release(rel)
    drift = spec.monitoring.drift
    if drift.enabled and collects_production_data(monitored.env):
        steps.append(Step("configure-monitoring", f"Configure drift monitoring on {monitored.env.endpoint_name}",
                          "src/monitoring/configure_monitoring.py", (
                              ("--endpoint-name", monitored.env.endpoint_name), ("--model-name", spec.model.name),
                              ("--method", drift.method), ("--threshold", number(drift.threshold)),
                              ("--schedule", drift.schedule),
                              *(("--alert-email", email) for email in spec.monitoring.alerts.email),
                              ("--reference-data", training_data(spec)), ("--target", spec.data.target)),
                          served_in=monitored.env.name))
    for release in rel:
        steps.append(Step(f"docs-{release.env.name}", f"Update the deployment record of {release.env.name}",
                          "src/documentation/update_deployment_docs.py", (
                              ("--model-name", spec.model.name), ("--environment", release.env.name),
                              ("--endpoint-file", release.endpoint_file), ("--version-file", Ref("file", "version")),
                              ("--output", Ref("file", f"deployment-docs/{release.env.name}.md")))))
    steps.append(Step("notify", "Notify the team (deployed)", NOTIFY_SCRIPT,
                      notify_flags(spec, "deployment", "succeeded",
                                   (f"environments={','.join(r.env.name for r in rel)}",)), azure=False))
    return tuple(steps)


def _drift(spec: ProjectSpec, watched: EnvView) -> tuple[Step, ...]:
    """The scheduled drift check: the training data (where the registry is) against what `watched` served."""
    drift = spec.monitoring.drift
    if not drift.enabled:
        return ()
    name = f"Compare production inputs with the training data ({drift.method}, threshold {number(drift.threshold)})"
    return (Step("detect-drift", name, "src/monitoring/detect_drift.py", (
        ("--reference", Ref("drift_reference")), ("--current", Ref("drift_current")), ("--target", spec.data.target),
        ("--method", drift.method), ("--threshold", number(drift.threshold)),
        ("--output", Ref("file", "drift-report"))), kind="check",
        # what an Azure ML endpoint collected is in its workspace; a team's own inputs (AKS, ACI) in training's
        served_in=watched.name if collects_production_data(watched) else ""),)


def _notifications(spec: ProjectSpec, watched: EnvView) -> dict[str, Step]:
    """The stand-alone notices, by event (a platform sends those its pipelines send: see Pipeline.notifications)."""
    out = {
        PIPELINE_FAILED: Step("notify-pipeline-failed", "Notify the team (pipeline failed)", NOTIFY_SCRIPT,
                              notify_flags(spec, "pipeline", "failed", ()), azure=False),
        MODEL_REGISTERED: Step("notify-model-registered", "Notify the team (model registered)", NOTIFY_SCRIPT,
                               notify_flags(spec, "model_registered", "succeeded", (Ref("tag", "branch"),)),
                               azure=False),
    }
    if spec.monitoring.drift.enabled:
        found = notify_flags(spec, "drift", "drift_detected", (f"endpoint={watched.endpoint_name}",))
        out[DRIFT_DETECTED] = Step("notify-drift-detected", "Notify the team (drift)", NOTIFY_SCRIPT, found,
                                   azure=False)
    return out


def drift_current(pipeline: Pipeline) -> Value:
    """Where the scheduled drift check reads production inputs: the data asset Azure ML's data collector registers
    for the watched deployment (`<endpoint>-<deployment>-model_inputs`); a deployment outside Azure ML endpoints
    collects nothing, so the team names its own recent inputs in a pipeline variable (the model README says how)."""
    env = pipeline.monitored.env
    if collects_production_data(env):
        return f"azureml:{env.endpoint_name}-{env.stable_deployment}-{COLLECTED_INPUTS}:latest"
    return Ref("variable", DRIFT_CURRENT_VARIABLE)


def cloud_drift(spec: ProjectSpec, pipeline: Pipeline) -> tuple[Step, ...]:
    """The drift check as both cloud platforms run it: the training data asset against the recent production
    inputs (drift_current)."""
    assets = {"drift_reference": training_data(spec),
              "drift_current": drift_current(pipeline)}
    return tuple(replace(step, flags=tuple((flag, assets[value.kind] if isinstance(value, Ref) and value.kind in assets
                                            else value) for flag, value in step.flags)) for step in pipeline.drift)


@per_spec  # the README, the callers and the plan file of one model each ask for it
def build_pipeline(spec: ProjectSpec) -> Pipeline:
    rel = releases(spec)
    watched = monitored_release(rel).env
    return Pipeline(training=training_stages(spec), releases=rel, post_release=_post_release(spec, rel),
                    drift=_drift(spec, watched),
                    dispatch=Dispatch(environments=tuple(r.env.name for r in rel),
                                      aliases=tuple((r.env.name, alias_of(spec, r.env)) for r in rel),
                                      branch=spec.triggers.branches[0]),
                    notifications=_notifications(spec, watched))
