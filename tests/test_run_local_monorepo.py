"""run-local in both layouts (issue 14, deliverable 5): where the code of each step is.

In the monorepo layout the work dir is a generated copy of the repository, and every step runs the shared scripts
(`<out>/_shared/src/...`, the shared tests) in the model's folder with MLOPS_MODEL_DIR naming it; in the per-model
layout every step runs the model folder's own scripts, as before. The fast tests fake the venv and every process
run-local starts; the slow one runs the pipeline for real (one trained model, the suite's shared venv).
"""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mlops_gen.cli import run
from mlops_gen.commands import run_local
from mlops_gen.layout.paths import SHARED
from mlops_gen.local.folders import LOCAL_TARGET, MODEL_DIR_VARIABLE
from tests.conftest import ROOT, SPECS

CHURN = SPECS / "customer-churn.yaml"
CONFIG = "apiVersion: mlops-gen/v1\nkind: RepositoryConfig\nlayout: {layout}\noutput: models\n"
REGISTER = "src/registration/register_model.py"


def _repository(tmp_path: Path, layout: str) -> Path:
    """A specs repository whose mlops-gen.yaml says `layout`; its configuration's path."""
    repo = tmp_path / "repo"
    (repo / "specs").mkdir(parents=True)
    (repo / "specs" / CHURN.name).write_bytes(CHURN.read_bytes())
    config = repo / "mlops-gen.yaml"
    config.write_text(CONFIG.format(layout=layout), encoding="utf-8")
    return config


class FakeProcesses:
    """Stands in for every process run-local starts with the venv's python: records argv, cwd and env; a stage
    passes unless its command line holds `fail`; register and status answer as the scripts would."""

    def __init__(self, python: Path, real: Any) -> None:
        self.python, self.real = str(python), real
        self.calls: list[tuple[list[str], Path, dict[str, str]]] = []
        self.fail: str | None = None
        self.venvs: list[list[Path]] = []  # the requirements of each venv asked for

    def __call__(self, argv: list[str], *args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if not argv or argv[0] != self.python:  # git, for the lineage tags
            result: subprocess.CompletedProcess[str] = self.real(argv, *args, **kwargs)
            return result
        cwd = Path(kwargs["cwd"])
        self.calls.append((list(argv), cwd, dict(kwargs["env"])))
        script = Path(argv[1]).as_posix()
        if script.endswith(REGISTER):
            version = {"version": 1 + sum(c[0][1].endswith(REGISTER) for c in self.calls[:-1]),
                       "model_name": "customer-churn"}
            (cwd / ".mlops/results/version.json").write_text(json.dumps(version), encoding="utf-8")
        if script.endswith(LOCAL_TARGET) and argv[2] == "status":
            return subprocess.CompletedProcess(argv, 0, json.dumps({"endpoints": {}, "aliases": {}}), "")
        failed = self.fail is not None and any(self.fail in arg for arg in argv)
        return subprocess.CompletedProcess(argv, 1 if failed else 0, "", "")


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeProcesses:
    python = tmp_path / "venv" / "bin" / "python"
    processes = FakeProcesses(python, subprocess.run)

    def ensure_venv(requirements: list[Path]) -> Path:
        processes.venvs.append(requirements)
        assert all(path.is_file() for path in requirements)
        return python

    monkeypatch.setattr(run_local, "ensure_venv", ensure_venv)
    monkeypatch.setattr(subprocess, "run", processes)
    return processes


def _code_args(argv: list[str]) -> list[str]:
    """The arguments that name code: the script, or a pytest step's test folders (positional, after pytest)."""
    if argv[1:3] != ["-m", "pytest"]:
        return [argv[1]]
    found, rest = [], argv[3:]
    for index, arg in enumerate(rest):
        if not arg.startswith("-") and (index == 0 or not rest[index - 1].startswith("-")
                                        or "=" in rest[index - 1]):
            found.append(arg)
    return found


def test_monorepo_steps_run_the_shared_scripts_in_the_model_folder(tmp_path: Path, fake: FakeProcesses,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    config = _repository(tmp_path, "monorepo")
    work = tmp_path / "work"
    spec = str(config.parent / "specs" / CHURN.name)
    assert run(["run-local", spec, "--workdir", str(work), "--config", str(config), "--through", "production"]) == 0
    assert "run-local: every stage passed" in capsys.readouterr().out
    # A second run whose production monitor fails: the rollback steps run, with the same code.
    fake.fail = "monitor_deployment.py"
    assert run(["run-local", spec, "--workdir", str(work), "--config", str(config), "--through", "production"]) == 1
    assert "rolled back" in capsys.readouterr().err

    shared, model = (work / "models" / SHARED).resolve(), (work / "models" / "customer-churn").resolve()
    assert (work / "mlops-gen.yaml").read_bytes() == config.read_bytes()  # the work dir is the repository's root
    assert (work / ".github" / "workflows" / "mlops-customer-churn.yml").is_file()
    assert not (model / "src").exists() and (model / "config" / "plan.json").is_file()
    assert fake.venvs == 2 * [[shared / "requirements.txt", shared / "requirements-dev.txt"]]

    scripts = set()
    for argv, cwd, env in fake.calls:
        assert cwd == model, argv
        assert env[MODEL_DIR_VARIABLE] == str(model), argv
        assert env["MLOPS_BACKEND"] == "local"
        for arg in _code_args(argv):
            path = Path(arg)
            assert path.is_absolute() and path.exists() and shared in path.parents, argv
            scripts.add(path.relative_to(shared).as_posix())
        assert not any(arg.startswith("src/") for arg in argv), argv
    summary = json.loads((work / "summary.json").read_text(encoding="utf-8"))
    stages = {stage["name"] for stage in summary["stages"]}
    assert "make sample data" in stages and "Roll back production" in stages
    assert {"src/data/make_sample_data.py", REGISTER, "src/deployment/deploy.py", "src/deployment/rollback.py",
            "src/monitoring/detect_drift.py", "tests/smoke_test.py", "tests/endpoint", LOCAL_TARGET} <= scripts
    assert summary["model_dir"] == str(model)
    assert summary["releases"] == {"staging": "completed", "production": "rolled back"}


def test_per_model_steps_run_the_model_folders_own_scripts(tmp_path: Path, fake: FakeProcesses) -> None:
    """Unchanged by the monorepo layout: relative script paths in the model folder, no MLOPS_MODEL_DIR."""
    config = _repository(tmp_path, "per-model")
    work = tmp_path / "work"
    spec = str(config.parent / "specs" / CHURN.name)
    assert run(["run-local", spec, "--workdir", str(work), "--config", str(config)]) == 0
    model = (work / "customer-churn").resolve()
    assert fake.venvs == [[model / "requirements.txt", model / "requirements-dev.txt"]]
    assert not (work / "mlops-gen.yaml").exists() and not (work / "models").exists()
    assert fake.calls
    for argv, cwd, env in fake.calls:
        assert cwd == model and MODEL_DIR_VARIABLE not in env, argv
        for arg in _code_args(argv):
            assert not Path(arg).is_absolute() and (model / arg).exists(), argv


def test_the_model_folder_variable_is_the_scripts_own() -> None:
    tree = ast.parse((ROOT / "templates" / "scripts" / "src" / "common" / "paths.py").read_text(encoding="utf-8"))
    values = {target.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
              for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant)}
    assert values["MODEL_DIR_VARIABLE"] == MODEL_DIR_VARIABLE


@pytest.mark.slow
def test_monorepo_run_local_releases_then_a_failed_smoke_test_rolls_back(tmp_path: Path) -> None:
    """For real, in the suite's shared venv (the shared requirements are the per-model ones): a run through the
    first environment passes; a second run whose candidate fails the smoke test rolls back, and the first version
    keeps serving. (`--inject smoke-failure` through staging costs one training like the first run; canary-errors
    would need a release through production as well.)"""
    config = _repository(tmp_path, "monorepo")
    spec, work = str(config.parent / "specs" / CHURN.name), tmp_path / "work"
    assert run(["run-local", spec, "--workdir", str(work), "--config", str(config), "--monitor-seconds", "2"]) == 0
    first = json.loads((work / "summary.json").read_text(encoding="utf-8"))
    model = work / "models" / "customer-churn"
    assert first["passed"] and first["releases"] == {"staging": "completed"}
    assert first["aliases"]["staging"] == "1" and first["drift"]["result"] == "no_drift"
    assert (model / ".mlops" / "results" / "model_card.md").is_file()
    deploy = next((model / ".mlops" / "results" / "logs").glob("*-Deploy-to-staging.log")).read_text("utf-8")
    assert deploy.startswith(f"$ {(work / 'models' / SHARED).resolve()}/src/deployment/deploy.py ")

    assert run(["run-local", spec, "--workdir", str(work), "--config", str(config), "--inject", "smoke-failure"]) == 1
    second = json.loads((work / "summary.json").read_text(encoding="utf-8"))
    assert second["failed_stage"] == "Smoke test staging"
    assert second["releases"] == {"staging": "rolled back"}
    assert {d["version"]: d["traffic"] for d in second["environments"]["staging"]["deployments"].values()} == {"1": 100}
    assert second["aliases"]["staging"] == "1"
    assert any(s["name"] == "Roll back staging" and s["status"] == "passed" for s in second["stages"])
