"""Day-2 control: the manual operations a run started by hand can ask for, one source for every platform.

A manual run names an action, an environment and (for `deploy`) a registered model version. The platforms offer
them as typed inputs (GitHub `on.workflow_dispatch.inputs`, Azure DevOps runtime `parameters:`); whatever the
form allowed, the values reach the run as untrusted text, so they pass through the environment of a step, never
into a script's text, and `guard_script` checks them before any job acts on them (exit 2, like a stage script
refusing its flags).

References:
- https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#onworkflow_dispatchinputs
- https://learn.microsoft.com/en-us/azure/devops/pipelines/process/runtime-parameters
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

# Exit status of a refused request: the stage scripts' argparse status for a call they refuse.
REFUSED = 2


@dataclass(frozen=True)
class Action:
    name: str
    description: str
    needs_version: bool  # the registered model version to deploy


TRAIN = Action("train", "train, validate, register and release a new version (what a push does)", False)
DEPLOY = Action("deploy", "deploy a registered model version to one environment, through its release", True)
ROLLBACK = Action("rollback", "roll one environment back, inside a job bound to that environment", False)
ACTIONS: tuple[Action, ...] = (TRAIN, DEPLOY, ROLLBACK)


@dataclass(frozen=True)
class Input:
    """One input of a manual run: its name on every platform and the variable a step reads it from."""

    name: str
    variable: str
    description: str


ACTION = Input("action", "DISPATCH_ACTION", "What to do: " + "; ".join(f"{a.name}: {a.description}" for a in ACTIONS))
ENVIRONMENT = Input("environment", "DISPATCH_ENVIRONMENT", "The environment to deploy to or roll back")
VERSION = Input("version", "DISPATCH_VERSION", "The registered model version to deploy (deploy only)")
INPUTS: tuple[Input, ...] = (ACTION, ENVIRONMENT, VERSION)


def guard_script(environments: tuple[str, ...]) -> str:
    """A bash check of the three input variables: the action is known, the environment is one of the spec's
    (unless training) and the version a positive integer (for deploy). It never prints the values it refuses:
    an input is free text and a line of it could read as a workflow command."""
    if not environments:
        raise ValueError("a manual run needs at least one environment")
    actions = "|".join(shlex.quote(action.name) for action in ACTIONS)
    envs = "|".join(shlex.quote(env) for env in environments)
    versioned = "|".join(shlex.quote(action.name) for action in ACTIONS if action.needs_version)
    action, env, version = (f'"${{{item.variable}}}"' for item in INPUTS)
    lines = [
        f"case {action} in",
        f"  {actions}) ;;",
        f"  *) echo {_message('unknown action, expected one of', [a.name for a in ACTIONS])} >&2; exit {REFUSED} ;;",
        "esac",
        f'if [ {action} != {shlex.quote(TRAIN.name)} ]; then',
        f"  case {env} in",
        f"    {envs}) ;;",
        f"    *) echo {_message('unknown environment, expected one of', environments)} >&2; exit {REFUSED} ;;",
        "  esac",
        "fi",
        f"case {action} in",
        f"  {versioned})",
        f"    if ! [[ {version} =~ ^[1-9][0-9]{{0,8}}$ ]]; then",
        f'      echo "version must be a positive integer (a registered model version)" >&2; exit {REFUSED}',
        "    fi ;;",
        "esac",
    ]
    return "\n".join(lines) + "\n"


def _message(text: str, names: list[str] | tuple[str, ...]) -> str:
    return shlex.quote(f"{text}: {', '.join(names)}")
