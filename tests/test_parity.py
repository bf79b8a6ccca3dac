"""Both platforms run the same pipeline: the same scripts, gates, thresholds and environments.

For every spec that renders Azure DevOps and GitHub Actions, the `python <script>` calls of both platforms' YAML are
extracted (tests/pipeline_calls.py) and compared. A gate added, dropped or given another threshold on one platform
only fails here.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from mlops_gen.spec.validate import load_specs
from tests.conftest import CORPUS, ROOT, example_specs
from tests.pipeline_calls import (
    AZURE,
    GITHUB,
    PIPELINE_VARIABLE,
    Call,
    environment_names,
    hook_commands,
    iter_calls,
    load_yaml,
    pipeline_files,
    render_to,
    strings,
)

# Arguments that carry a gate, a threshold or a rollout limit: they must match value for value.
GATE_FLAGS = frozenset({
    "--min", "--max", "--threshold", "--sensitive-feature", "--metric", "--direction", "--min-improvement",
    "--max-error-rate", "--max-latency-ms", "--duration-seconds", "--interval-seconds", "--method", "--keep",
    "--alias", "--schedule", "--top-features",
})


def _both_platform_specs() -> list[Path]:
    specs = [*example_specs(), *sorted(CORPUS.glob("*.yaml"))]
    chosen = []
    for spec in specs:
        loaded = load_specs([str(spec)])[0].spec
        if {AZURE, GITHUB} <= set(loaded.platforms):
            chosen.append(spec)
    return chosen


EXTENSIONS = """
extensions:
  before_training: [{name: Before training, script: hooks/before_training.sh}]
  after_training: [{name: After training, script: hooks/after_training.py}]
  after_validation: [{name: After validation, script: hooks/after_validation.sh}]
  after_staging_deployment: [{name: After staging, script: hooks/after_staging.py}]
  after_production_deployment: [{name: After production, script: hooks/after_production.sh}]
"""
CHURN = (ROOT / "specs" / "customer-churn.yaml").read_text(encoding="utf-8")
# Variants of customer-churn covering every rollout strategy and every extension point on both platforms.
NOT_CANARY = CHURN.replace("  increments: [10, 25, 50, 100]\n", "")  # increments are canary's only
VARIANTS = {
    "churn-blue-green": NOT_CANARY.replace("strategy: canary", "strategy: blue_green"),
    "churn-rolling": NOT_CANARY.replace("strategy: canary", "strategy: rolling"),
    "churn-direct": NOT_CANARY.replace("strategy: canary", "strategy: direct"),
    "churn-extensions": CHURN + EXTENSIONS,
}
SPECS = _both_platform_specs()
NAMES = [spec.stem for spec in SPECS] + list(VARIANTS)


@pytest.fixture(scope="module")
def spec_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    variants = tmp_path_factory.mktemp("parity-specs")
    paths = {spec.stem: spec for spec in SPECS}
    for name, text in VARIANTS.items():
        paths[name] = variants / f"{name}.yaml"
        paths[name].write_text(text, encoding="utf-8")
    return paths


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory, spec_paths: dict[str, Path]) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("parity")
    return {name: next(iter(render_to([path], out / name).values())) for name, path in spec_paths.items()}


def _by_platform(tree: Path) -> dict[str, list[Call]]:
    calls: dict[str, list[Call]] = {AZURE: [], GITHUB: []}
    for call in iter_calls(tree):
        calls[call.platform].append(call)
    return calls


def _gate_arguments(calls: list[Call]) -> dict[str, set[tuple[str, str | None]]]:
    """Per script: every (flag, value) pair of a gate flag, over all of that script's calls."""
    found: dict[str, set[tuple[str, str | None]]] = defaultdict(set)
    for call in calls:
        for flag, value in call.pairs():
            if flag in GATE_FLAGS:
                found[call.script].add((flag, value))
    return dict(found)


def test_customer_churn_renders_both_platforms() -> None:
    assert any(spec.stem == "customer-churn" for spec in SPECS)


@pytest.mark.parametrize("name", NAMES)
def test_same_scripts_on_both_platforms(name: str, trees: dict[str, Path]) -> None:
    calls = _by_platform(trees[name])
    azure = {c.script for c in calls[AZURE]}
    github = {c.script for c in calls[GITHUB]}
    assert azure, "no python calls in the Azure DevOps pipelines"
    assert github, "no python calls in the GitHub Actions workflows"
    assert azure == github, f"Azure DevOps only: {sorted(azure - github)}; GitHub only: {sorted(github - azure)}"


@pytest.mark.parametrize("name", NAMES)
def test_same_gates_and_thresholds_on_both_platforms(name: str, trees: dict[str, Path]) -> None:
    calls = _by_platform(trees[name])
    azure, github = _gate_arguments(calls[AZURE]), _gate_arguments(calls[GITHUB])
    problems = []
    for script in sorted(set(azure) | set(github)):
        only_azure = azure.get(script, set()) - github.get(script, set())
        only_github = github.get(script, set()) - azure.get(script, set())
        if only_azure or only_github:
            problems.append(f"{script}: Azure DevOps only {sorted(only_azure, key=str)}, "
                            f"GitHub only {sorted(only_github, key=str)}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_gate_values_are_literals_from_the_spec(name: str, trees: dict[str, Path]) -> None:
    """A threshold read from a pipeline variable could differ at run time without a diff in the repository."""
    problems = []
    for call in iter_calls(trees[name]):
        for flag, value in call.pairs():
            if flag in GATE_FLAGS and value is not None and PIPELINE_VARIABLE.search(value):
                problems.append(f"{call.file}: {call.script} {flag} {value}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", NAMES)
def test_metric_gates_match_the_spec(name: str, trees: dict[str, Path], spec_paths: dict[str, Path]) -> None:
    from mlops_gen.render.filters import number
    from mlops_gen.spec.model import metric_gates

    loaded = load_specs([str(spec_paths[name])])[0].spec
    expected = set()
    for metric, bound in metric_gates(loaded).items():
        if bound.min is not None:
            expected.add(("--min", f"{metric}={number(bound.min)}"))
        if bound.max is not None:
            expected.add(("--max", f"{metric}={number(bound.max)}"))
    calls = _by_platform(trees[name])
    for platform in (AZURE, GITHUB):
        gates = _gate_arguments(calls[platform]).get("src/validation/validate_metrics.py", set())
        assert gates == expected, platform


@pytest.mark.parametrize("name", NAMES)
def test_same_environments_on_both_platforms(name: str, trees: dict[str, Path], spec_paths: dict[str, Path]) -> None:
    loaded = load_specs([str(spec_paths[name])])[0].spec
    expected = {env.name for env in loaded.environments}
    names = environment_names(trees[name])
    assert names[AZURE] == expected, f"Azure DevOps deployment job environments: {sorted(names[AZURE])}"
    assert names[GITHUB] == expected, f"GitHub Actions job environments: {sorted(names[GITHUB])}"
    calls = _by_platform(trees[name])
    deployed = {
        platform: {value for call in calls[platform] for flag, value in call.pairs() if flag == "--environment"}
        for platform in (AZURE, GITHUB)
    }
    assert deployed[AZURE] == deployed[GITHUB], deployed


def test_extension_steps_run_on_both_platforms(trees: dict[str, Path], spec_paths: dict[str, Path]) -> None:
    """Each extension script is invoked the same number of times on both platforms, with bash or python."""
    tree = trees["churn-extensions"]
    spec = load_specs([str(spec_paths["churn-extensions"])])[0].spec
    problems = []
    for point in type(spec.extensions).model_fields:
        for step in getattr(spec.extensions, point):
            runner = "bash" if step.script.endswith(".sh") else "python"
            counts = {AZURE: 0, GITHUB: 0}
            for relative, platform in pipeline_files(tree):
                for document in load_yaml(tree / relative):
                    for text in strings(document):
                        counts[platform] += sum(line.split()[:2] == [runner, step.script]
                                                for line in text.splitlines() if line.strip())
            if not counts[AZURE] or counts[AZURE] != counts[GITHUB]:
                problems.append(f"{point} {runner} {step.script}: Azure DevOps {counts[AZURE]}, "
                                f"GitHub {counts[GITHUB]}")
    assert not problems, "\n".join(problems)


def _azure_canary_increments(tree: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for relative, platform in pipeline_files(tree):
        if platform != AZURE:
            continue
        for document in load_yaml(tree / relative):
            for job in _deployment_jobs(document):
                canary = (job.get("strategy") or {}).get("canary")
                environment = job.get("environment")
                name = environment.get("name") if isinstance(environment, dict) else environment
                if canary and isinstance(name, str):
                    found[name] = [int(step) for step in canary.get("increments", [])]
    return found


def _deployment_jobs(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        own = [node] if "deployment" in node else []
        return own + [job for value in node.values() for job in _deployment_jobs(value)]
    if isinstance(node, list):
        return [job for item in node for job in _deployment_jobs(item)]
    return []


def test_canary_increments_on_both_platforms(trees: dict[str, Path], spec_paths: dict[str, Path]) -> None:
    """Azure's canary strategy and GitHub's chained jobs step through the spec's increments, in order."""
    spec = load_specs([str(spec_paths["customer-churn"])])[0].spec
    expected = list(spec.rollout.increments)
    tree = trees["customer-churn"]
    assert _azure_canary_increments(tree) == {"production": expected}
    github = [int(value) for call in iter_calls(tree) if call.platform == GITHUB
              and call.script == "src/deployment/deploy.py" and ("--environment", "production") in call.pairs()
              for flag, value in call.pairs() if flag == "--traffic-percentage" and value is not None]
    assert github == expected


def test_call_extractor_reads_continuations_quotes_and_operators() -> None:
    from tests.pipeline_calls import calls_in_text, placeholder_argv

    script = (
        "set -euo pipefail\n"
        "python src/validation/validate_metrics.py \\\n"
        "  --metrics-file \"$(Pipeline.Workspace)/m.json\" \\\n"
        "  --min accuracy=0.85 --min 'precision=0.8' \\\n"
        "  --junit-output ${{ env.OUT }}/x.xml > log.txt\n"
        "if ! python3 src/x.py --flag=1; then echo no; fi\n"
        "python -m pip install --requirement requirements.txt\n"
    )
    calls = calls_in_text(script, "f.yml", AZURE)
    assert [c.script for c in calls] == ["src/validation/validate_metrics.py", "src/x.py"]
    assert calls[0].pairs() == [("--metrics-file", "$(Pipeline.Workspace)/m.json"), ("--min", "accuracy=0.85"),
                                ("--min", "precision=0.8"), ("--junit-output", "${{ env.OUT }}/x.xml")]
    assert calls[1].pairs() == [("--flag", "1")]
    assert placeholder_argv(calls[0].argv)[1] == "PLACEHOLDER/m.json"


# Where and what each deployment script acts on: the same endpoints, deployments and clusters on both platforms.
DEPLOYMENT_FLAGS = frozenset({
    "--environment", "--target", "--endpoint-name", "--namespace", "--cluster", "--instance-type", "--instance-count",
    "--deployment-name", "--stable-deployment", "--candidate-deployment", "--alias", "--location",
})
DEPLOYMENT_SCRIPTS = ("src/deployment/", "src/registration/promote_model.py")


@pytest.mark.parametrize("name", NAMES)
def test_same_deployment_coordinates_on_both_platforms(name: str, trees: dict[str, Path]) -> None:
    found: dict[str, set[tuple[str, tuple[tuple[str, str | None], ...]]]] = {AZURE: set(), GITHUB: set()}
    for call in iter_calls(trees[name]):
        if call.script.startswith(DEPLOYMENT_SCRIPTS):
            pairs = tuple(sorted(pair for pair in call.pairs() if pair[0] in DEPLOYMENT_FLAGS))
            if ("--target", "aci") not in pairs:  # deploy.py reads --location for ACI only
                pairs = tuple(pair for pair in pairs if pair[0] != "--location")
            found[call.platform].add((call.script, pairs))
    only_azure = sorted(found[AZURE] - found[GITHUB])
    only_github = sorted(found[GITHUB] - found[AZURE])
    assert not only_azure and not only_github, (
        "Azure DevOps only:\n  " + "\n  ".join(map(str, only_azure)) +
        "\nGitHub only:\n  " + "\n  ".join(map(str, only_github)))


# ----- ordered parity: the same release, step for step, on both platforms -----

def _github_release(jobs: dict[str, Any], env: str) -> tuple[list[Any], list[Any]]:
    """A GitHub release job's commands: the success path (steps without `if`) and the rollback (`failure()`)."""
    (job,) = [job for job in jobs.values()
              if isinstance(job.get("environment"), dict) and job["environment"]["name"] == env]
    success = [step for step in job["steps"] if "if" not in step]
    failure = [step for step in job["steps"] if step.get("if") == "${{ failure() }}"]
    return hook_commands({"steps": success}), hook_commands({"steps": failure})


def _azure_release(stages: list[dict[str, Any]], ident: str) -> tuple[list[Any], list[Any]]:
    """An Azure DevOps deployment job's commands in the order Azure runs its hooks (each canary increment
    expanded); the rollback is on.failure's."""
    (stage,) = [stage for stage in stages if stage["stage"] == f"DeployTo{ident}"]
    (job,) = stage["jobs"]
    (strategy,) = job["strategy"].values()
    ran = hook_commands(strategy["preDeploy"]) if "preDeploy" in strategy else []
    for increment in strategy.get("increments") or [None]:
        for hook in ("deploy", "routeTraffic", "postRouteTraffic"):
            if hook in strategy:
                ran += hook_commands(strategy[hook], increment)
    hooks = strategy.get("on") or strategy[True]  # PyYAML reads the key `on` as YAML 1.1's true
    success = [step for step in hooks["success"]["steps"] if step.get("condition") != "failed()"]
    return ran + hook_commands({"steps": success}), hook_commands(hooks["failure"])


@pytest.mark.parametrize("name", NAMES)
def test_each_environment_releases_in_the_same_order_on_both_platforms(
        name: str, trees: dict[str, Path], spec_paths: dict[str, Path]) -> None:
    """Per environment, deploy, route, monitor, test (`python -m pytest` included), promote and roll back come in
    the same order with the same traffic shares and deployments on both platforms, read from the YAML alone."""
    from mlops_gen.render.context import environments

    spec = load_specs([str(spec_paths[name])])[0].spec
    tree = trees[name]
    github = load_yaml(tree / ".github/workflows/ml-pipeline.yml")[0]["jobs"]
    azure = load_yaml(tree / "azure-pipelines/deployment.yml")[0]["stages"]
    for view in environments(spec):
        gh_success, gh_rollback = _github_release(github, view.name)
        az_success, az_rollback = _azure_release(azure, view.ident)
        assert gh_success, view.name
        assert gh_success == az_success, f"{name} {view.name}:\n  GitHub {gh_success}\n  Azure  {az_success}"
        assert gh_rollback == az_rollback, f"{name} {view.name}:\n  GitHub {gh_rollback}\n  Azure  {az_rollback}"
