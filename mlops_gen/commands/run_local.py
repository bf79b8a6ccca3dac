"""`mlops-gen run-local SPEC [--workdir DIR]`: the training pipeline, the scoring server and the endpoint tests,
all on this machine.

The model folder is generated into DIR/<model.name>/ (owned files refreshed, seeded ones kept), a virtual
environment is built from its requirements (cached by their hash), the sample data is made when the spec's local
data file is missing, and the stages run in pipeline order with `--backend local`: an MLflow sqlite store under
the model folder's .mlops/state. A failing gate stops the run before registration, so no version is registered.
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
from mlops_gen.local.stages import (
    RESULTS,
    STATE,
    Outcome,
    Stage,
    run_stage,
    serving_stages,
    skipped,
    stage_env,
    training_stages,
)
from mlops_gen.local.venv import ensure_venv
from mlops_gen.render.context import spec_hash
from mlops_gen.spec.validate import SpecFile, load_specs

STAGE_TIMEOUT_SECONDS = 1800


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
            "commit": _git(folder, "rev-parse", "HEAD") or "local", "spec_hash": spec_hash(spec_file.raw)}


def _print_table(outcomes: list[Outcome]) -> None:
    width = max(len(o.stage.name) for o in outcomes)
    click.echo("")
    click.echo(f"{'stage':<{width}}  {'result':<7}  {'seconds':>7}")
    click.echo(f"{'-' * width}  {'-' * 7}  {'-' * 7}")
    for outcome in outcomes:
        seconds = f"{outcome.seconds:7.1f}" if outcome.status != "skipped" else f"{'-':>7}"
        click.echo(f"{outcome.stage.name:<{width}}  {outcome.status.upper():<7}  {seconds}")


def _run(stages: list[Stage], python: Path, model_dir: Path, first_index: int) -> list[Outcome]:
    env = stage_env(python)
    outcomes: list[Outcome] = []
    for index, stage in enumerate(stages, start=first_index):
        click.echo(f"[{index:02d}] {stage.name} ...", nl=False)
        outcome = run_stage(stage, index, python, model_dir, env, STAGE_TIMEOUT_SECONDS)
        click.echo(f" {outcome.status} ({outcome.seconds:.1f}s)")
        outcomes.append(outcome)
        if outcome.status == "failed":
            outcomes += skipped(stages[len(outcomes):])
            break
    return outcomes


def _stop_servers(python: Path, model_dir: Path) -> None:
    script = model_dir / "src" / "deployment" / "local_target.py"
    if script.exists():
        subprocess.run([str(python), str(script), "stop", "--workdir", STATE], cwd=model_dir, env=stage_env(python),
                       capture_output=True, check=False, timeout=120)


def run_run_local(spec: str, workdir: str) -> int:
    specs = load_specs([spec])
    if len(specs) != 1:
        raise UserError(f"{spec}: run-local takes one spec file")
    spec_file = specs[0]
    model = spec_file.spec
    root = Path(workdir)
    if root.exists() and not root.is_dir():
        raise UserError(f"{workdir}: exists and is not a directory")
    run_generate([spec], str(root))
    model_dir = (root / model.model.name).resolve()
    python = ensure_venv([model_dir / "requirements.txt", model_dir / "requirements-dev.txt"])
    results = model_dir / RESULTS
    for stale in results.glob("*") if results.exists() else []:  # this run's results only
        if stale.is_file():
            stale.unlink()

    data_path = model.data.local_path
    prepare = [] if (model_dir / data_path).exists() else [
        Stage("make sample data", ("src/data/make_sample_data.py", "--output", data_path), local_flags=False)]
    lineage = _lineage(spec_file)
    training = [*prepare, *training_stages(model, lineage, data_path)]
    outcomes = _run(training, python, model_dir, 1)
    if all(o.status == "passed" for o in outcomes):
        try:
            outcomes += _run(serving_stages(model, lineage, data_path), python, model_dir, len(outcomes) + 1)
        finally:
            _stop_servers(python, model_dir)
    else:
        outcomes += skipped(serving_stages(model, lineage, data_path))

    _print_table(outcomes)
    failed = next((o for o in outcomes if o.status == "failed"), None)
    summary = {"spec": spec_file.shown_as, "model_dir": str(model_dir), "passed": failed is None,
               "failed_stage": failed.stage.name if failed else None,
               "stages": [{"name": o.stage.name, "status": o.status, "seconds": round(o.seconds, 2),
                           "exit_code": o.exit_code, "gate": o.stage.gate} for o in outcomes]}
    results.mkdir(parents=True, exist_ok=True)
    (results / "run-local.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    click.echo(f"\nresults: {results}")
    if failed is None:
        version = json.loads((results / "version.json").read_text(encoding="utf-8"))
        click.echo(f"registered {version['model_name']} version {version['version']} "
                   f"(alias {model.registry.aliases.staging}); model card: {results / 'model_card.md'}")
        click.echo("run-local: every stage passed")
        return 0
    kind = "gate" if failed.stage.gate else "stage"
    click.echo(f"run-local: FAILED at {kind} '{failed.stage.name}' (exit {failed.exit_code}); log: {failed.log}",
               err=True)
    for line in failed.tail:
        click.echo(f"  | {line}", err=True)
    if not any(o.stage.name == "register model" and o.status == "passed" for o in outcomes):
        click.echo("run-local: no model version was registered", err=True)
    return EXIT_DIFFERENCES
