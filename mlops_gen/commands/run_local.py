"""`mlops-gen run-local SPEC [--workdir DIR] [--through ENV] [--inject FAULT]`: the pipeline on this machine.

The spec's layout (its repository configuration's `layout`) is generated into DIR (owned files refreshed, seeded
ones kept): per model, the model folder DIR/<model.name>/ holding its code too; in the monorepo layout DIR is the
root of a generated copy of the repository (DIR/mlops-gen.yaml, a copy of the configuration; DIR/<output>/_shared
with the code, DIR/<output>/<model.name>/, DIR/.github/workflows/). A virtual environment is built from the code's
requirements (cached by their hash), the sample data is made when the spec's local data file is missing, and the
pipeline model's steps run in order with `--backend local`, in the model folder (mlops_gen/local/folders.py says
where their code is): an MLflow sqlite store under the model folder's .mlops/state. A failing gate stops the run
before registration. Then the release to each environment up to ENV (default: the first), each endpoint a local
router splitting requests by weight between scoring servers; a failing step rolls the release back. Endpoints
outlive the run (suspended, started again by the next run in the same DIR), so a second run releases a second
version next to the first.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import click

from mlops_gen.commands.generate import run_generate
from mlops_gen.errors import EXIT_DIFFERENCES, UserError
from mlops_gen.local.folders import LOCAL_TARGET, Folders
from mlops_gen.local.release import (
    FAULTS,
    RunStages,
    local_status,
    print_summary,
    releases_through,
    run_release,
    summary,
    write_fault,
)
from mlops_gen.local.stages import (
    RESULTS,
    SAMPLE_DATA,
    STATE,
    Outcome,
    Stage,
    drift_stages,
    run_stage,
    skipped,
    stage_env,
    training_stages,
)
from mlops_gen.local.venv import ensure_venv
from mlops_gen.output.options import CONFIG_FILE
from mlops_gen.output.writer import atomic_write
from mlops_gen.pipeline import build_pipeline
from mlops_gen.render.context import spec_hash
from mlops_gen.repo_config.find import ConfigFile, find_config
from mlops_gen.spec.validate import SpecFile, load_specs

STAGE_TIMEOUT_SECONDS = 1800
REGISTER = "src/registration/register_model.py"
MONITOR_SECONDS = 6  # each local observation window, at most the spec's (--monitor-seconds)


def _git(folder: Path, *args: str) -> str | None:
    """One line of git output about the spec's repository, or None outside a repository or without git."""
    git = shutil.which("git")
    if not git:
        return None
    result = subprocess.run([git, "-C", str(folder), *args], capture_output=True, text=True, check=False, timeout=30)
    return result.stdout.strip() or None if result.returncode == 0 else None


def _lineage(spec_file: SpecFile) -> dict[str, str]:
    """Lineage tags like a pipeline's: a local build id, the spec repository's branch and commit, the spec hash."""
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    folder = spec_file.path.resolve().parent
    return {"build_id": f"local-{stamp}", "build_number": stamp,
            "branch": _git(folder, "rev-parse", "--abbrev-ref", "HEAD") or "local",
            "commit": _git(folder, "rev-parse", "HEAD") or "local", "spec_hash": spec_hash(spec_file.inputs)}


def _print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.stage.name) for o in outcomes)
    click.echo("")
    click.echo(f"{'stage':<{width}}  {'result':<7}  {'seconds':>7}")
    click.echo(f"{'-' * width}  {'-' * 7}  {'-' * 7}")
    for outcome in outcomes:
        seconds = f"{outcome.seconds:7.1f}" if outcome.status != "skipped" else f"{'-':>7}"
        click.echo(f"{outcome.stage.name:<{width}}  {outcome.status.upper():<7}  {seconds}")


def _runner(python: Path, folders: Folders) -> RunStages:
    env = stage_env(python, folders)

    def run(stages: list[Stage], first_index: int) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for index, stage in enumerate(stages, start=first_index):
            if not stage.runs_here:
                click.echo(f"[{index:02d}] {stage.name} ... skipped")
                outcomes.append(Outcome(stage, "skipped"))
                continue
            click.echo(f"[{index:02d}] {stage.name} ...", nl=False)
            outcome = run_stage(stage, index, python, folders, env, STAGE_TIMEOUT_SECONDS)
            click.echo(f" {outcome.status} ({outcome.seconds:.1f}s)")
            outcomes.append(outcome)
            if outcome.status == "failed":
                outcomes += skipped(stages[len(outcomes):])
                break
        return outcomes

    return run


def _drift_result(results: Path, outcomes: list[Outcome]) -> dict[str, object]:
    """drift | no_drift from the report, or error when the check failed: only drift starts retraining."""
    report = results / "drift-report.json"
    if any(o.status != "passed" for o in outcomes) or not report.exists():
        verdict: dict[str, object] = {"result": "error", "retrain": False}
    else:
        found = json.loads(report.read_text(encoding="utf-8"))
        verdict = {"result": found["result"], "retrain": found["result"] == "drift",
                   "drifted_features": found.get("drifted_features", [])}
    click.echo(f"drift check: {verdict['result']}; "
               + ("retraining is triggered (the pipeline's drift job dispatches a training run)"
                  if verdict["retrain"] else "no retraining"))
    return verdict


def _suspend_servers(python: Path, folders: Folders) -> None:
    """Stop the local routers and scoring servers; their records stay for the next run in this work dir."""
    if (folders.code / LOCAL_TARGET).exists():
        subprocess.run([str(python), folders.code_path(LOCAL_TARGET), "suspend", "--workdir", STATE],
                       cwd=folders.model, env=stage_env(python, folders), capture_output=True, check=False,
                       timeout=120)


def _generate(spec_file: SpecFile, spec: str, root: Path, config: ConfigFile | None,
              config_option: str | None) -> Folders:
    """Generate the spec's layout into `root`; where the model's files and the code are."""
    from mlops_gen.layout.units import layout_of

    name = spec_file.spec.model.name
    if config is None or layout_of(config) != "monorepo":
        run_generate([spec], str(root), config_option=config_option)
        return Folders.per_model(root / name)
    from mlops_gen.layout import units
    from mlops_gen.registry import TARGETS

    copy = _repository_config(config, root)
    repo = units.repository(copy, None)
    units.run_generate(copy, [spec], None, TARGETS, dry_run=False, verbose=False, override_dirs=(), jobs=0,
                       adopt=())
    return Folders.shared(repo.root / repo.paths.model(name), repo.root / repo.paths.shared())


def _repository_config(config: ConfigFile, root: Path) -> ConfigFile:
    """The configuration of the generated repository at `root`: the spec's own when `root` is its folder, else a
    copy written to root/mlops-gen.yaml (the monorepo layout's paths are relative to the configuration's folder)."""
    if root.resolve() == config.folder.resolve():
        return config
    path = root / CONFIG_FILE
    if not path.is_file() or path.read_bytes() != config.raw:
        if path.exists():
            click.echo(f"{path}: replaced by a copy of {config.shown_as} (this work dir's repository configuration)")
        root.mkdir(parents=True, exist_ok=True)
        atomic_write(path, config.raw, executable=False)
    copy = find_config(str(path))
    assert copy is not None
    return copy


def run_run_local(spec: str, workdir: str, through: str | None = None, inject: str | None = None,
                  monitor_seconds: int = MONITOR_SECONDS, config_option: str | None = None) -> int:
    config = find_config(config_option)
    specs = load_specs([spec], config)
    if len(specs) != 1:
        raise UserError(f"{spec}: run-local takes one spec file")
    if inject is not None and inject not in FAULTS:
        raise UserError(f"--inject {inject}: use one of {', '.join(FAULTS)}")
    spec_file = specs[0]
    model = spec_file.spec
    pipeline = build_pipeline(model)
    releases = releases_through(pipeline, through)
    root = Path(workdir)
    if root.exists() and not root.is_dir():
        raise UserError(f"{workdir}: exists and is not a directory")
    folders = _generate(spec_file, spec, root, config, config_option)
    model_dir = folders.model
    python = ensure_venv(folders.requirements())
    results = model_dir / RESULTS
    for stale in results.glob("*") if results.exists() else []:  # this run's results only
        if stale.is_file():
            stale.unlink()
    run = _runner(python, folders)

    data_path = model.data.local_path
    prepare = [] if (model_dir / data_path).exists() else [
        Stage("make sample data", (SAMPLE_DATA, "--output", data_path), local_flags=False)]
    lineage = _lineage(spec_file)
    outcomes = run([*prepare, *training_stages(model, lineage, data_path)], 1)
    training = list(outcomes)
    trained = all(o.status == "passed" for o in outcomes)
    release_results = []
    drift_result: dict[str, object] | None = None
    try:
        if trained:
            version = json.loads((results / "version.json").read_text(encoding="utf-8"))["version"]
            write_fault(model_dir, None, "", 0)
            for release in releases:
                if release is releases[-1]:  # a fault hits the version under release in ENV, the last one
                    write_fault(model_dir, inject, str(version), float(model.rollout.monitor.max_latency_ms))
                result = run_release(release, run, lineage, data_path, len(outcomes) + 1, click.echo,
                                     monitor_seconds)
                release_results.append(result)
                outcomes += result.outcomes
                if not result.completed:
                    break
            if all(result.completed for result in release_results) and model.monitoring.drift.enabled:
                drift = run(drift_stages(model, inject == "drift"), len(outcomes) + 1)
                outcomes += drift
                drift_result = _drift_result(results, drift)
        aliases = [model.registry.aliases.staging, model.registry.aliases.production]
        status = local_status(python, folders, stage_env(python, folders), model.model.name, aliases)
    finally:
        write_fault(model_dir, None, "", 0)
        _suspend_servers(python, folders)

    _print_table(outcomes)
    report = summary(pipeline, status, release_results, training)
    report["drift"] = drift_result
    failed = next((o for o in outcomes if o.status == "failed"), None)
    report.update({"spec": spec_file.shown_as, "model_dir": str(model_dir), "passed": failed is None,
                   "through": releases[-1].env.name, "inject": inject,
                   "failed_stage": failed.stage.name if failed else None,
                   "stages": [{"name": o.stage.name, "status": o.status, "seconds": round(o.seconds, 2),
                               "exit_code": o.exit_code, "gate": o.stage.gate} for o in outcomes]})
    results.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2) + "\n"
    (results / "run-local.json").write_text(text, encoding="utf-8")
    (root / "summary.json").write_text(text, encoding="utf-8")
    print_summary(report, click.echo)
    click.echo(f"\nresults: {results}; summary: {root / 'summary.json'}")
    if failed is None:
        version = json.loads((results / "version.json").read_text(encoding="utf-8"))
        click.echo(f"registered {version['model_name']} version {version['version']}; released through "
                   f"{releases[-1].env.name}; model card: {results / 'model_card.md'}")
        click.echo("run-local: every stage passed")
        return 0
    kind = "gate" if failed.stage.gate else "stage"
    click.echo(f"run-local: FAILED at {kind} '{failed.stage.name}' (exit {failed.exit_code}); log: {failed.log}",
               err=True)
    for line in failed.tail:
        click.echo(f"  | {line}", err=True)
    if not trained:
        if not any(o.stage.argv[:1] == (REGISTER,) and o.status == "passed" for o in outcomes):
            click.echo("run-local: no model version was registered", err=True)
    else:
        click.echo("run-local: the release was stopped and rolled back", err=True)
    return EXIT_DIFFERENCES
