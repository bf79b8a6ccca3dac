"""The generated repository's own code-quality job passes: for the example specs, the commands of the GitHub
`code-quality` job (lint, type check, unit tests with the coverage minimum) and the bandit step of
`security-scan`, read from the generated workflow so this test follows the template, run in the model folder
inside a venv with requirements.txt + requirements-dev.txt and each exit 0.

The venv comes from the run-local cache (mlops_gen/local/venv.py); set MLOPS_GEN_CACHE_DIR to reuse it across runs.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from mlops_gen.cli import run
from mlops_gen.local import venv
from mlops_gen.pipeline.dispatch import INPUTS
from tests.conftest import SPECS

pytestmark = pytest.mark.slow

# pip-audit (security-scan) needs the network and the vulnerability database: not a property of the generated code.
OFFLINE_STEPS = ("pip-audit",)



def job_commands(workflow: Path, job: str) -> list[str]:
    """The `run:` scripts of a job's steps, minus the dependency installation (the venv already holds it)."""
    steps = yaml.safe_load(workflow.read_text(encoding="utf-8"))["jobs"][job]["steps"]
    # The check of a manual run's inputs (it reads them from its env) is the pipeline's, not the code's.
    dispatch = {item.variable for item in INPUTS}
    scripts = [step["run"] for step in steps if "run" in step and not dispatch & set(step.get("env") or {})]
    scripts = [s for s in scripts if not any(tool in s for tool in OFFLINE_STEPS)]
    installs = [s for s in scripts if s.startswith("python -m pip install")]
    assert installs == ["python -m pip install --requirement requirements.txt --requirement requirements-dev.txt"]
    return [s for s in scripts if s not in installs]


def tool_path(python: Path, shims: Path) -> str:
    """PATH with the venv's tools first. A cached venv is built elsewhere and renamed into place, so the console
    scripts' `#!` lines name a folder that no longer exists; a shim runs each script with the venv's python."""
    shims.mkdir(exist_ok=True)
    for script in python.parent.iterdir():
        head = script.read_bytes()[:256] if script.is_file() else b""
        if head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]:
            interpreter = head.split(b"\n", 1)[0][2:].decode().strip()
            if not Path(interpreter).exists():
                shim = shims / script.name
                shim.write_text(f'#!/bin/sh\nexec {shlex.quote(str(python))} {shlex.quote(str(script))} "$@"\n',
                                encoding="utf-8")
                shim.chmod(0o755)
    return os.pathsep.join([str(shims), str(python.parent), os.environ.get("PATH", "")])


@pytest.mark.parametrize("spec", ["customer-churn", "house-prices"])
def test_generated_code_quality_commands_pass(spec: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run(["generate", str(SPECS / f"{spec}.yaml"), "-o", str(out)]) == 0
    folder = out / spec
    workflow = folder / ".github" / "workflows" / "ml-pipeline.yml"
    commands = job_commands(workflow, "code-quality") + job_commands(workflow, "security-scan")
    assert [c.split()[0] for c in commands] == ["ruff", "mypy", "python", "bandit"]
    assert any("--cov-fail-under=" in c for c in commands)
    python = venv.ensure_venv([folder / "requirements.txt", folder / "requirements-dev.txt"])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "MLOPS_", "ENDPOINT_", "PYTHON"))}
    env["PATH"] = tool_path(python, tmp_path / "shims")
    for command in commands:
        # GitHub runs `run:` with `bash -e {0}`.
        result = subprocess.run(["bash", "-e", "-c", command], cwd=folder, env=env, capture_output=True, text=True,
                                check=False, timeout=900)
        assert result.returncode == 0, f"{command}\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
