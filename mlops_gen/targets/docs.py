"""Planner for the docs target: the model folder's README.

The README describes the pipelines the other planners produce, so it asks them for their file lists instead of
repeating names, and it draws the flow (stages, gates, deployments) from the spec. The diagram is computed here as
plain nodes and edges; the template only prints them, escaping every label with the `mermaid` filter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mlops_gen.layout.paths import Monorepo
from mlops_gen.pipeline import Pipeline, build_pipeline
from mlops_gen.pipeline.build import drift_current
from mlops_gen.pipeline.model import EXTENSION, Ref
from mlops_gen.registry import PLATFORM_LABELS, REGISTRY
from mlops_gen.render.context import azure_pipelines
from mlops_gen.render.filters import number
from mlops_gen.render.plan import OutputFile
from mlops_gen.spec.model import LOWER_IS_BETTER, ProjectSpec, champion_metric, fairness_enabled, metric_gates
from mlops_gen.targets import k8s

# Mermaid shape delimiters; labels always go between double quotes inside them.
SHAPES = {
    "box": ("[", "]"),
    "gate": ("{", "}"),
    "approval": ("{{", "}}"),
    "event": ("([", "])"),
    "fail": ("[/", "/]"),
}


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    shape: str = "box"

    @property
    def open(self) -> str:
        return SHAPES[self.shape][0]

    @property
    def close(self) -> str:
        return SHAPES[self.shape][1]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dotted: bool = False


@dataclass(frozen=True)
class PipelineFile:
    platform: str  # display label
    path: str
    purpose: str


DRIFT_PURPOSE = "Scheduled drift check of production traffic against the training data"


def _purpose(path: str) -> str:
    """What a pipeline file does, from its name (the planners name files by role)."""
    name = path.rsplit("/", 1)[-1].lower()
    if "drift" in name or "monitor" in name:
        return DRIFT_PURPOSE
    if "train" in name:
        return "Training: data validation, training job, model validation gates, registration"
    if "deploy" in name or "release" in name:
        return "Deployment: image build, deployments per environment, post-deployment checks"
    if "template" in path.lower() or "/steps" in path.lower() or "/jobs" in path.lower():
        return "Template included by the pipelines above"
    if "quality" in name or name.startswith("ci"):
        return "Code quality and security checks"
    return "Whole pipeline: quality checks, training, validation gates, registration and deployments"


def pipeline_files(spec: ProjectSpec) -> list[PipelineFile]:
    found = []
    for target in REGISTRY:
        if not target.platform or target.name not in spec.platforms:
            continue
        platform = target.name
        for output in sorted(target.planner()(spec), key=lambda f: f.path):
            if output.path.endswith((".yml", ".yaml")):
                found.append(PipelineFile(PLATFORM_LABELS[platform], output.path, _purpose(output.path)))
    return found


def _id(*parts: object) -> str:
    """A Mermaid node id from validated names: letters, digits and '_' only."""
    return "_".join(str(part) for part in parts).replace("-", "_")


def flow(spec: ProjectSpec, pipeline: Pipeline) -> tuple[list[Node], list[Edge]]:
    """The pipeline as a graph: training stages, every gate, registration, each environment's rollout, monitoring."""
    nodes: list[Node] = []
    edges: list[Edge] = []

    def chain(node: Node, after: str, label: str = "") -> str:
        nodes.append(node)
        edges.append(Edge(after, node.id, label))
        return node.id

    def extensions(point: str, after: str, env: str = "") -> str:
        # Deployment points run once per environment: the environment keeps their node ids apart.
        for index, step in enumerate(getattr(spec.extensions, point)):
            node_id = _id("ext", point, *([env] if env else []), index)
            label = f"{env}: your step: {step.name}" if env else f"Your step: {step.name}"
            after = chain(Node(node_id, label), after)
        return after

    nodes.append(Node("trigger", "Push, pull request or schedule", "event"))
    scans = spec.ci.security_scans
    checks = [*spec.ci.linters, f"tests with coverage ≥ {spec.ci.coverage_min} %",
              *(["bandit"] if scans.bandit else []), *(["dependency audit"] if scans.dependency_audit else [])]
    last = chain(Node("code_quality", f"Code quality and security: {', '.join(checks)}"), "trigger")
    last = chain(Node("data_validation", f"Data validation ({spec.data.expectations})"), last)
    last = extensions("before_training", last)
    last = chain(Node("training", f"Training job on {spec.training.compute} "
                                  f"(timeout {spec.training.timeout_minutes} min)"), last)
    last = extensions("after_training", last)

    gates: list[Node] = []
    for metric, bound in metric_gates(spec).items():
        parts = [f"{metric} ≥ {number(bound.min)}" if bound.min is not None else "",
                 f"{metric} ≤ {number(bound.max)}" if bound.max is not None else ""]
        gates.append(Node(_id("gate", metric), " and ".join(p for p in parts if p), "gate"))
    if spec.champion_challenger.enabled:
        metric = champion_metric(spec)
        better = "lower" if metric in LOWER_IS_BETTER else "higher"
        gates.append(Node("gate_champion", f"Champion/challenger: {metric} ({better} is better) vs "
                                           f"'{spec.registry.aliases.production}' alias, improvement ≥ "
                                           f"{number(spec.champion_challenger.min_improvement)}", "gate"))
    if spec.fairness is not None and fairness_enabled(spec):
        features = ", ".join(spec.fairness.sensitive_features) or "no features"
        gates.append(Node("gate_fairness", f"Fairness: {spec.fairness.metric} ≥ {number(spec.fairness.threshold)}"
                                           f" ({features})", "gate"))
    nodes.append(Node("gate_failed", "Pipeline fails: nothing registered", "fail"))
    explain = spec.explainability.enabled
    register_after = []
    for gate in gates:
        nodes.append(gate)
        edges.append(Edge(last, gate.id))
        edges.append(Edge(gate.id, "gate_failed", "fail", dotted=True))
        register_after.append(gate.id)
    if explain:
        nodes.append(Node("explainability", f"Explainability report ({spec.explainability.method})"))
        edges.append(Edge(last, "explainability"))
        register_after.append("explainability")

    validated = "all_gates"
    nodes.append(Node(validated, "All gates passed", "event"))
    edges.extend(Edge(source, validated, "pass" if source.startswith("gate") else "") for source in register_after)
    if not register_after:
        edges.append(Edge(last, validated))
    last = extensions("after_validation", validated)
    last = chain(Node("registration", "Register model version with lineage tags, model card, notification"), last)
    build = "Build, scan and push" if scans.container_scan else "Build and push"
    last = chain(Node("build_image", f"{build} image {spec.azure.registry}.azurecr.io/{spec.model.name}"), last)

    monitor = spec.rollout.monitor
    limits = (f"{monitor.duration_seconds} s: error rate ≤ {number(monitor.max_error_rate)}, "
              f"p95 ≤ {monitor.max_latency_ms} ms")
    target_steps = {"deploy", "route", "test", "monitor", "check", "promote"}
    for release in pipeline.releases:
        env = release.env
        if release.approval:
            last = chain(Node(_id("approval", env.name), f"Approval: {env.name} (once per release)", "approval"),
                         last)
        rollback = _id("rollback", env.name)
        has_rollback = any(step.kind == "rollback" for step in release.rollback)
        for phase_index, phase in enumerate(release.phases):
            for step in phase.steps:
                if step.kind not in target_steps and step.script != EXTENSION:
                    continue
                node_id = _id("step", env.name, phase_index, step.id)
                if step.kind == "monitor":
                    node = Node(node_id, f"{env.name}: monitor {limits}", "gate")
                elif step.script == EXTENSION:
                    node = Node(node_id, f"{env.name}: your step: {step.name}")
                else:
                    label = step.name if step.name.startswith(env.name) else f"{env.name}: {step.name}"
                    node = Node(node_id, label, "gate" if step.kind == "test" else "box")
                last = chain(node, last)
                if has_rollback and step.kind in ("monitor", "test", "check"):
                    edges.append(Edge(node_id, rollback, "fails", dotted=True))
        if has_rollback:
            nodes.append(Node(rollback, f"Roll back {env.name}: the previous version serves, alias unchanged",
                              "fail"))

    drift = spec.monitoring.drift
    if drift.enabled:
        last = chain(Node("drift", f"Drift monitoring: {drift.method} ≤ {number(drift.threshold)} "
                                   f"(schedule {drift.schedule} UTC)"), last)
    chain(Node("notify", "Deployment docs and notification"), last)
    return nodes, edges


def seeded_files(spec: ProjectSpec) -> list[str]:
    """Files written once and then owned by the user; pipeline files are always regenerated."""
    from mlops_gen.targets import docker, k8s, scripts

    files = [*scripts.outputs(spec), *docker.outputs(spec), *k8s.outputs(spec)]
    return sorted(f.path for f in files if f.mode == "seeded")


def drift_variable(spec: ProjectSpec, pipeline: Pipeline) -> dict[str, str] | None:
    """The pipeline variable the team sets to the recent production inputs when the watched deployment collects
    none (see pipeline.build.drift_current), with that environment; None when the drift check reads what Azure ML
    collected."""
    if not spec.monitoring.drift.enabled:
        return None
    current = drift_current(pipeline)
    if not isinstance(current, Ref):
        return None
    env = pipeline.monitored.env
    return {"name": current.arg, "env": env.name, "target": env.env.target}


def outputs(spec: ProjectSpec) -> list[OutputFile]:
    return [_readme(spec, pipeline_files(spec), None)]


def monorepo_model(spec: ProjectSpec, repo: Monorepo) -> list[OutputFile]:
    """The model's README in the monorepo layout: the same guide, naming the files from the repository root."""
    name = spec.model.name
    files = _monorepo_pipeline_files(spec, repo)
    per_model = azure_pipelines(spec)
    monorepo = {"shared": repo.shared(), "folder": repo.model(name),
                "workflow": Monorepo.caller(name).rsplit("/", 1)[-1],
                "manifests": k8s.MONOREPO_FILE,
                "azure_pipelines": {key: repo.model(name, value) if key.endswith("_file") else value
                                    for key, value in per_model.items()}}
    readme = _readme(spec, files, monorepo)
    return [replace(readme, path=repo.model(name, readme.path))]


def _monorepo_pipeline_files(spec: ProjectSpec, repo: Monorepo) -> list[PipelineFile]:
    from mlops_gen.layout.monorepo import target_files  # the layout's composer asks this module's hooks

    found = []
    for target in REGISTRY:
        if not target.platform or target.name not in spec.platforms:
            continue
        for output in sorted(target_files(spec, repo, target.name), key=lambda f: f.path):
            if output.path.endswith((".yml", ".yaml")):
                # the role from the file name without the model's name (a model may be called "deploy-x")
                role = _purpose(output.path.replace(spec.model.name, "model"))
                found.append(PipelineFile(PLATFORM_LABELS[target.name], output.path, role))
    return found


def _readme(spec: ProjectSpec, files: list[PipelineFile], monorepo: dict[str, Any] | None) -> OutputFile:
    pipeline = build_pipeline(spec)
    nodes, edges = flow(spec, pipeline)
    return OutputFile("README.md", "docs/README.md.j2", "docs",
                       extra={"pipeline_files": files, "monorepo": monorepo, "flow_nodes": nodes, "flow_edges": edges,
                              "platform_names": [PLATFORM_LABELS[p] for p in sorted(set(spec.platforms))],
                              "glob_branches": [b for b in spec.triggers.branches if "*" in b],
                              "drift_purpose": DRIFT_PURPOSE,
                              "drift_variable": drift_variable(spec, pipeline),
                              # the environment whose collected inputs the drift check reads, if any
                              "drift_collects_from": pipeline.monitored.env.name if spec.monitoring.drift.enabled
                              and isinstance(drift_current(pipeline), str) else None,
                              "seeded_files": seeded_files(spec),
                              "dispatch": pipeline.dispatch,
                              "extension_points": list(type(spec.extensions).model_fields)})
