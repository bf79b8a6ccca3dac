"""run-local through the release path: the model's releases, environment by environment, on the local backend.

Each release runs its phases' steps in order; the first failing step stops it and the release's rollback steps
run (as the platforms run them on failure). Approvals are printed and granted. `--inject` makes the run face a
failure through the local router (src/deployment/local_router.py): the version under release answers 5xx, or
slowly, or fails once it takes all traffic; or the drift check sees shifted data.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_gen.errors import UserError
from mlops_gen.local.folders import LOCAL_TARGET, Folders
from mlops_gen.local.stages import RESULTS, STATE, Outcome, Stage, skipped, to_stage
from mlops_gen.pipeline import Pipeline, Release, Step

# --inject FAULT -> what the local router does to the version under release (None: not a serving fault).
FAULTS: dict[str, str | None] = {
    "canary-errors": "errors",  # every request it serves answers 503
    "slow-candidate": "slow",  # every request it serves takes longer than the monitor allows
    "smoke-failure": "errors-at-full",  # it fails once it takes all traffic: the tests after the last shift
    "drift": None,  # the drift check compares the training data with a shifted copy
}


@dataclass
class ReleaseResult:
    env: str
    outcomes: list[Outcome]
    completed: bool


RunStages = Callable[[list[Stage], int], list[Outcome]]


def releases_through(pipeline: Pipeline, through: str | None) -> list[Release]:
    """The releases up to and including environment `through` (default: the first environment)."""
    names = [release.env.name for release in pipeline.releases]
    target = through or names[0]
    if target not in names:
        raise UserError(f"--through {target}: the spec has no environment {target!r} (it has {', '.join(names)})")
    return list(pipeline.releases[: names.index(target) + 1])


def write_fault(model_dir: Path, fault: str | None, version: str, latency_ms: float) -> None:
    """faults.json for the local router: which model version misbehaves and how; removed when there is none."""
    path = model_dir / STATE / "serving" / "faults.json"
    kind = FAULTS.get(fault or "")
    if kind is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"version": version, "kind": kind, "latency_ms": latency_ms * 3}) + "\n",
                    encoding="utf-8")


def monitor_window(release: Release, seconds: int) -> dict[str, str]:
    """Flags that shorten each observation window to `seconds` (at most the spec's): on this machine the monitor
    checks the orchestration and the router's split, not a production traffic sample."""
    monitors = [step for step in release.steps() if step.kind == "monitor"]
    if not monitors:
        return {}
    duration, interval = (monitors[0].value(flag) for flag in ("--duration-seconds", "--interval-seconds"))
    duration = duration if isinstance(duration, int) else seconds
    interval = interval if isinstance(interval, int) else 1
    window = max(1, min(duration, seconds))
    return {"--duration-seconds": str(window), "--interval-seconds": str(max(1, min(interval, window // 3 or 1)))}


def run_release(release: Release, run: RunStages, lineage: dict[str, str], data_path: str,
                first_index: int, echo: Callable[[str], None], monitor_seconds: int) -> ReleaseResult:
    """The release's steps in order; on the first failure, the rollback steps."""
    if release.approval:
        echo(f"approval for {release.env.name}: required once for this release; granted by run-local")
    steps: list[Step] = list(release.steps())
    window = monitor_window(release, monitor_seconds)
    stages = [to_stage(step, lineage, data_path, window if step.kind == "monitor" else None) for step in steps]
    if window:  # say which window ran: the step's name carries the spec's
        stages = [Stage(f"{stage.name} [run-local: {window['--duration-seconds']}s]", stage.argv, stage.gate,
                        stage.local_flags) if step.kind == "monitor" else stage
                  for stage, step in zip(stages, steps, strict=True)]
    outcomes = run(stages, first_index)
    if all(outcome.status == "passed" for outcome in outcomes):
        return ReleaseResult(release.env.name, outcomes, True)
    rollback = [to_stage(step, lineage, data_path) for step in release.rollback]
    if rollback:
        echo(f"{release.env.name}: a step failed; rolling back")
        for stage in rollback:  # each runs whatever the one before did, like steps on failure()
            outcomes += run([stage], first_index + len(outcomes))
    return ReleaseResult(release.env.name, outcomes, False)


def local_status(python: Path, folders: Folders, env: dict[str, str], model_name: str,
                 aliases: list[str]) -> dict[str, Any]:
    """Each local endpoint's weights and versions, and the version holding each alias, from the generated
    scripts (they know the local backend's state, in the model folder)."""
    argv = [str(python), folders.code_path(LOCAL_TARGET), "status", "--workdir", STATE, "--model-name", model_name]
    for alias in aliases:
        argv += ["--alias", alias]
    result = subprocess.run(argv, cwd=folders.model, env=env, capture_output=True, text=True, check=False, timeout=300)
    if result.returncode != 0:
        return {"error": (result.stderr or result.stdout).strip()[-2000:]}
    status: dict[str, Any] = json.loads(result.stdout)
    return status


def summary(pipeline: Pipeline, status: dict[str, Any], results: list[ReleaseResult],
            training: list[Outcome]) -> dict[str, Any]:
    endpoints = status.get("endpoints", {})
    environments = {}
    for release in pipeline.releases:
        served = endpoints.get(release.env.endpoint_name, {})
        weights = served.get("weights", {})
        environments[release.env.name] = {
            "endpoint": release.env.endpoint_name,
            "deployments": {name: {"version": version, "traffic": weights.get(name, 0)}
                            for name, version in sorted(served.get("deployments", {}).items())},
        }
    steps = [{"stage": "training", "name": o.stage.name, "status": o.status, "exit_code": o.exit_code}
             for o in training]
    for result in results:
        steps += [{"stage": result.env, "name": o.stage.name, "status": o.status, "exit_code": o.exit_code}
                  for o in result.outcomes]
    return {"environments": environments, "aliases": status.get("aliases", {}), "steps": steps,
            "releases": {result.env: "completed" if result.completed else "rolled back" for result in results}}


def print_summary(data: dict[str, Any], echo: Callable[[str], None]) -> None:
    echo("")
    echo(f"{'environment':<16} {'deployment':<28} {'version':>7} {'traffic':>8}")
    for env, item in data["environments"].items():
        for name, deployment in item["deployments"].items():
            echo(f"{env:<16} {name:<28} {deployment['version']:>7} {deployment['traffic']:>7}%")
    for alias, version in sorted(data["aliases"].items()):
        echo(f"alias {alias}: version {version if version else '-'}")
    for env, verdict in data["releases"].items():
        echo(f"release to {env}: {verdict}")


def results_dir(model_dir: Path) -> Path:
    return model_dir / RESULTS


__all__ = ["FAULTS", "ReleaseResult", "local_status", "print_summary", "releases_through", "results_dir",
           "run_release", "skipped", "summary", "write_fault"]
