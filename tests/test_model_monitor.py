"""The Azure ML model monitor compares production with the training data (issue 12 item 9, follow-up).

azure-ai-ml 1.35.2, ScheduleOperations._resolve_monitor_schedule_arm_id: for a data drift signal on a deployment
whose data collector logs model inputs, a missing `reference_data` is filled with those same collected inputs
(`ReferenceData(input_data=Input(path=f"{model_inputs_name}:{model_inputs_version}"), data_context=MODEL_INPUTS)`),
so the monitor configure_monitoring.py created before compared production with earlier production, never with
the training data the spec names. The fake below applies that same defaulting when the script leaves the reference
out, and records what the schedule finally holds.
"""

from __future__ import annotations

import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from mlops_gen.pipeline import build_pipeline
from mlops_gen.spec.validate import load_specs
from tests.conftest import SPECS
from tests.template_scripts import load_script


class ResourceNotFoundError(Exception):
    pass


def _entity(name: str) -> type:
    """A keyword-only SDK entity that keeps its arguments."""
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)
    return type(name, (), {"__init__": init})


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """azure.ai.ml with the entities configure_monitoring.py builds; the workspace holds one data asset
    house_sales (versions 1 and 3, an mltable) and an endpoint whose `stable` deployment collects its inputs."""
    state: dict[str, Any] = {"schedules": []}
    entities = ModuleType("azure.ai.ml.entities")
    for name in ("AlertNotification", "CategoricalDriftMetrics", "CronTrigger", "DataDriftMetricThreshold",
                 "DataDriftSignal", "MonitorDefinition", "MonitoringTarget", "MonitorSchedule",
                 "NumericalDriftMetrics", "ServerlessSparkCompute", "ReferenceData"):
        setattr(entities, name, _entity(name))
    ml = ModuleType("azure.ai.ml")
    ml.Input = _entity("Input")  # type: ignore[attr-defined]
    constants = ModuleType("azure.ai.ml.constants")
    constants.MonitorDatasetContext = SimpleNamespace(TRAINING="training", MODEL_INPUTS="model_inputs")  # type: ignore
    exceptions = ModuleType("azure.core.exceptions")
    exceptions.ResourceNotFoundError = ResourceNotFoundError  # type: ignore[attr-defined]

    def data_get(name: str, version: str | None = None, label: str | None = None) -> Any:
        versions = {"1", "3"} if name == "house_sales" else set()
        chosen = max(versions) if label == "latest" and versions else version
        if chosen not in versions:
            raise ResourceNotFoundError(name)
        return SimpleNamespace(name=name, version=chosen, type="mltable")

    def create(schedule: Any) -> Any:
        for signal in schedule.create_monitor.monitoring_signals.values():
            if getattr(signal, "reference_data", None) is None:  # the SDK's default: the collected inputs
                signal.reference_data = entities.ReferenceData(  # type: ignore[attr-defined]
                    input_data=ml.Input(path="ep-stable-model_inputs:1"), data_context="model_inputs")
        state["schedules"].append(schedule)
        return SimpleNamespace(result=lambda: schedule)

    client = SimpleNamespace(
        workspace_name="mlw-prod",
        online_endpoints=SimpleNamespace(get=lambda name: SimpleNamespace(traffic={"stable": 100})),
        data=SimpleNamespace(get=data_get), schedules=SimpleNamespace(begin_create_or_update=create))
    for name, module in (("azure", ModuleType("azure")), ("azure.ai", ModuleType("azure.ai")), ("azure.ai.ml", ml),
                         ("azure.ai.ml.entities", entities), ("azure.ai.ml.constants", constants),
                         ("azure.core", ModuleType("azure.core")), ("azure.core.exceptions", exceptions)):
        monkeypatch.setitem(sys.modules, name, module)
    script = load_script("monitoring/configure_monitoring.py")
    monkeypatch.setattr(script, "ml_client", lambda args, registry=False: client)
    state["script"] = script
    return state


def _configure(sdk: dict[str, Any], *extra: str) -> int:
    return int(sdk["script"].main(["--backend", "azure", "--endpoint-name", "ep", "--model-name", "m",
                                   "--method", "psi", "--threshold", "0.2", "--schedule", "0 6 * * *", *extra]))


def test_the_monitor_measures_drift_against_the_training_data(sdk: dict[str, Any]) -> None:
    assert _configure(sdk, "--reference-data", "azureml:house_sales:latest", "--target", "price") == 0
    (schedule,) = sdk["schedules"]
    (signal,) = schedule.create_monitor.monitoring_signals.values()
    reference = signal.reference_data
    assert reference.data_context == "training"
    assert (reference.input_data.path, reference.input_data.type) == ("azureml:house_sales:3", "mltable")  # pinned
    assert reference.data_column_names == {"target_column": "price"}  # the label is not a feature


def test_a_training_asset_missing_from_the_monitors_workspace_is_named(sdk: dict[str, Any],
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An environment served apart: the monitor runs in its workspace, which must hold the training data too."""
    assert _configure(sdk, "--reference-data", "azureml:churn_training:2") == 2
    assert ("data asset azureml:churn_training:2 is not in workspace mlw-prod, where the monitor of ep runs: "
            "register the training data there too") in capsys.readouterr().err
    assert _configure(sdk, "--reference-data", "data/train.csv") == 2
    assert "expected azureml:<name>:<version|latest>" in capsys.readouterr().err
    assert not sdk["schedules"]


def test_the_pipeline_names_the_specs_training_data() -> None:
    spec = load_specs([str(SPECS / "house-prices.yaml")])[0].spec
    (step,) = [s for s in build_pipeline(spec).post_release if s.id == "configure-monitoring"]
    assert step.value("--reference-data") == f"azureml:{spec.data.dataset}:{spec.data.version}"
    assert step.value("--target") == spec.data.target
