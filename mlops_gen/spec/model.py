"""The spec model (`apiVersion: mlops-gen/v1`, `kind: ModelPipeline`): frozen, unknown keys rejected.

Key paths are the public interface (see DESIGN.md's spec contract): add fields freely, rename none. Every field
has a default where one is sensible, so a minimal spec is a model name and one environment. Rules that involve
several fields live in `mlops_gen.spec.semantic`, so that all of a file's problems are reported together.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from mlops_gen.registry import PLATFORMS, Platform
from mlops_gen.spec.types import (
    AliasName,
    AssetName,
    AssetVersion,
    BranchName,
    ClusterName,
    ColumnName,
    ComputeName,
    Cron,
    Email,
    EndpointName,
    EnvironmentName,
    FreeText,
    Hostname,
    InstanceType,
    K8sName,
    Location,
    ModelName,
    Owner,
    PathFilter,
    Quantity,
    RegistryName,
    RelativePath,
    ResourceGroup,
    SecretName,
    ServiceConnection,
    SubscriptionId,
    TagKey,
    TagValue,
    WorkspaceName,
)

Task = Literal["classification", "regression"]
DeployTarget = Literal["aci", "aks", "azureml_online_endpoint"]
Strategy = Literal["canary", "blue_green", "rolling", "direct"]

CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION_METRICS = ("r2", "mae", "mse", "rmse", "mape")
# Metrics whose values are fractions: their thresholds must lie within [0, 1].
RATIO_METRICS = frozenset({"accuracy", "precision", "recall", "f1", "roc_auc", "r2", "mape"})
# Metrics where lower is better: champion/challenger compares them the other way round.
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "mse", "rmse", "mape"})
MetricName = Literal["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "r2", "mae", "mse", "rmse",
                     "mape"]
DEFAULT_GATES: dict[str, dict[str, float]] = {
    "classification": {"accuracy": 0.7},
    "regression": {"r2": 0.5},
}


class Section(BaseModel):
    # NaN/inf would make a gate that never fails ("--max mae=nan"): refuse them even when quoted.
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


class ModelInfo(Section):
    name: ModelName = Field(description="Lowercase DNS-1123 label, 3-32 characters, starting with a letter. "
                                        "Becomes the endpoint, image, Kubernetes and registry name.")
    description: FreeText = Field("", description="One line saying what the model predicts.")
    task: Task = Field("classification", description="Learning task: decides metrics and the estimator.")
    framework: Literal["scikit-learn"] = Field("scikit-learn", description="Training framework.")
    owners: list[Owner] = Field(max_length=50, default=[], description="Handles or e-mails of the owning team.")


class Azure(Section):
    subscription_id: SubscriptionId | None = Field(
        None, description="Subscription GUID. Optional: pipelines read it from the service connection (Azure "
                          "DevOps) or the AZURE_SUBSCRIPTION_ID variable (GitHub).")
    resource_group: ResourceGroup = Field("rg-mlops", description="Resource group of the Azure ML workspace.")
    workspace: WorkspaceName = Field("mlw-mlops", description="Azure ML workspace name.")
    location: Location = Field("westeurope", description="Azure region for endpoints and container instances.")
    service_connection: ServiceConnection = Field(
        "azure-ml", description="Azure DevOps service connection (workload identity federation).")
    registry: RegistryName = Field("acrmlops", description="Azure Container Registry name, without .azurecr.io.")



class Data(Section):
    dataset: AssetName = Field("training-data", description="Azure ML data asset holding the training table.")
    version: AssetVersion = Field("latest", description="Data asset version.")
    local_path: RelativePath = Field("data/train.csv", description="CSV used by local runs and tests.")
    target: ColumnName = Field("target", description="Label column.")
    expectations: RelativePath = Field("config/data_expectations.json",
                                       description="Expectations file checked by the data validation stage.")
    test_size: float = Field(0.2, gt=0, lt=1, description="Fraction of rows held out for evaluation.")


class Triggers(Section):
    branches: list[BranchName] = Field(max_length=50, default=["main"], min_length=1,
                                       description="Branches whose pushes run the training pipeline.")
    paths: list[PathFilter] = Field(max_length=50, default=["src/**", "config/**", "data/**"],
                                    description="Only changes under these paths trigger a run.")
    pull_requests: bool = Field(True, description="Validate pull requests into the first branch.")
    schedule: Cron | None = Field(None, description="Retraining schedule (five-field cron, UTC).")


class Training(Section):
    experiment: AssetName | None = Field(None, description="Experiment name; defaults to '<model.name>-training'.")
    compute: ComputeName = Field("cpu-cluster", description="Azure ML compute cluster for training jobs.")
    timeout_minutes: int = Field(120, ge=1, le=10080, description="Training job timeout.")
    config: RelativePath = Field("config/training_config.yaml",
                                 description="Training configuration (estimator and hyperparameters).")


class Bound(Section):
    min: float | None = Field(None, description="Lowest acceptable value (inclusive).")
    max: float | None = Field(None, description="Highest acceptable value (inclusive).")


class QualityGates(Section):
    metrics: dict[MetricName, Bound] | None = Field(
        None, description="Metric gates by name, each with min and/or max. When omitted: accuracy >= 0.7 for "
                          "classification, r2 >= 0.5 for regression.")


class ChampionChallenger(Section):
    enabled: bool = Field(True, description="Compare the candidate with the model holding the production alias.")
    metric: MetricName | None = Field(None, description="Metric compared; defaults to the first gate's metric.")
    min_improvement: float = Field(0.0, ge=-1, le=1,
                                   description="Required improvement over production (negative allows a "
                                               "bounded regression).")


class Fairness(Section):
    enabled: bool = Field(True, description="Run the fairness gate.")
    sensitive_features: list[ColumnName] = Field(max_length=50, default=[], description="Columns to assess.")
    metric: Literal["demographic_parity_ratio", "equalized_odds_ratio"] = Field(
        "demographic_parity_ratio", description="fairlearn ratio metric; 1.0 is perfectly fair.")
    threshold: float = Field(0.8, description="Lowest acceptable ratio, within [0, 1].")


class Explainability(Section):
    enabled: bool = Field(True, description="Produce an explainability report.")
    method: Literal["permutation", "shap"] = Field("permutation", description="Feature importance method.")
    top_features: int = Field(10, ge=1, le=100, description="Features listed in the report and model card.")


class Aliases(Section):
    staging: AliasName = Field("staging", description="Alias of the version deployed to pre-production.")
    production: AliasName = Field("production", description="Alias of the version serving production.")


class Registry(Section):
    tags: dict[TagKey, TagValue] = Field(default={}, max_length=50, description="Tags set on every version.")
    aliases: Aliases = Field(default=Aliases(), description="MLflow aliases (not stages) used for promotion.")
    keep_versions: int = Field(5, ge=1, le=1000,
                               description="Versions kept when archiving; aliased versions are always kept.")


class Replicas(Section):
    min: int = Field(2, ge=1, le=1000, description="Minimum replicas (HorizontalPodAutoscaler).")
    max: int = Field(6, ge=1, le=1000, description="Maximum replicas (HorizontalPodAutoscaler).")


class Resources(Section):
    cpu_request: Quantity = Field("250m", description="CPU request per replica.")
    cpu_limit: Quantity = Field("1", description="CPU limit per replica.")
    memory_request: Quantity = Field("512Mi", description="Memory request per replica.")
    memory_limit: Quantity = Field("1Gi", description="Memory limit per replica.")


class EnvironmentAzure(Section):
    """Where one environment's serving resources live, when not where the spec's `azure` says: its own
    subscription, resource group, workspace, region or identity. Training, the model registry and the image stay
    where the spec's `azure` says; the image built once from the gated version is what every environment runs."""

    subscription_id: SubscriptionId | None = Field(
        None, description="This environment's subscription; needs azure.subscription_id set too (registry steps "
                          "of its release run in the training subscription).")
    resource_group: ResourceGroup | None = Field(None, description="Resource group of its endpoint, cluster or "
                                                                   "container group.")
    workspace: WorkspaceName | None = Field(None, description="Azure ML workspace of its endpoint and monitor "
                                                              "(target azureml_online_endpoint).")
    location: Location | None = Field(None, description="Region of its container groups (target aci).")
    service_connection: ServiceConnection | None = Field(
        None, description="Azure DevOps service connection its release logs in with (its own identity). On "
                          "GitHub, set AZURE_CLIENT_ID on the GitHub environment instead.")


class Gateway(Section):
    """The Gateway API Gateway that carries the model's requests (target aks): the generated HTTPRoute attaches
    to it and splits requests between the stable and canary Services by weight, so a canary's percentage is that
    share of real requests. Any Gateway API implementation serves it, e.g. Application Gateway for Containers or
    the Istio-based add-on on AKS."""

    name: K8sName = Field(description="Name of the Gateway (gateway.networking.k8s.io/v1).")
    namespace: K8sName | None = Field(
        None, description="Its namespace; defaults to the environment's namespace. A Gateway in another namespace "
                          "must admit routes from the environment's (listeners[].allowedRoutes.namespaces).")
    hostnames: list[Hostname] = Field(default=[], max_length=16,
                                      description="Host names the route answers; none: every host of the "
                                                  "Gateway's listener.")


class Environment(Section):
    name: EnvironmentName = Field(description="Environment name; also the Azure DevOps / GitHub environment.")
    target: DeployTarget = Field("azureml_online_endpoint", description="Where the model is served.")
    production: bool | None = Field(None, description="Production-like environment. Defaults to true when the "
                                                      "name is 'prod', 'production' or starts with 'prod-'.")
    approval: Literal["required", "none"] = Field(
        "none", description="Manual approval before deploying (configured on the environment).")
    approval_waiver: FreeText | None = Field(
        None, description="Reason for deploying a production-like environment without approval.")
    endpoint_name: EndpointName | None = Field(None, description="Defaults to '<model.name>-<name>'.")
    cluster: ClusterName | None = Field(None, description="AKS cluster (target aks).")
    namespace: K8sName = Field("ml-models", description="Kubernetes namespace (target aks).")
    instance_type: InstanceType = Field("Standard_DS3_v2", description="VM size (target azureml_online_endpoint).")
    instance_count: int = Field(1, ge=1, le=100, description="Instances (target azureml_online_endpoint).")
    replicas: Replicas = Field(default=Replicas(), description="Autoscaling bounds (target aks).")
    resources: Resources = Field(default=Resources(), description="Container resources (target aks, aci).")
    gateway: Gateway | None = Field(None, description="Gateway API Gateway routing the model's requests (target "
                                                      "aks); needed for a canary rollout, which it splits by "
                                                      "request weight.")
    azure: EnvironmentAzure = Field(default=EnvironmentAzure(),
                                    description="This environment's own Azure coordinates; each one left out is "
                                                "the spec's azure value.")


class Monitor(Section):
    duration_seconds: int = Field(300, ge=10, le=86400, description="Observation time per rollout step.")
    interval_seconds: int = Field(30, ge=1, le=3600, description="Sampling interval while observing.")
    max_error_rate: float = Field(0.05, description="Highest acceptable error rate, within [0, 1].")
    max_latency_ms: int = Field(500, ge=1, le=600000, description="Highest acceptable p95 latency.")


class Rollout(Section):
    strategy: Strategy = Field("canary", description="How production receives a new version.")
    increments: list[int] = Field(max_length=50, default=[10, 25, 50, 100],
                                  description="Canary traffic percentages, increasing, ending at 100.")
    monitor: Monitor = Field(default=Monitor(), description="Health limits checked at each step.")
    auto_rollback: bool = Field(True, description="Roll back automatically when a step fails its checks.")


class Drift(Section):
    enabled: bool = Field(True, description="Monitor feature drift between training and production data.")
    method: Literal["psi", "ks"] = Field("psi", description="Population stability index or Kolmogorov-Smirnov.")
    threshold: float = Field(0.2, description="Drift above this value fails the check, within [0, 1].")
    schedule: Cron = Field("0 6 * * *", description="When the drift check runs (five-field cron, UTC).")


class Alerts(Section):
    email: list[Email] = Field(max_length=50, default=[], description="Recipients of monitoring alerts.")


class Monitoring(Section):
    drift: Drift = Field(default=Drift(), description="Data drift detection.")
    alerts: Alerts = Field(default=Alerts(), description="Alert recipients.")


class Notifications(Section):
    email: list[Email] = Field(max_length=50, default=[], description="Recipients of pipeline notifications.")
    channel: Literal["none", "teams", "slack"] = Field("none", description="Chat webhook to notify.")
    webhook_secret: SecretName = Field("NOTIFY_WEBHOOK_URL",
                                       description="Name of the secret variable holding the webhook URL.")


class SecurityScans(Section):
    bandit: bool = Field(True, description="Static security analysis of the stage scripts.")
    dependency_audit: bool = Field(True, description="Audit pinned requirements for known vulnerabilities.")
    container_scan: bool = Field(True, description="Scan the serving image for known vulnerabilities.")


class CI(Section):
    coverage_min: int = Field(80, ge=0, le=100, description="Minimum test coverage of the stage scripts, in %.")
    linters: list[Literal["ruff", "mypy"]] = Field(default=["ruff", "mypy"],
                                                    description="Code quality checks.")
    security_scans: SecurityScans = Field(default=SecurityScans(), description="Security checks.")


class ExtensionStep(Section):
    name: FreeText = Field(description="Step display name.")
    script: RelativePath = Field(description="Script in the model repository to run: '.sh' with bash, '.py' with "
                                             "python. Spec values never become shell code: only this path is "
                                             "rendered.")


class Extensions(Section):
    """Named places where the pipelines run your own scripts, rendered on both platforms."""

    before_training: list[ExtensionStep] = Field(max_length=50, default=[], description="Before the training job.")
    after_training: list[ExtensionStep] = Field(max_length=50, default=[], description="After metrics are collected.")
    after_validation: list[ExtensionStep] = Field(max_length=50, default=[], description="After all gates passed.")
    after_staging_deployment: list[ExtensionStep] = Field(
        default=[], description="After each pre-production deployment and its tests.")
    after_production_deployment: list[ExtensionStep] = Field(
        default=[], description="After the production rollout completed.")


class ProjectSpec(Section):
    """One model's pipelines: everything mlops-gen renders is derived from this."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False,
                              title="mlops-gen ModelPipeline spec")

    api_version: Literal["mlops-gen/v1"] = Field(alias="apiVersion", description="Spec format version.")
    kind: Literal["ModelPipeline"] = Field(description="Document kind.")
    model: ModelInfo = Field(description="The model this spec describes.")
    platforms: list[Platform] = Field(default=list(PLATFORMS), min_length=1,
                                      description="CI/CD platforms to render (at least one).")
    azure: Azure = Field(default=Azure(), description="Azure resources used by the pipelines.")
    python_version: Literal["3.10", "3.11", "3.12", "3.13"] = Field("3.12",
                                                                    description="Python of pipelines and image.")
    data: Data = Field(default=Data(), description="Training data and its expectations.")
    triggers: Triggers = Field(default=Triggers(), description="When the training pipeline runs.")
    training: Training = Field(default=Training(), description="Training job settings.")
    quality_gates: QualityGates = Field(default=QualityGates(), description="Metric gates.")
    champion_challenger: ChampionChallenger = Field(default=ChampionChallenger(),
                                                    description="Comparison against production.")
    fairness: Fairness | None = Field(None, description="Fairness gate; omitted means no fairness gate.")
    explainability: Explainability = Field(default=Explainability(), description="Explainability report.")
    registry: Registry = Field(default=Registry(), description="MLflow model registry settings.")
    environments: list[Environment] = Field(min_length=1, max_length=20,
                                            description="Deployment environments, in order.")
    rollout: Rollout = Field(default=Rollout(), description="Production rollout.")
    monitoring: Monitoring = Field(default=Monitoring(), description="Production monitoring.")
    notifications: Notifications = Field(default=Notifications(), description="Who hears about runs.")
    ci: CI = Field(default=CI(), description="Code quality and security checks.")
    extensions: Extensions = Field(default=Extensions(), description="Your own steps at fixed places.")


# ----- derived values: one definition each, used by semantic checks, planning and templates -----

PRODUCTION_NAMES = ("prod", "production")


def is_production(env: Environment) -> bool:
    if env.production is not None:
        return env.production
    return env.name in PRODUCTION_NAMES or env.name.startswith("prod-")


def endpoint_name(spec: ProjectSpec, env: Environment) -> str:
    return env.endpoint_name or f"{spec.model.name}-{env.name}"


def experiment_name(spec: ProjectSpec) -> str:
    return spec.training.experiment or f"{spec.model.name}-training"


def metric_gates(spec: ProjectSpec) -> dict[str, Bound]:
    if spec.quality_gates.metrics is not None:
        return {str(name): bound for name, bound in spec.quality_gates.metrics.items()}
    return {name: Bound(min=value) for name, value in DEFAULT_GATES[spec.model.task].items()}


def champion_metric(spec: ProjectSpec) -> str:
    return spec.champion_challenger.metric or next(iter(metric_gates(spec)))


def environment_azure(spec: ProjectSpec, env: Environment) -> Azure:
    """The Azure coordinates `env` is served in: its own, else the spec's."""
    return spec.azure.model_copy(update=env.azure.model_dump(exclude_none=True))


# The coordinates that decide where a script's Azure ML client points (and so where MLflow's registry is).
WORKSPACE_COORDINATES = ("subscription_id", "resource_group", "workspace")


def served_apart(spec: ProjectSpec, env: Environment) -> bool:
    """Whether `env` is served outside the training workspace (its model registry)."""
    own = environment_azure(spec, env)
    return any(getattr(own, key) != getattr(spec.azure, key) for key in WORKSPACE_COORDINATES)


def fairness_enabled(spec: ProjectSpec) -> bool:
    return spec.fairness is not None and spec.fairness.enabled
