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
from collections.abc import Callable
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


ACTION = Input("action", "DISPATCH_ACTION",
               "train (what a push does), deploy a registered version, or roll back an environment")
ENVIRONMENT = Input("environment", "DISPATCH_ENVIRONMENT", "The environment to deploy to or roll back")
VERSION = Input("version", "DISPATCH_VERSION", "The registered model version to deploy (deploy only)")
INPUTS: tuple[Input, ...] = (ACTION, ENVIRONMENT, VERSION)
# What the environment and version inputs hold when not given: a choice and an Azure DevOps parameter need a
# default, and a manual operation must name its environment, not fall back on the first one. Neither is a valid
# environment name nor a version, so the guard refuses them where they are needed.
NO_ENVIRONMENT = "(none)"
NO_VERSION = "none"


def guard_script(environments: tuple[str, ...], branch: str, ref_variable: str) -> str:
    """A bash check of the three input variables: the action is known; a deploy or rollback runs from the release
    branch (`ref_variable` names the platform's variable holding the run's ref: it builds and pushes an image
    from the checked-out code), names one of the spec's environments, and for deploy a positive integer version,
    for rollback none (a rollback redeploys the version holding the environment's alias). It never prints the
    values it refuses: an input is free text and a line of it could read as a workflow command."""
    if not environments:
        raise ValueError("a manual run needs at least one environment")
    env = f'"${{{ENVIRONMENT.variable}}}"'
    envs = "|".join(shlex.quote(name) for name in environments)
    check = [
        f"  case {env} in",
        f"    {envs}) ;;",
        f"    *) echo {_message('name the environment, one of', environments)} >&2; exit {REFUSED} ;;",
        "  esac",
    ]
    return _guard(check, shlex.quote(f"refs/heads/{branch}"),
                  shlex.quote(f"a manual deploy or rollback runs from {branch} only"), ref_variable)


def guard_script_reading(environments_variable: str, branch_variable: str, ref_variable: str) -> str:
    """The same checks as guard_script, with the environments (space-separated, in release order) and the release
    branch read from two more variables: for shared CI files, which hold no model's names (the monorepo layout).
    The environment is compared word by word (`read -a`: no glob, no pattern), never matched as a pattern."""
    env = f'"${{{ENVIRONMENT.variable}}}"'
    check = [
        "  known=false",
        f'  read -r -a environments <<< "${{{environments_variable}}}"',
        '  for name in "${environments[@]}"; do',
        f'    if [ "${{name}}" = {env} ]; then known=true; fi',
        "  done",
        '  if [ "${known}" != true ]; then',
        f'    echo "name the environment, one of: ${{{environments_variable}}}" >&2; exit {REFUSED}',
        "  fi",
    ]
    return _guard(check, f'"refs/heads/${{{branch_variable}}}"',
                  f'"a manual deploy or rollback runs from ${{{branch_variable}}} only"', ref_variable)


def _guard(environment_check: list[str], ref: str, branch_message: str, ref_variable: str) -> str:
    """The guard around its environment check: the action, the branch (`ref`, `branch_message`: shell words),
    the version."""
    actions = "|".join(shlex.quote(action.name) for action in ACTIONS)
    versioned = "|".join(shlex.quote(action.name) for action in ACTIONS if action.needs_version)
    unversioned = "|".join(shlex.quote(a.name) for a in ACTIONS if not a.needs_version and a is not TRAIN)
    action, _, version = (f'"${{{item.variable}}}"' for item in INPUTS)
    lines = [
        f"case {action} in",
        f"  {actions}) ;;",
        f"  *) echo {_message('unknown action, expected one of', [a.name for a in ACTIONS])} >&2; exit {REFUSED} ;;",
        "esac",
        f'if [ {action} != {shlex.quote(TRAIN.name)} ]; then',
        f'  if [ "${{{ref_variable}}}" != {ref} ]; then',
        f"    echo {branch_message} >&2; exit {REFUSED}",
        "  fi",
        *environment_check,
        "fi",
        f"case {action} in",
        f"  {versioned})",
        f"    if ! [[ {version} =~ ^[1-9][0-9]{{0,8}}$ ]]; then",
        f'      echo "version must be a positive integer (a registered model version)" >&2; exit {REFUSED}',
        "    fi ;;",
        f"  {unversioned})",
        f"    if [ -n {version} ] && [ {version} != {shlex.quote(NO_VERSION)} ]; then",
        "      echo \"a rollback takes no version: it redeploys the version holding the environment's alias\" >&2",
        f"      exit {REFUSED}",
        "    fi ;;",
        "esac",
    ]
    return "\n".join(lines) + "\n"


def deploy_record(model: str, version_file: str) -> list[str]:
    """Bash lines writing `version_file` for a manual deploy (the requested version) and ending the script;
    `model`: the model's name as a shell word."""
    version = f'"${{{VERSION.variable}}}"'
    record = '{"model_name": "%s", "version": "%s"}\\n'
    return [
        f"if [ \"${{{ACTION.variable}}}\" = {shlex.quote(DEPLOY.name)} ]; then",
        f"  printf {shlex.quote(record)} {model} {version} \\",
        f"    > {version_file}",
        "  exit 0",
        "fi",
        "# rollback: the version holding the environment's alias (promotion moves it at the end of a release)",
    ]


def _message(text: str, names: list[str] | tuple[str, ...]) -> str:
    return shlex.quote(f"{text}: {', '.join(names)}")


@dataclass(frozen=True)
class Case:
    """One way a part of the pipeline runs: for train (`trains`) or for a manual operation, optionally only when
    that operation names `environment`, and optionally only after the previous release (or, for the first, the
    image build) succeeded. A part runs when any of its cases holds; platforms render the cases as conditions."""

    trains: bool
    environment: str | None = None
    after_previous: bool = False


@dataclass(frozen=True)
class Plan:
    """What one run does: the training stages (validate, train, gate, register) or not, the environments released
    to, in order, and whether the post-release work (monitoring set-up, deployment records, the release) runs."""

    training: bool
    releases: tuple[str, ...]
    post_release: bool


@dataclass(frozen=True)
class Dispatch:
    """The manual operations of one model's pipeline: which environments a run may name, the alias each
    environment's promotion moves (a rollback redeploys the version holding it), and when each part of the
    pipeline runs (`training`, `release`, `post_release`: the cases both platforms render as conditions; `plan`
    reads the same cases for one request, and a test evaluates the rendered conditions against it)."""

    environments: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...]  # (environment, alias) in release order
    branch: str  # the release branch: manual operations run from it only

    # Train (the default; every trigger without inputs): everything, releases in order. deploy and rollback: no
    # training; the named environment's release alone, the same job (and so the same approval and checks) a
    # push's release runs through; the other environments and the post-release records are left alone.
    training: tuple[Case, ...] = (Case(trains=True),)
    post_release: tuple[Case, ...] = (Case(trains=True),)

    def release(self, environment: str) -> tuple[Case, ...]:
        return (Case(trains=True, after_previous=True), Case(trains=False, environment=environment))

    def plan(self, action: str, environment: str = "") -> Plan:
        trains = action in ("", TRAIN.name)  # triggers other than a manual run carry no action: they train
        if not trains and (action not in {a.name for a in ACTIONS} or environment not in self.environments):
            raise ValueError(f"the guard refuses {action!r} for {environment!r}")

        def holds(cases: tuple[Case, ...], previous_ran: bool = True) -> bool:
            return any(case.trains == trains and case.environment in (None, environment)
                       and (previous_ran or not case.after_previous) for case in cases)

        released: list[str] = []
        previous_ran = True  # the image build, before the first release
        for env in self.environments:
            previous_ran = holds(self.release(env), previous_ran)
            if previous_ran:
                released.append(env)
        return Plan(training=holds(self.training), releases=tuple(released), post_release=holds(self.post_release))

    def alias(self, environment: str) -> str:
        return dict(self.aliases)[environment]

    def guard(self, ref_variable: str) -> str:
        return guard_script(self.environments, self.branch, ref_variable)

    def resolve_script(self, model_name: str, version_file: str, export_by_alias: Callable[[str], str],
                       ref_variable: str) -> str:
        """Bash writing `version_file` (the registered version a release deploys) for a manual run: the requested
        version for deploy; for rollback the version holding the environment's alias, exported by
        `export_by_alias(alias)` (an export_model.py call with `--alias` and `--output version_file`, its
        continuation lines indented by 4). The inputs are checked again first: this runs in another job than the
        first guard, and the alias of each environment is a literal of the spec, never a variable."""
        env = f'"${{{ENVIRONMENT.variable}}}"'
        lines = [
            self.guard(ref_variable).rstrip("\n"),
            *deploy_record(shlex.quote(model_name), version_file),
            f"case {env} in",
        ]
        for name, alias in self.aliases:
            lines += [f"  {shlex.quote(name)})", f"    {export_by_alias(alias)}", "    ;;"]
        lines.append("esac")
        return "\n".join(lines) + "\n"
