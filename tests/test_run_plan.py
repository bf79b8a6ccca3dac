"""The monorepo layout's plan (config/plan.json) and its runner (src/pipeline/run_plan.py).

The runner is what the shared CI jobs call, so these tests hold it to the per-model layout: the same commands as
the per-model GitHub workflow's steps, the release's rollback after a failed step, a clear exit 2 (before any step
runs) for a missing setting, and fresh Azure logins requested the way each platform documents:
- GitHub: https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/
  configuring-openid-connect-in-cloud-providers ("Using custom actions": GET ACTIONS_ID_TOKEN_REQUEST_URL with the
  audience, bearing ACTIONS_ID_TOKEN_REQUEST_TOKEN, returns {"value": ...});
- Azure DevOps: azure-identity's AzurePipelinesCredential (POST SYSTEM_OIDCREQUESTURI?api-version=7.1&
  serviceConnectionId=..., bearing System.AccessToken, returns {"oidcToken": ...}).
"""

from __future__ import annotations

import io
import json
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops_gen.pipeline import build_pipeline
from mlops_gen.pipeline.model import EXTENSION, PYTEST
from mlops_gen.pipeline.serialize import plan_data
from mlops_gen.render.context import spec_hash
from mlops_gen.render.filters import json_block
from mlops_gen.spec.validate import load_specs
from mlops_gen.targets import github_actions
from tests.conftest import ROOT, example_specs
from tests.template_scripts import load_script

run_plan = load_script("pipeline/run_plan.py")
SPEC_FILES = load_specs([str(path) for path in example_specs()])
ENV = {"GITHUB_RUN_ID": "41", "GITHUB_RUN_NUMBER": "7", "GITHUB_REF_NAME": "main", "GITHUB_SHA": "abc123",
       "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "org/models", "AZURE_SUBSCRIPTION_ID": "sub-1",
       "IMAGE_REFERENCE": "acr.azurecr.io/m@sha256:00", "DRIFT_CURRENT_DATA": "azureml:recent:1",
       "ACI_ACR_IDENTITY": "/identity", "BUILD_BUILDID": "41", "BUILD_BUILDNUMBER": "20261204.1",
       "BUILD_SOURCEBRANCHNAME": "main", "BUILD_SOURCEVERSION": "abc123"}


def _model_dir(tmp_path: Path, spec_file: Any) -> Path:
    model = tmp_path / spec_file.spec.model.name
    (model / "config").mkdir(parents=True)
    plan = plan_data(spec_file.spec, spec_hash(spec_file.inputs))
    (model / "config" / "plan.json").write_text(json_block(plan), encoding="utf-8")
    return model


def _spec(name: str) -> Any:
    return next(s for s in SPEC_FILES if s.spec.model.name == name)


def _parts(plan: dict[str, Any]) -> list[str]:
    return ([f"stage:{s['id']}" for s in plan["stages"]] + ["post", "drift"]
            + [f"{kind}:{r['environment']}" for r in plan["releases"] for kind in ("release", "rollback")]
            + [f"notify:{event}" for event in plan["notifications"]])


def _relative(argv: list[str]) -> list[str]:
    """A runner command as the per-model layout spells it: scripts and tests from the model folder's root, the run
    folder's files by their bare names."""
    shared = str(run_plan.SHARED) + "/"
    out = [arg.replace(shared, "").replace(run_plan.RUN_DIR + "/", "") for arg in argv[1:]]
    return out[:-2] if out[-2:] == ["-p", "no:cacheprovider"] else out


def _github_command(spec: Any, step: Any) -> list[str]:
    run = github_actions.run_step(spec, step).run.replace("\\\n", " ")
    words = shlex.split(run.replace(github_actions.SPEC_HASH_TOKEN, "H"))
    expanded = [w.replace("${", "{").format(**ENV) if "${" in w else w for w in words]
    return expanded[1:]  # after `python`


@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=lambda s: s.spec.model.name)
def test_the_runner_runs_what_the_per_model_github_workflow_runs(spec_file: Any, tmp_path: Path) -> None:
    """Every step of every part: the same script, flags and values as the per-model workflow's `run:` line."""
    spec = spec_file.spec
    model = _model_dir(tmp_path, spec_file)
    plan = run_plan.load_plan(model)
    plan["spec_hash"] = "H"
    pipeline = build_pipeline(spec)
    steps = {f"stage:{stage.id}": list(stage.steps) for stage in pipeline.training}
    for release in pipeline.releases:
        steps[f"release:{release.env.name}"] = [*release.steps(), *release.rollback]
    steps["post"] = list(pipeline.post_release)
    steps.update({f"notify:{event}": [step] for event, step in pipeline.notifications.items()})
    compared = 0
    for part, model_steps in steps.items():
        planned = run_plan.part_steps(plan, part)
        assert [s["id"] for s in planned] == [s.id for s in model_steps], part
        for step, model_step in zip(planned, model_steps, strict=True):
            if model_step.script in (EXTENSION,):
                continue
            argv = run_plan.command(step, plan, "github", ENV, python="python")
            expected = _github_command(spec, model_step)
            assert _relative(argv) == expected, (part, step["id"])
            compared += 1
    assert compared >= 10


@pytest.mark.parametrize("platform", ["github", "azure_devops"])
@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=lambda s: s.spec.model.name)
def test_every_part_resolves_and_names_shared_files(spec_file: Any, platform: str, tmp_path: Path) -> None:
    model = _model_dir(tmp_path, spec_file)
    plan = run_plan.load_plan(model)
    for part in _parts(plan):
        for step in run_plan.part_steps(plan, part):
            argv = run_plan.command(step, plan, platform, ENV)
            if step["script"] not in (PYTEST, EXTENSION):
                assert Path(argv[1]).is_file(), argv[1]  # the shared folder holds every script the plan calls
            assert not any("{'ref'" in arg for arg in argv)


@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=lambda s: s.spec.model.name)
def test_the_plan_holds_every_notice_of_the_pipeline_model_and_the_webhook_secret(spec_file: Any,
                                                                                  tmp_path: Path) -> None:
    spec = spec_file.spec
    plan = run_plan.load_plan(_model_dir(tmp_path, spec_file))
    events = ["pipeline_failed", "model_registered", *(["drift_detected"] if spec.monitoring.drift.enabled else [])]
    assert list(plan["notifications"]) == events == list(build_pipeline(spec).notifications)
    for event in events:
        (step,) = run_plan.part_steps(plan, f"notify:{event}")
        assert step["script"] == "src/notification/send_notification.py" and not step["relogin"]
        args = [(flag, value) for item in step["args"] for flag, value in item.items()]
        assert ("--webhook-env", spec.notifications.webhook_secret) in args and ("--detail", {"ref": "run_url"}) in args
        assert not any(flag in ("--workspace", "--subscription-id") for flag, _ in args)  # no Azure needed
    assert plan["secrets"] == ([spec.notifications.webhook_secret] if spec.notifications.channel != "none" else [])


# Where the per-model GitHub workflows send the stand-alone notices (github_actions.NOTIFICATIONS): file, job.
GITHUB_NOTICES = {"failed": ("ml-pipeline.yml", "notify-failure"), "drift": ("drift-monitor.yml", "notify")}


@pytest.mark.parametrize("spec_file", SPEC_FILES, ids=lambda s: s.spec.model.name)
def test_a_notify_part_sends_the_notice_the_per_model_github_workflow_sends(spec_file: Any, tmp_path: Path) -> None:
    """The runner's notify:<event> against the golden record's per-model workflows (generated/<model>), word for
    word once the run's variables are filled in."""
    spec = spec_file.spec
    model = _model_dir(tmp_path, spec_file)
    workflows = ROOT / "generated" / spec.model.name / ".github" / "workflows"
    compared = 0
    for key, event in github_actions.NOTIFICATIONS.items():
        file, job = GITHUB_NOTICES[key]
        if not (workflows / file).is_file():
            assert event not in build_pipeline(spec).notifications
            continue
        steps = yaml.safe_load((workflows / file).read_text(encoding="utf-8"))["jobs"][job]["steps"]
        [run] = [step["run"] for step in steps if "send_notification.py" in step.get("run", "")]
        words = shlex.split(run.replace("\\\n", " "))
        expected = [w.replace("${", "{").format(**ENV) if "${" in w else w for w in words][1:]
        ran: list[list[str]] = []

        def execute(argv: list[str], cwd: Path, env: dict[str, str], ran: list[list[str]] = ran) -> int:
            ran.append(argv)
            return 0

        assert run_plan.run_part(model, "github", f"notify:{event}", ENV, execute=execute) == 0
        assert [_relative(argv) for argv in ran] == [expected], event
        compared += 1
    assert compared >= 1


def test_a_failed_monitor_window_stops_the_release_and_rolls_back(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _spec("customer-churn"))
    ran: list[str] = []

    def execute(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        assert cwd == model and env["MLOPS_MODEL_DIR"] == str(model.resolve())
        script = argv[1].removeprefix(str(run_plan.SHARED) + "/")
        ran.append(script)
        return 1 if script == "src/deployment/monitor_deployment.py" else 0

    code = run_plan.run_part(model, "github", "release:production", ENV, execute=execute, login=lambda *a: None)
    assert code == 1
    assert ran == ["src/preflight/check_access.py", "src/deployment/pre_deployment_checks.py",
                   "src/deployment/deploy.py", "tests/smoke_test.py", "src/deployment/monitor_deployment.py",
                   "src/deployment/rollback.py", "src/notification/send_notification.py"]


def test_a_passing_release_never_runs_its_rollback_and_the_rollback_part_runs_only_it(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _spec("customer-churn"))
    ran: list[str] = []

    def execute(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        ran.append(Path(argv[1]).name)
        return 0

    assert run_plan.run_part(model, "github", "release:production", ENV, execute=execute,
                             login=lambda *a: None) == 0
    assert "rollback.py" not in ran and ran[-1] == "promote.py" and ran.count("deploy.py") == 4
    ran.clear()
    assert run_plan.run_part(model, "github", "rollback:production", ENV, execute=execute,
                             login=lambda *a: None) == 0
    assert ran == ["rollback.py", "send_notification.py"]


def test_fresh_logins_come_before_the_first_azure_step_after_a_long_one(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _spec("customer-churn"))
    events: list[str] = []

    def execute(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        events.append(Path(argv[1]).name if argv[1] != "-m" else "pytest")
        return 0

    run_plan.run_part(model, "github", "release:production", ENV, execute=execute,
                      login=lambda platform, env: events.append("LOGIN"))
    # A deployment or an observation window can outlive the job's token: the next step logs in first, and no
    # other step does (each is GitHub's per-model fresh_logins rule, see github_actions.fresh_logins).
    long_steps = ("deploy.py", "monitor_deployment.py")
    for index, event in enumerate(events[:-1]):
        if event in long_steps:
            assert events[index + 1] == "LOGIN", events[index:index + 2]
        if event == "LOGIN":
            assert events[index - 1] in long_steps
    assert events.count("LOGIN") == 8


def test_a_missing_setting_exits_2_before_any_step(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    model = _model_dir(tmp_path, _spec("customer-churn"))
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "sub-1")
    called: list[Any] = []
    monkeypatch.setattr(run_plan, "_execute", lambda *a: called.append(a) or 0)
    assert run_plan.main(["--model-dir", str(model), "--platform", "github", "drift"]) == 2
    assert "DRIFT_CURRENT_DATA is not set" in capsys.readouterr().err
    assert run_plan.main(["--model-dir", str(model), "--platform", "github", "release:nowhere"]) == 2
    assert "no part 'release:nowhere'" in capsys.readouterr().err
    assert run_plan.main(["--model-dir", str(tmp_path), "--platform", "github", "post"]) == 2
    assert "plan.json: not found" in capsys.readouterr().err
    assert called == []


class _Response(io.BytesIO):
    def __enter__(self) -> _Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def test_github_fresh_login_requests_a_token_for_entra_and_logs_in_with_it() -> None:
    requests: list[Any] = []
    commands: list[list[str]] = []

    def fetch(request: Any) -> _Response:
        requests.append(request)
        return _Response(json.dumps({"value": "gh-token"}).encode())

    env = {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions/x?api-version=2.0",
           "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "req", "AZURE_CLIENT_ID": "cid", "AZURE_TENANT_ID": "tid",
           "AZURE_SUBSCRIPTION_ID": "sub-1"}
    run_plan.fresh_login("github", env, fetch=fetch, run=lambda argv: commands.append(argv) or 0)
    (request,) = requests
    assert request.full_url == "https://token.actions/x?api-version=2.0&audience=api://AzureADTokenExchange"
    assert request.get_method() == "GET" and request.get_header("Authorization") == "bearer req"
    assert commands[0][:7] == ["az", "login", "--service-principal", "--username", "cid", "--tenant", "tid"]
    assert commands[0][commands[0].index("--federated-token") + 1] == "gh-token"
    assert commands[1] == ["az", "account", "set", "--subscription", "sub-1"]


def test_azure_devops_fresh_login_posts_to_the_oidc_endpoint_of_the_service_connection() -> None:
    requests: list[Any] = []
    commands: list[list[str]] = []

    def fetch(request: Any) -> _Response:
        requests.append(request)
        return _Response(json.dumps({"oidcToken": "ado-token"}).encode())

    env = {"SYSTEM_OIDCREQUESTURI": "https://dev.azure.com/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/"
                                    "oidctoken", "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "conn",
           "SYSTEM_ACCESSTOKEN": "sys", "AZURESUBSCRIPTION_CLIENT_ID": "cid", "AZURESUBSCRIPTION_TENANT_ID": "tid"}
    run_plan.fresh_login("azure_devops", env, fetch=fetch, run=lambda argv: commands.append(argv) or 0)
    (request,) = requests
    assert request.full_url.endswith("/oidctoken?api-version=7.1&serviceConnectionId=conn")
    assert request.get_method() == "POST" and request.get_header("Authorization") == "Bearer sys"
    assert commands[0][commands[0].index("--federated-token") + 1] == "ado-token"
    assert len(commands) == 1  # no AZURE_SUBSCRIPTION_ID: the task's own subscription stays selected


def test_a_failed_fresh_login_fails_the_step_it_was_for(tmp_path: Path) -> None:
    model = _model_dir(tmp_path, _spec("customer-churn"))
    ran: list[str] = []

    def refuse(platform: str, env: Any) -> None:
        raise RuntimeError("az login with a fresh federated token failed")

    def execute(argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        ran.append(Path(argv[1]).name)
        return 0

    assert run_plan.run_part(model, "github", "release:production", ENV, execute=execute, login=refuse) == 1
    assert "monitor_deployment.py" not in ran and "rollback.py" not in ran  # rollback's own login fails too


def test_the_run_folder_is_the_one_the_ci_files_carry() -> None:
    from mlops_gen.layout.paths import RUN_FOLDER

    assert run_plan.RUN_DIR == RUN_FOLDER and not RUN_FOLDER.startswith(".")


def test_the_azure_devops_templates_read_the_files_where_the_runner_writes_them() -> None:
    from mlops_gen.targets import azure_monorepo

    assert run_plan.file_path("version") == f"{run_plan.RUN_DIR}/{azure_monorepo.VERSION_FILE}"
    assert run_plan.file_path("drift-report") == f"{run_plan.RUN_DIR}/{azure_monorepo.DRIFT_REPORT}"
