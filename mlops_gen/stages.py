"""The contract between generated pipelines and generated stage scripts: each script and the flags it accepts.

Pipeline templates build every `python <script> ...` line through `script_call`, which refuses a flag the
script does not declare; each generated script's argparse parser declares exactly these flags (a test checks
both directions on the rendered output). Flags whose value may repeat are marked `repeat`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    name: str
    required: bool = False
    repeat: bool = False
    switch: bool = False  # takes no value


def _flags(*specs: str) -> tuple[Flag, ...]:
    """'--x' optional, '--x!' required, '--x*' repeatable ('--x*!' both), '--x?' a switch."""
    out = []
    for spec in specs:
        name = spec.rstrip("!*?")
        marks = spec[len(name):]
        out.append(Flag(name, required="!" in marks, repeat="*" in marks, switch="?" in marks))
    return tuple(out)


# Flags every script accepts: the backend ('azure' in pipelines, 'local' for run-local) and Azure ML coordinates.
COMMON = _flags("--backend", "--workspace", "--resource-group", "--subscription-id", "--registry-workspace",
                "--registry-resource-group", "--registry-subscription-id", "--workdir")

SCRIPTS: dict[str, tuple[Flag, ...]] = {
    "src/data_validation/validate_data.py": _flags(
        "--data-path", "--dataset", "--dataset-version", "--expectations!", "--junit-output!", "--report-output",
        "--data-output"),
    "src/training/train.py": _flags(
        "--data-path!", "--target!", "--task!", "--config!", "--test-size", "--output-dir!"),
    "src/training/submit_training.py": _flags(
        "--experiment!", "--compute", "--dataset", "--dataset-version", "--data-path", "--data-file", "--target!",
        "--task!",
        "--config!", "--test-size", "--timeout-minutes", "--job-file!", "--tag*"),
    "src/preflight/check_access.py": _flags("--need*!", "--cluster"),
    "src/training/wait_for_completion.py": _flags("--job-file!", "--timeout-minutes!"),
    "src/training/get_metrics.py": _flags("--job-file!", "--output!"),
    "src/validation/validate_metrics.py": _flags("--metrics-file!", "--min*", "--max*", "--junit-output!"),
    "src/validation/champion_challenger.py": _flags(
        "--metrics-file!", "--job-file", "--target", "--task", "--model-name!", "--alias!", "--metric!",
        "--direction!", "--min-improvement", "--junit-output!", "--output"),
    "src/validation/fairness_assessment.py": _flags(
        "--job-file!", "--target!", "--sensitive-feature*", "--metric!", "--threshold!", "--junit-output!",
        "--output!"),
    "src/validation/explainability_analysis.py": _flags(
        "--job-file!", "--target!", "--method!", "--top-features", "--output!"),
    "src/registration/register_model.py": _flags(
        "--job-file!", "--model-name!", "--metrics-file!", "--tag*", "--output!"),
    "src/registration/promote_model.py": _flags("--model-name!", "--version", "--version-file", "--from-alias",
                                                "--alias!"),
    "src/registration/compare_models.py": _flags("--model-name!", "--version-a!", "--version-b!", "--metric*",
                                                 "--output"),
    "src/registration/archive_versions.py": _flags("--model-name!", "--keep!", "--dry-run?"),
    "src/documentation/generate_model_card.py": _flags(
        "--model-name!", "--version-file", "--metrics-file!", "--fairness-file", "--explainability-file",
        "--pipeline-config!", "--output!"),
    # Puts the MLflow model into the image build context: the serving image carries its model.
    "src/deployment/export_model.py": _flags("--model-name!", "--alias", "--version-file", "--output-dir!",
                                             "--output"),
    "src/deployment/pre_deployment_checks.py": _flags(
        "--model-name!", "--alias", "--serving-alias", "--version-file", "--pipeline-config!"),
    "src/deployment/deploy.py": _flags(
        "--target!", "--environment!", "--model-name!", "--alias", "--version-file", "--endpoint-name!",
        "--image", "--deployment-name", "--traffic-percentage", "--namespace", "--cluster", "--manifests",
        "--instance-type", "--instance-count", "--location", "--output!"),
    "src/deployment/monitor_deployment.py": _flags(
        "--endpoint-file!", "--deployment-name", "--duration-seconds!", "--interval-seconds!",
        "--max-error-rate!", "--max-latency-ms!", "--baseline-deployment", "--output"),
    "src/deployment/rollback.py": _flags(
        "--target!", "--endpoint-name!", "--stable-deployment!", "--candidate-deployment!", "--namespace",
        "--cluster", "--manifests", "--endpoint-file"),
    "src/deployment/promote.py": _flags(
        "--target!", "--endpoint-name!", "--stable-deployment!", "--candidate-deployment!", "--namespace",
        "--cluster", "--manifests", "--model-name!", "--alias!", "--version-file"),
    "src/monitoring/configure_monitoring.py": _flags(
        "--endpoint-name!", "--model-name!", "--method!", "--threshold!", "--schedule!", "--alert-email*",
        "--reference-data!", "--target"),
    "src/monitoring/detect_drift.py": _flags(
        "--reference!", "--current!", "--target", "--method!", "--threshold!", "--output!"),
    "src/documentation/update_deployment_docs.py": _flags(
        "--model-name!", "--environment!", "--endpoint-file!", "--version-file", "--output!"),
    "src/notification/send_notification.py": _flags(
        "--event!", "--model-name!", "--status!", "--detail*", "--channel!", "--webhook-env!", "--email*"),
    "tests/smoke_test.py": _flags("--endpoint-file!", "--test-data!", "--deployment-name"),
}


def flags_of(script: str) -> dict[str, Flag]:
    return {flag.name: flag for flag in (*COMMON, *SCRIPTS[script])}
