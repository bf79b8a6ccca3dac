"""The monorepo layout sends the notices the per-model layout sends, on each platform, from the model's plan.

The stand-alone notices (pipeline failed, model registered, drift found) are the pipeline model's
(Pipeline.notifications), written into each model's config/plan.json and sent by the shared CI files as the runner's
part notify:<event>. Here the per-model layout's pipelines of the example specs (rendered fresh) are read for every
send_notification.py call, and each platform's monorepo files (the golden record examples/monorepo, which
tests/test_monorepo_golden.py keeps current; Azure DevOps pipelines expanded with their shared templates) must call
exactly the notify parts matching them, where the per-model layout sends them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.commands.generate import render_all
from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline.build import NOTIFICATION_EVENTS
from mlops_gen.render.plan import TARGETS
from mlops_gen.targets import azure_devops, github_actions, github_monorepo
from tests.conftest import ROOT
from tests.pipeline_calls import mappings
from tests.test_azure_monorepo_expand import expand_pipeline

GOLDEN = ROOT / "examples" / "monorepo"
REPO = Monorepo("generated")
PLATFORMS = {"github_actions": ".github/workflows/", "azure_devops": "azure-pipelines/"}
# A per-model notice (--event, --status) -> the plan's notify part sending it in the monorepo layout; None: a
# deployment notice, which a release's rollback steps and the post-release steps send (parts release:, rollback:,
# post). The per-model Azure DevOps drift monitor spells its notice drift_detected/failed, GitHub's drift/
# drift_detected: both are the one drift notice of the pipeline model.
PARTS: dict[tuple[str, str], str | None] = {
    ("pipeline", "failed"): "notify:pipeline_failed",
    ("model_registered", "succeeded"): "notify:model_registered",
    ("drift", "drift_detected"): "notify:drift_detected",
    ("drift_detected", "failed"): "notify:drift_detected",
    ("deployment", "succeeded"): None,
    ("deployment", "rolled_back"): None,
    ("deployment", "failed"): None,
}
CALL = re.compile(r"send_notification\.py((?:[^\n]*\\\n)*[^\n]*)")


def _flag(call: str, flag: str) -> str:
    found = re.search(rf"{flag} (\S+)", call)
    assert found, call
    return found.group(1).strip("'\"")


@pytest.fixture(scope="module")
def per_model() -> dict[str, dict[str, set[str | None]]]:
    """model -> platform -> the notify parts matching the notices its per-model pipelines send."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        rendered = {spec_file.spec.model.name: files for spec_file, files in render_all(["specs"], TARGETS)}
    out: dict[str, dict[str, set[str | None]]] = {}
    for model, files in rendered.items():
        for platform, folder in PLATFORMS.items():
            calls = [call for path, file in files.items() if path.startswith(folder)
                     for call in CALL.findall(file.data.decode("utf-8"))]
            if not any(path.startswith(folder) for path in files):
                continue
            notices = {(_flag(call, "--event"), _flag(call, "--status")) for call in calls}
            unknown = notices - set(PARTS)
            assert not unknown, f"{model} {platform}: a notice with no home in the plan: {unknown}"
            out.setdefault(model, {})[platform] = {PARTS[notice] for notice in notices}
    return out


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _github_parts(model: str) -> dict[str, list[tuple[str, str | None]]]:
    """notify part -> (calling job, its `if:`) for every shared workflow a caller of `model` uses."""
    out: dict[str, list[tuple[str, str | None]]] = {}
    for caller in sorted((GOLDEN / ".github" / "workflows").glob(f"mlops-{model}*.yml")):
        for job_id, job in _load(caller)["jobs"].items():
            uses = str(job.get("uses", ""))
            if not uses:
                continue
            called = _load(GOLDEN / uses.removeprefix(github_monorepo.LOCAL))
            for inner_id, inner in called["jobs"].items():
                for step in inner.get("steps", []):
                    part = step.get("env", {}).get("MLOPS_PART", "")
                    if part.startswith("notify:"):
                        out.setdefault(part, []).append((f"{job_id}/{inner_id}", inner.get("if", job.get("if"))))
    return out


def _azure_parts(model: str) -> dict[str, list[tuple[str, str]]]:
    """notify part -> (pipeline/stage/job, the stage's condition) in the model's expanded pipelines."""
    out: dict[str, list[tuple[str, str]]] = {}
    folder = GOLDEN / REPO.model(model, "azure-pipelines")
    for path in sorted(folder.glob("*.yml")):
        document, _ = expand_pipeline(path, GOLDEN)
        for stage in document["stages"]:
            for job in stage["jobs"]:
                parts = [step["env"]["MLOPS_CI_PART"] for step in _steps(job) if "MLOPS_CI_PART" in step.get("env", {})]
                for index, part in enumerate(parts):
                    if part.startswith("notify:"):
                        where = f"{path.stem}/{stage['stage']}/{job.get('job') or job.get('deployment')}"
                        out.setdefault(part, []).append((where, " ".join(str(stage.get("condition", "")).split())))
                        # A notice ends its job: it follows the steps whose outcome it reports.
                        assert index == len(parts) - 1, (where, parts)
    return out


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for node in mappings(job) if "env" in node and ("bash" in node or "task" in node)]


def _models() -> list[str]:
    return sorted(p.name for p in (GOLDEN / "generated").iterdir() if p.is_dir() and not p.name.startswith("_"))


def test_the_example_models_are_the_golden_record_models(per_model: dict[str, Any]) -> None:
    assert sorted(per_model) == _models()


@pytest.mark.parametrize("model", _models())
def test_github_monorepo_files_call_exactly_the_notify_parts_the_per_model_workflows_send(
        model: str, per_model: dict[str, dict[str, set[str | None]]]) -> None:
    sent = per_model[model].get("github_actions")
    called = _github_parts(model)
    if sent is None:
        assert called == {}
        return
    assert set(called) == sent - {None}
    # Where the per-model workflows send them: a job of any failed run, and the drift check's result.
    for part, places in called.items():
        assert len(places) == 1, (part, places)
        [(where, condition)] = places
        if part == "notify:pipeline_failed":
            assert where == "notify-failure/notify" and condition == "failure()"
        else:
            assert where == "drift/notify" and condition == "needs.detect-drift.outputs.result == 'drift'"


@pytest.mark.parametrize("model", _models())
def test_azure_devops_monorepo_files_call_exactly_the_notify_parts_the_per_model_pipelines_send(
        model: str, per_model: dict[str, dict[str, set[str | None]]]) -> None:
    sent = per_model[model].get("azure_devops")
    if sent is None:
        assert not (GOLDEN / REPO.model(model, "azure-pipelines")).exists()
        return
    called = _azure_parts(model)
    assert set(called) == sent - {None}
    for part, places in called.items():
        assert len(places) == 1, (part, places)
        [(where, condition)] = places
        if part == "notify:model_registered":  # the registration stage's job, after its plan part
            assert where == "training/ModelRegistration/RunModelRegistration"
        else:
            assert where == "drift-monitor/Retrain/Notify"
            assert "eq(dependencies.DriftCheck.outputs['DetectDrift.drift.result'], 'drift')" in condition


def test_each_platform_names_only_notices_of_the_pipeline_model() -> None:
    """The platforms' choices (which notices each sends) name events the pipeline model builds, and the part
    names the shared CI files use are those events."""
    for choice in (github_actions.NOTIFICATIONS, azure_devops.NOTIFICATIONS):
        assert set(choice.values()) <= set(NOTIFICATION_EVENTS)
    assert {f"notify:{event}" for event in NOTIFICATION_EVENTS} == {part for part in PARTS.values() if part}
