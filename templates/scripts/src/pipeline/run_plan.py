#!/usr/bin/env python3
"""Run one part of a model's pipeline plan (config/plan.json) in a CI job of the monorepo layout.

The shared workflows and templates hold no model-specific literal: they check out the repository, log in, fetch the
run folder of the earlier jobs, and call this script with the model's folder and the part of the plan the job is
for. The steps, their flags and their order come from the model's plan, which mlops-gen writes from the spec.

    python <shared>/src/pipeline/run_plan.py --model-dir generated/churn --platform github stage:train
    python <shared>/src/pipeline/run_plan.py --model-dir generated/churn --platform github release:production

Parts: stage:<id> (data, train, validate, register), release:<environment>, rollback:<environment>, post, drift,
notify:<event> (the team's notice that the pipeline failed, a version was registered or drift was found: the plan's
`notifications`, sent where the CI platform's pipelines send them).
Steps run in order with the model folder as working directory (the plan's paths are relative to it) and
MLOPS_MODEL_DIR pointing at it; stage scripts and tests are this shared folder's. A step runs when every earlier
step passed (`success`), after a failure (`failure`: a release's rollback), or always. Files steps hand to each
other live in the run folder (mlops-run/ in the model folder), which the CI jobs carry from job to job.

Exit codes: 0 every step passed; 1 a step failed (a release's rollback steps ran); 2 a bad plan, part or
missing setting (nothing ran).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2]  # the shared folder: src/ and tests/ of every model's steps
FORMAT = "mlops-gen/plan-v1"
# Relative to the model folder. Not a dot-folder: upload-artifact (v4.4.0 on) leaves hidden files and folders out
# by default, silently (https://github.com/actions/upload-artifact/pull/598).
RUN_DIR = "mlops-run"  # mlops_gen.layout.paths.RUN_FOLDER
PYTEST = "-m pytest"
EXTENSION = "extension"
PLATFORMS = ("github", "azure_devops")
# The platform's spelling of this run's lineage tags and link (the per-model layout's pipelines pass the same).
TAGS = {
    "github": {"build_id": "GITHUB_RUN_ID", "build_number": "GITHUB_RUN_NUMBER", "branch": "GITHUB_REF_NAME",
               "commit": "GITHUB_SHA"},
    "azure_devops": {"build_id": "BUILD_BUILDID", "build_number": "BUILD_BUILDNUMBER",
                     "branch": "BUILD_SOURCEBRANCHNAME", "commit": "BUILD_SOURCEVERSION"},
}
# Files the steps hand to each other, by the plan's name for them.
FILES = {"version": "model-version.json", "job": "training-job.json", "model-card": "model-card.md"}
AUDIENCE = "api://AzureADTokenExchange"  # what Microsoft Entra ID expects of a federated token


class PlanError(Exception):
    """A plan, part or setting this run cannot use: exit 2 before any step runs."""


def file_path(name: str) -> str:
    """A file of the plan as a path of the run folder: JUnit reports under test-results/, JSON by default."""
    if name in FILES:
        name = FILES[name]
    elif name.endswith(".xml"):
        name = f"test-results/{name}"
    elif "." not in name.rsplit("/", 1)[-1]:
        name = f"{name}.json"
    return f"{RUN_DIR}/{name}"


def _setting(env: Mapping[str, str], name: str, why: str) -> str:
    value = env.get(name, "")
    if not value:
        raise PlanError(f"{name} is not set: {why}")
    return value


def resolve(value: Any, plan: Mapping[str, Any], platform: str, env: Mapping[str, str]) -> str | None:
    """A plan value as this run passes it; None leaves the flag out (the local data file of run-local)."""
    if not isinstance(value, dict):
        return str(value)
    kind, arg = value.get("ref"), str(value.get("arg", ""))
    if kind == "file":
        return file_path(arg)
    if kind == "endpoint_file":
        return f"{RUN_DIR}/endpoint-{arg}.json"
    if kind == "pipeline_config":
        return "config/pipeline.yaml"
    if kind == "data_path":
        return None
    if kind == "tag":
        if arg == "spec_hash":
            return f"spec_hash={plan['spec_hash']}"
        return f"{arg}={_setting(env, TAGS[platform][arg], 'the run lineage tag ' + arg)}"
    if kind == "run_url":
        if platform == "github":
            return "run={}/{}/actions/runs/{}".format(*(_setting(env, name, "the link to this run") for name in (
                "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")))
        return f"run={_setting(env, 'BUILD_BUILDNUMBER', 'the link to this run')}"
    if kind == "image":
        return _setting(env, "IMAGE_REFERENCE", "the image this run built (the build job's output)")
    if kind == "subscription":
        return _setting(env, "AZURE_SUBSCRIPTION_ID", "the subscription the job logged in to")
    if kind == "variable":
        return _setting(env, arg, "a repository or pipeline variable this step reads: map it into the job's env")
    raise PlanError(f"unknown reference {kind!r} in the plan: regenerate it with this mlops-gen version")


def command(step: Mapping[str, Any], plan: Mapping[str, Any], platform: str, env: Mapping[str, str],
            python: str = sys.executable) -> list[str]:
    """The step's command line: a shared stage script or test with its flags, pytest, or the team's script."""
    if step["script"] == EXTENSION:
        path = str(step["path"])
        return ["bash" if path.endswith(".sh") else python, path]
    args: list[str] = []
    for item in [*step.get("args", []), *_coordinates(step, plan)]:
        ((flag, raw),) = item.items()
        value = resolve(raw, plan, platform, env)
        if value is None:
            continue
        if not flag:  # positional: the test folder of a pytest step
            args.append(str(SHARED / value) if step["script"] == PYTEST else value)
        elif flag == "--junitxml":
            args.append(f"{flag}={value}")
        else:
            args += [flag, value]
    if step["script"] == PYTEST:
        return [python, "-m", "pytest", *args, "-p", "no:cacheprovider"]
    return [python, str(SHARED / step["script"]), *args]


def _coordinates(step: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The Azure flags of the coordinates the step acts on (its "azure": a set the plan's "azure" holds once)."""
    name = step.get("azure")
    if name is None:
        return []
    sets = plan.get("azure", {})
    if name not in sets:
        raise PlanError(f"step {step['id']!r} acts on Azure coordinates {name!r}, which the plan does not hold: "
                        "regenerate it with mlops-gen")
    return list(sets[name])


def part_steps(plan: Mapping[str, Any], part: str) -> list[Mapping[str, Any]]:
    """The steps of one part, in order (a release's phases, then its rollback steps)."""
    kind, _, name = part.partition(":")
    if kind == "stage":
        found = [stage["steps"] for stage in plan["stages"] if stage["id"] == name]
    elif kind in ("release", "rollback"):
        releases = [release for release in plan["releases"] if release["environment"] == name]
        found = [[*(step for phase in release["phases"] for step in phase["steps"]), *release["rollback"]]
                 if kind == "release" else
                 [step for step in release["rollback"] if step["when"] != "success"] for release in releases]
    elif kind in ("post", "drift") and not name:
        found = [plan["post_release" if kind == "post" else "drift"]]
    elif kind == "notify" and name in plan.get("notifications", {}):
        found = [[plan["notifications"][name]]]
    else:
        found = []
    if not found:
        known = [f"stage:{s['id']}" for s in plan["stages"]] + [
            f"{k}:{r['environment']}" for r in plan["releases"] for k in ("release", "rollback")] + [
            "post", "drift", *(f"notify:{event}" for event in plan.get("notifications", {}))]
        raise PlanError(f"the plan of {plan['model']} has no part {part!r}; parts: {', '.join(known)}")
    return list(found[0])


def should_run(step: Mapping[str, Any], failed: bool, rollback_part: bool) -> bool:
    when = step["when"]
    if rollback_part:  # a later job rolling back a release that failed, timed out or was cancelled
        return True
    return when == "always" or (when == "failure") == failed


def fresh_login(platform: str, env: Mapping[str, str],
                fetch: Callable[[urllib.request.Request], Any] = urllib.request.urlopen,
                run: Callable[[list[str]], int] | None = None) -> None:
    """Log the Azure CLI in again with a new federated token: the job's first one is short-lived, and
    `az login --federated-token` cannot renew it (AADSTS700024 after a long deployment or monitor window).

    GitHub: a job with `id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN; a GET of that URL with the
    audience, bearing the request token, returns {"value": <token>}. Azure DevOps: inside AzureCLI@2 with a
    workload identity service connection, a POST to SYSTEM_OIDCREQUESTURI (api-version 7.1, the connection's
    id), bearing System.AccessToken, returns {"oidcToken": <token>} (as azure-identity's
    AzurePipelinesCredential requests it)."""
    if platform == "github":
        url = _https(_setting(env, "ACTIONS_ID_TOKEN_REQUEST_URL", "the job needs permission id-token: write"))
        bearer = f"bearer {_setting(env, 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'the job needs id-token: write')}"
        request = urllib.request.Request(  # noqa: S310 - https only (_https)
            f"{url}{'&' if '?' in url else '?'}audience={AUDIENCE}", headers={"Authorization": bearer})
        key, client, tenant = "value", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"
    else:
        url = _https(_setting(env, "SYSTEM_OIDCREQUESTURI", "run the step in an AzureCLI@2 task"))
        connection = _setting(env, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "run the step in an AzureCLI@2 task")
        bearer = f"Bearer {_setting(env, 'SYSTEM_ACCESSTOKEN', 'map System.AccessToken into the step env')}"
        request = urllib.request.Request(  # noqa: S310 - https only (_https)
            f"{url}?api-version=7.1&serviceConnectionId={connection}", data=b"", method="POST",
            headers={"Authorization": bearer, "Content-Type": "application/json"})
        key, client, tenant = "oidcToken", "AZURESUBSCRIPTION_CLIENT_ID", "AZURESUBSCRIPTION_TENANT_ID"
    with fetch(request) as response:
        token = json.loads(response.read().decode("utf-8"))[key]
    login = ["az", "login", "--service-principal", "--username", _setting(env, client, "the identity to log in as"),
             "--tenant", _setting(env, tenant, "the identity's tenant"), "--federated-token", token,
             "--allow-no-subscriptions", "--output", "none"]
    run = run or (lambda argv: subprocess.run(argv, check=False).returncode)  # noqa: S603 - az, fixed argv
    if run(login) != 0:
        raise RuntimeError("az login with a fresh federated token failed")
    subscription = env.get("AZURE_SUBSCRIPTION_ID")
    if subscription and run(["az", "account", "set", "--subscription", subscription]) != 0:
        raise RuntimeError(f"az account set --subscription {subscription} failed")


def _https(url: str) -> str:
    if not url.startswith("https://"):
        raise PlanError(f"the token endpoint {url!r} is not https")
    return url


def load_plan(model_dir: Path) -> dict[str, Any]:
    path = model_dir / "config" / "plan.json"
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PlanError(f"{path}: not found (is --model-dir a model folder of the monorepo layout?)") from None
    except ValueError as exc:  # json.JSONDecodeError, or bytes that are not UTF-8
        raise PlanError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(plan, dict) or plan.get("format") != FORMAT:
        raise PlanError(f"{path}: not a plan of format {FORMAT}: regenerate it with mlops-gen")
    return plan


def run_part(model_dir: Path, platform: str, part: str, env: Mapping[str, str], dry_run: bool = False,
             execute: Callable[[list[str], Path, dict[str, str]], int] | None = None,
             login: Callable[[str, Mapping[str, str]], None] = fresh_login) -> int:
    plan = load_plan(model_dir)
    steps = part_steps(plan, part)
    rollback_part = part.startswith("rollback:")
    step_env = {**env, "MLOPS_MODEL_DIR": str(model_dir.resolve()), "PYTHONUNBUFFERED": "1"}
    commands = [command(step, plan, platform, step_env) for step in steps]  # every setting checked before a run
    (model_dir / RUN_DIR).mkdir(parents=True, exist_ok=True)
    run = execute or _execute
    failed: list[str] = []
    for step, argv in zip(steps, commands, strict=True):
        if not should_run(step, bool(failed), rollback_part):
            continue
        print(f"::: {step['name']}\n$ {shlex.join(argv)}", flush=True)
        if dry_run:
            continue
        if step.get("relogin"):
            try:
                login(platform, step_env)
            except (PlanError, RuntimeError, OSError, KeyError, ValueError) as exc:  # the step cannot reach Azure
                print(f"::: failed to log in to Azure again before {step['name']}: {exc}", flush=True)
                failed.append(step["name"])
                continue
        if run(argv, model_dir, step_env) != 0:
            failed.append(step["name"])
            print(f"::: failed: {step['name']}" + (" (a gate)" if step.get("gate") else ""), flush=True)
    if failed:
        print(f"{plan['model']} {part}: {len(failed)} step(s) failed: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _execute(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
    return subprocess.run(argv, cwd=cwd, env=env, check=False).returncode  # noqa: S603 - the plan's steps


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", required=True, help="the model's folder (holds config/plan.json)")
    parser.add_argument("--platform", required=True, choices=PLATFORMS, help="the CI platform running this job")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    parser.add_argument("part", help="stage:<id>, release:<environment>, rollback:<environment>, post, drift or "
                                     "notify:<event>")
    args = parser.parse_args(argv)
    try:
        return run_part(Path(args.model_dir), args.platform, args.part, dict(os.environ), args.dry_run)
    except PlanError as exc:
        print(f"run_plan: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
