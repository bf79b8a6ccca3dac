"""The training pipeline's stages: validate data -> train -> gates -> register -> model card.

Files passed between steps are `Ref("file", NAME)`: each platform decides where NAME lives (an artifact of the
run, a folder of the agent, run-local's results folder). Lineage tags are `Ref("tag", KEY)`, resolved to
`KEY=<the platform's value>`.
"""

from __future__ import annotations

from mlops_gen.pipeline.model import EXTENSION, Flags, Ref, Stage, Step
from mlops_gen.render.filters import number
from mlops_gen.spec.model import (
    LOWER_IS_BETTER,
    ProjectSpec,
    champion_metric,
    experiment_name,
    fairness_enabled,
    metric_gates,
)

# Lineage tags every training run and registered version carries; their values come from the platform.
TRAINING_TAGS = ("build_id", "commit", "branch")
REGISTRATION_TAGS = ("build_id", "build_number", "branch", "commit")


def file(name: str) -> Ref:
    return Ref("file", name)


def gate_flags(spec: ProjectSpec) -> Flags:
    """`--min metric=value` / `--max metric=value`, one per bound: the metric gate's one spelling."""
    return tuple((flag, f"{metric}={number(value)}") for metric, bound in metric_gates(spec).items()
                 for flag, value in (("--min", bound.min), ("--max", bound.max)) if value is not None)


def _tags(keys: tuple[str, ...], spec_tags: dict[str, str]) -> Flags:
    return (*(("--tag", Ref("tag", key)) for key in (*keys, "spec_hash")),
            *(("--tag", f"{key}={value}") for key, value in spec_tags.items()))


def _data(spec: ProjectSpec) -> Flags:
    """Where the data comes from: the asset on the cloud backend, the local file on run-local's."""
    return (("--dataset", spec.data.dataset), ("--dataset-version", spec.data.version),
            ("--data-path", Ref("data_path")))


def training_stages(spec: ProjectSpec) -> tuple[Stage, ...]:
    data, model, name = spec.data, spec.model, spec.model.name
    job = file("job")
    validate = Step("validate-data", "Validate the training data against its expectations",
                    "src/data_validation/validate_data.py", (
        *_data(spec), ("--expectations", data.expectations),
        ("--junit-output", file("data-validation.xml")), ("--report-output", file("data-validation.json")),
        ("--data-output", file("data"))),
        kind="gate", gate=True)
    train = (
        Step("train", "Submit the training job", "src/training/submit_training.py", (
            ("--experiment", experiment_name(spec)), ("--compute", spec.training.compute), *_data(spec),
            ("--data-file", file("data")),  # the data version validated, pinned: never `latest` a second time
            ("--target", data.target), ("--task", model.task), ("--config", spec.training.config),
            ("--test-size", data.test_size), ("--timeout-minutes", spec.training.timeout_minutes),
            ("--job-file", job), *_tags(TRAINING_TAGS, {}))),
        Step("wait", f"Wait for the training job (at most {spec.training.timeout_minutes} minutes)",
             "src/training/wait_for_completion.py", (
            ("--job-file", job), ("--timeout-minutes", spec.training.timeout_minutes))),
        Step("metrics", "Collect the training metrics", "src/training/get_metrics.py", (
            ("--job-file", job), ("--output", file("metrics")))),
    )
    gates = [Step("metric-gate", "Metric gates", "src/validation/validate_metrics.py", (
        ("--metrics-file", file("metrics")), *gate_flags(spec), ("--junit-output", file("metric-gates.xml"))),
        kind="gate", gate=True, azure=False)]  # compares numbers in a file: no cloud access
    if spec.champion_challenger.enabled:
        metric = champion_metric(spec)
        gates.append(Step("champion-challenger", f"Champion/challenger against the {spec.registry.aliases.production} "
                          "alias", "src/validation/champion_challenger.py", (
            ("--metrics-file", file("metrics")), ("--job-file", job), ("--target", data.target),
            ("--task", model.task), ("--model-name", name), ("--alias", spec.registry.aliases.production),
            ("--metric", metric), ("--direction", "lower" if metric in LOWER_IS_BETTER else "higher"),
            ("--min-improvement", spec.champion_challenger.min_improvement),
            ("--junit-output", file("champion-challenger.xml")), ("--output", file("champion-challenger"))),
            kind="gate", gate=True))
    if fairness_enabled(spec) and spec.fairness is not None and model.task == "classification":
        gates.append(Step("fairness-gate", f"Fairness gate ({spec.fairness.metric} at least "
                          f"{number(spec.fairness.threshold)})", "src/validation/fairness_assessment.py", (
            ("--job-file", job), ("--target", data.target),
            *(("--sensitive-feature", feature) for feature in spec.fairness.sensitive_features),
            ("--metric", spec.fairness.metric), ("--threshold", spec.fairness.threshold),
            ("--junit-output", file("fairness.xml")), ("--output", file("fairness"))), kind="gate", gate=True))
    if spec.explainability.enabled:
        gates.append(Step("explainability", f"Explainability report ({spec.explainability.method})",
                          "src/validation/explainability_analysis.py", (
            ("--job-file", job), ("--target", data.target), ("--method", spec.explainability.method),
            ("--top-features", spec.explainability.top_features), ("--output", file("explainability")))))
    register = (
        Step("register", "Register the model version with lineage tags", "src/registration/register_model.py", (
            ("--job-file", job), ("--model-name", name), ("--metrics-file", file("metrics")),
            *_tags(REGISTRATION_TAGS, spec.registry.tags), ("--output", file("version")))),
        Step("archive", f"Archive old versions (keep {spec.registry.keep_versions} and every aliased one)",
             "src/registration/archive_versions.py", (("--model-name", name),
                                                       ("--keep", spec.registry.keep_versions))),
        Step("model-card", "Generate the model card", "src/documentation/generate_model_card.py", (
            ("--model-name", name), ("--version-file", file("version")), ("--metrics-file", file("metrics")),
            *((("--fairness-file", file("fairness")),) if any(s.id == "fairness-gate" for s in gates) else ()),
            *((("--explainability-file", file("explainability")),) if spec.explainability.enabled else ()),
            ("--pipeline-config", Ref("pipeline_config")), ("--output", file("model-card")))),
    )
    return (Stage("data", "Data validation", (preflight(("training", "data", "registry")), validate)),
            Stage("train", "Training", (*extensions(spec, "before_training"), *train,
                                        *extensions(spec, "after_training"))),
            Stage("validate", "Model validation", (*gates, *extensions(spec, "after_validation"))),
            Stage("register", "Registration", register))


PREFLIGHT = "src/preflight/check_access.py"


def preflight(needs: tuple[str, ...], cluster: str | None = None) -> Step:
    """The first step of a pipeline's or release's Azure work: the identity's roles for it, each missing one named
    (exit 2) before anything runs, instead of a 403 minutes in."""
    flags: Flags = (*(("--need", need) for need in needs), *((("--cluster", cluster),) if cluster else ()))
    return Step("preflight", f"Check the Azure roles for {', '.join(needs)}", PREFLIGHT, flags, kind="check")


def extensions(spec: ProjectSpec, point: str) -> tuple[Step, ...]:
    """Your steps at an extension point (spec.extensions.<point>), in the model like every other step."""
    return tuple(Step(f"{point}-{index}", step.name, EXTENSION, path=step.script, kind="check")
                 for index, step in enumerate(getattr(spec.extensions, point)))
