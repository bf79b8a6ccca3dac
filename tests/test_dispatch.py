"""Day-2 control (issue 12 item 10): the manual operations and the check of their inputs.

The actions and input names live in one place (mlops_gen.pipeline.dispatch). A manual run's inputs are free
text whatever the form offered (GitHub passes `inputs.*` through, `github.event.inputs.*` as strings; see
https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onworkflow_dispatchinputs and
the Azure Pipelines runtime parameters,
https://learn.microsoft.com/en-us/azure/devops/pipelines/process/runtime-parameters), so the guard reads them from
environment variables and refuses, with exit 2 and a message naming what it expects, anything but a known action,
one of the spec's environments and a positive integer version for a deploy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_gen.pipeline.dispatch import ACTIONS, DEPLOY, INPUTS, REFUSED, guard_script

ENVS = ("dev", "staging", "prod")
BASH = shutil.which("bash")
pytestmark = pytest.mark.skipif(BASH is None, reason="needs bash")


def run_guard(action: str, environment: str = "", version: str = "",
              cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    variables = dict(zip((item.variable for item in INPUTS), (action, environment, version), strict=True))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **variables}
    assert BASH is not None
    return subprocess.run([BASH, "--noprofile", "--norc", "-euo", "pipefail", "-c", guard_script(ENVS)],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=30)


def test_one_source_for_actions_and_inputs() -> None:
    assert [action.name for action in ACTIONS] == ["train", "deploy", "rollback"]
    assert ACTIONS[0].name == "train"  # the default: what a manual run did before
    assert [item.name for item in INPUTS] == ["action", "environment", "version"]
    assert len({item.variable for item in INPUTS}) == len(INPUTS)
    assert [action for action in ACTIONS if action.needs_version] == [DEPLOY]


@pytest.mark.parametrize(("action", "environment", "version"), [
    ("train", "", ""),  # a plain manual training run needs neither environment nor version
    ("deploy", "prod", "7"),
    ("deploy", "dev", "123456789"),
    ("rollback", "staging", ""),
])
def test_guard_accepts_a_valid_request(action: str, environment: str, version: str) -> None:
    result = run_guard(action, environment, version)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(("action", "environment", "version", "message"), [
    ("deploy", "prod", "", "version must be a positive integer"),
    ("deploy", "prod", "0", "version must be a positive integer"),
    ("deploy", "prod", "-1", "version must be a positive integer"),
    ("deploy", "prod", "7 ", "version must be a positive integer"),
    ("deploy", "prod", "7\n8", "version must be a positive integer"),
    ("deploy", "prod", "$(touch pwned)", "version must be a positive integer"),
    ("deploy", "production", "7", "unknown environment, expected one of: dev, staging, prod"),
    ("rollback", "", "", "unknown environment, expected one of: dev, staging, prod"),
    ("rollback", "prod;id", "", "unknown environment"),
    ("rollback", "*", "", "unknown environment"),
    ("retrain", "prod", "7", "unknown action, expected one of: train, deploy, rollback"),
    ("", "", "", "unknown action"),
])
def test_guard_refuses_with_exit_2_and_says_why(action: str, environment: str, version: str,
                                                message: str, tmp_path: Path) -> None:
    result = run_guard(action, environment, version, cwd=tmp_path)
    assert result.returncode == REFUSED == 2
    assert message in result.stderr
    # The refused value is never echoed: a line of free text could read as a workflow command.
    for value in (environment, version):
        if value and value not in ("prod",):
            assert value not in result.stderr
    assert not (tmp_path / "pwned").exists()  # the value was compared, never run


def test_guard_quotes_environment_names_as_literal_patterns() -> None:
    """A spec's environment names become case patterns: quoted, so none acts as a glob."""
    script = guard_script(("dev", "prod"))
    assert "dev|prod) ;;" in script
    with pytest.raises(ValueError, match="at least one environment"):
        guard_script(())
