#!/usr/bin/env python3
"""Set up scheduled data drift monitoring of a deployed model.

azure: an Azure ML model monitor (MonitorSchedule with a data drift signal: PSI or KS thresholds, the spec's cron
schedule, e-mail alerts) on the endpoint's live deployment; the endpoint must be an Azure ML online endpoint. The
signal compares what the deployment's data collector logged with the training data (--reference-data, a data
asset of the workspace the endpoint is in): left out, azure-ai-ml would take the collected inputs themselves as
the reference (ScheduleOperations._resolve_monitor_schedule_arm_id), so production would only ever be compared
with earlier production.
local: write the monitor configuration to <workdir>/monitoring/ and print it; run detect_drift.py on a schedule.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # src/, for the shared `common` helpers

from common.backend import (
    ScriptError,
    add_common_arguments,
    asset_reference,
    backend_of,
    describe,
    guarded,
    ml_client,
    workdir_of,
)
from common.files import write_json

SPARK_RUNTIME = "3.4"
SPARK_INSTANCE = "standard_e4s_v3"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=describe(__doc__))
    parser.add_argument("--endpoint-name", required=True, help="online endpoint serving the model")
    parser.add_argument("--model-name", required=True, help="registered model name")
    parser.add_argument("--method", required=True, choices=("psi", "ks"),
                        help="drift statistic: population stability index or Kolmogorov-Smirnov")
    parser.add_argument("--threshold", required=True, type=float, help="drift threshold")
    parser.add_argument("--schedule", required=True, help="five-field cron expression, UTC")
    parser.add_argument("--alert-email", action="append", default=[], help="alert recipient (repeatable)")
    parser.add_argument("--reference-data", required=True,
                        help="training data asset the drift is measured against, azureml:<name>:<version|latest>")
    parser.add_argument("--target", help="label column of the training data (not a feature)")
    return add_common_arguments(parser)


def monitor_config(args: argparse.Namespace) -> dict[str, Any]:
    if len(args.schedule.split()) != 5:
        raise ScriptError(f"--schedule {args.schedule!r}: expected a five-field cron expression")
    _reference(args)  # refused before any Azure call
    return {"name": f"{args.endpoint_name}-drift", "endpoint": args.endpoint_name, "model": args.model_name,
            "signal": "data_drift", "method": args.method, "threshold": args.threshold,
            "schedule": args.schedule, "alert_emails": list(args.alert_email),
            "reference_data": args.reference_data, "target": args.target}


def _reference(args: argparse.Namespace) -> tuple[str, str | None]:
    found = asset_reference(args.reference_data)
    if found is None:
        raise ScriptError(f"--reference-data {args.reference_data!r}: expected azureml:<name>:<version|latest>")
    return found


def reference_data(args: argparse.Namespace, client: Any) -> Any:
    """The training data asset, pinned to its version, as the signal's reference (`training` context, the label
    column named so it is not taken for a feature)."""
    from azure.ai.ml import Input
    from azure.ai.ml.constants import MonitorDatasetContext
    from azure.ai.ml.entities import ReferenceData
    from azure.core.exceptions import ResourceNotFoundError

    name, version = _reference(args)
    try:
        asset = (client.data.get(name, label="latest") if version in (None, "latest")
                 else client.data.get(name, version=version))
    except ResourceNotFoundError:
        raise ScriptError(f"data asset {args.reference_data} is not in workspace {client.workspace_name}, where "
                          f"the monitor of {args.endpoint_name} runs: register the training data there too") from None
    columns = {"target_column": args.target} if args.target else None
    return ReferenceData(input_data=Input(path=f"azureml:{asset.name}:{asset.version}", type=asset.type),
                         data_context=MonitorDatasetContext.TRAINING, data_column_names=columns)


def configure_azure(args: argparse.Namespace, config: dict[str, Any]) -> None:
    from azure.ai.ml.entities import (
        AlertNotification,
        CategoricalDriftMetrics,
        CronTrigger,
        DataDriftMetricThreshold,
        DataDriftSignal,
        MonitorDefinition,
        MonitoringTarget,
        MonitorSchedule,
        NumericalDriftMetrics,
        ServerlessSparkCompute,
    )
    from azure.core.exceptions import ResourceNotFoundError

    client = ml_client(args)
    try:
        endpoint = client.online_endpoints.get(args.endpoint_name)
    except ResourceNotFoundError:
        raise ScriptError(f"{args.endpoint_name} is not an Azure ML online endpoint; for AKS or other targets "
                          "schedule detect_drift.py instead") from None
    traffic = endpoint.traffic or {}
    if not traffic:
        raise ScriptError(f"endpoint {args.endpoint_name} has no deployment taking traffic")
    live = max(sorted(traffic), key=lambda name: traffic[name])
    if args.method == "psi":
        thresholds = DataDriftMetricThreshold(
            numerical=NumericalDriftMetrics(population_stability_index=args.threshold),
            categorical=CategoricalDriftMetrics(population_stability_index=args.threshold))
    else:
        thresholds = DataDriftMetricThreshold(
            numerical=NumericalDriftMetrics(two_sample_kolmogorov_smirnov_test=args.threshold),
            categorical=CategoricalDriftMetrics(pearsons_chi_squared_test=args.threshold))
    definition = MonitorDefinition(
        compute=ServerlessSparkCompute(runtime_version=SPARK_RUNTIME, instance_type=SPARK_INSTANCE),
        monitoring_target=MonitoringTarget(endpoint_deployment_id=f"azureml:{args.endpoint_name}:{live}"),
        monitoring_signals={"data_drift": DataDriftSignal(features="all_features", metric_thresholds=thresholds,
                                                          reference_data=reference_data(args, client),
                                                          alert_enabled=bool(args.alert_email))},
        alert_notification=AlertNotification(emails=list(args.alert_email)) if args.alert_email else None,
    )
    schedule = MonitorSchedule(name=config["name"], trigger=CronTrigger(expression=args.schedule),
                               create_monitor=definition, tags={"model": args.model_name})
    client.schedules.begin_create_or_update(schedule).result()
    print(f"monitor {config['name']} watches deployment {live} of {args.endpoint_name} ({args.schedule} UTC)")


@guarded
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = monitor_config(args)
    if backend_of(args) == "azure":
        configure_azure(args, config)
        return 0
    path = write_json(workdir_of(args) / "monitoring" / f"{config['name']}.json", config)
    print(f"local backend: monitor configuration written to {path}; schedule detect_drift.py with it:")
    for key, value in config.items():
        print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
