"""Production data for model monitoring: every scored batch's inputs and predictions, logged through Azure ML's data
collector when the deployment has one.

Azure ML runs a data collector beside a deployment created with `data_collector` (deploy.py's Azure ML target
creates every deployment with the COLLECTIONS below enabled) and tells the scoring container where it is through
AZUREML_MDC_CONFIG_PATH (or the older AZUREML_MDC_ENABLED). The azureml-ai-monitoring package reads them, queues
each pandas DataFrame and posts it to the collector, which writes it to blob storage and registers it as the data
asset `<endpoint>-<deployment>-<collection>` that the model monitor (configure_monitoring.py) reads as production
data. Without those variables (local serving, Kubernetes Deployments, ACI) nothing is collected and nothing is
imported. Collecting never fails a request: a lost record is logged, the prediction is still answered.

References: learn.microsoft.com/azure/machine-learning/how-to-collect-production-data (custom logging, collection
names model_inputs / model_outputs); azureml-ai-monitoring 1.0.0, azureml/ai/monitoring/config/config.py
(loadConfig) and collector_json.py (collect).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

LOG = logging.getLogger("serving")

# The collections a deployment enables and the app logs to: inputs, then outputs correlated with them.
INPUTS, OUTPUTS = "model_inputs", "model_outputs"
COLLECTIONS = (INPUTS, OUTPUTS)


def configured(environ: Mapping[str, str]) -> bool:
    """Whether the platform set up a data collector for this container (the variables azureml-ai-monitoring reads)."""
    return bool(environ.get("AZUREML_MDC_CONFIG_PATH")) or environ.get("AZUREML_MDC_ENABLED", "").lower() == "true"


class ProductionData:
    """Logs inputs and predictions to the deployment's data collector; `collector` builds one collector per name."""

    def __init__(self, collector: Callable[..., Any]) -> None:
        self._lost = 0
        self._inputs = collector(name=INPUTS, on_error=self._on_error)
        self._outputs = collector(name=OUTPUTS, on_error=self._on_error)

    def _on_error(self, error: Exception) -> None:
        self._lost += 1
        if self._lost == 1 or self._lost % 1000 == 0:  # a log line per thousand, not per request
            LOG.warning("production data not collected (%d so far): %s", self._lost, error)

    def record(self, records: list[dict[str, Any]], predictions: list[Any]) -> None:
        """Log one scored batch: its records, then their predictions under the same correlation id (the
        collector takes pandas DataFrames only)."""
        import pandas as pd

        try:
            context = self._inputs.collect(pd.DataFrame.from_records(records))
            self._outputs.collect(pd.DataFrame({"prediction": predictions}), context)
        except Exception as exc:  # monitoring must never fail a prediction
            self._on_error(exc)


def production_data(environ: Mapping[str, str] | None = None) -> ProductionData | None:
    """The deployment's data collection, or None where the platform provides no collector."""
    if not configured(os.environ if environ is None else environ):
        return None
    try:
        from azureml.ai.monitoring import Collector
    except ImportError:
        LOG.warning("a data collector is configured but azureml-ai-monitoring is not installed: nothing collected")
        return None
    return ProductionData(Collector)
