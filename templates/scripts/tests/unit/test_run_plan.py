"""Unit tests of the plan runner (src/pipeline/run_plan.py) the monorepo layout's CI jobs call: step order,
conditions, the release's rollback, values resolved per platform, settings checked before any step, fresh logins."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

STEP = {"kind": "run", "gate": False, "relogin": False}
PLAN: dict[str, Any] = {
    "format": "mlops-gen/plan-v1", "model": "m", "spec_hash": "abc", "branch": "main", "secrets": [],
    "variables": [],
    "azure": {"training": [{"--workspace": "mlw"}, {"--subscription-id": {"ref": "subscription"}}],
              "serving:prod": [{"--workspace": "mlw-prod"}, {"--registry-workspace": "mlw"}]},
    "stages": [{"id": "train", "name": "Training", "steps": [
        {**STEP, "id": "fit", "name": "Fit", "script": "src/training/train.py", "when": "success",
         "args": [{"--config": "config/training_config.yaml"}, {"--data-path": {"ref": "data_path"}},
                  {"--output-dir": {"ref": "file", "arg": "model"}}, {"--tag": {"ref": "tag", "arg": "build_id"}},
                  {"--tag": {"ref": "tag", "arg": "spec_hash"}}]}]}],
    "releases": [{"environment": "prod", "phases": [
        {"kind": "increment", "traffic": 50, "steps": [
            {**STEP, "id": "deploy", "name": "Deploy", "script": "src/deployment/deploy.py", "when": "success",
             "kind": "deploy", "args": [{"--image": {"ref": "image"}}]},
            {**STEP, "id": "tests", "name": "Endpoint tests", "script": "-m pytest", "when": "success",
             "relogin": True, "args": [{"": "tests/endpoint"}, {"--junitxml": {"ref": "file", "arg": "e.xml"}}]}]},
        {"kind": "promote", "traffic": None, "steps": [
            {**STEP, "id": "promote", "name": "Promote", "script": "src/deployment/promote.py", "when": "success",
             "args": [{"--version": "3"}], "azure": "serving:prod"}]}],
        "rollback": [
            {**STEP, "id": "rollback", "name": "Roll back", "script": "src/deployment/rollback.py",
             "when": "failure", "args": [{"--endpoint-file": {"ref": "endpoint_file", "arg": "prod"}}]},
            {**STEP, "id": "report", "name": "Report", "script": "src/documentation/generate_model_card.py",
             "when": "always", "args": []}]}],
    "post_release": [], "drift": [
        {**STEP, "id": "drift", "name": "Drift", "script": "src/monitoring/detect_drift.py", "when": "success",
         "args": [{"--current": {"ref": "variable", "arg": "RECENT_INPUTS"}}]}],
    "notifications": {"pipeline_failed": {
        **STEP, "id": "notify", "name": "Notify", "script": "src/notification/send_notification.py",
        "when": "success", "args": [{"--event": "pipeline"}, {"--status": "failed"},
                                    {"--detail": {"ref": "tag", "arg": "branch"}}, {"--detail": {"ref": "run_url"}}]}}}
ENV = {"GITHUB_RUN_ID": "41", "IMAGE_REFERENCE": "registry/m@sha256:0", "AZURE_SUBSCRIPTION_ID": "sub"}


@pytest.fixture(scope="module")
def rp(scripts: Any) -> Any:
    return scripts("pipeline/run_plan.py")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "plan.json").write_text(json.dumps(PLAN), encoding="utf-8")
    return tmp_path


class Recorder:
    def __init__(self, failing: str = "") -> None:
        self.failing = failing
        self.ran: list[list[str]] = []

    def __call__(self, argv: list[str], cwd: Path, env: dict[str, str]) -> int:
        self.ran.append(argv)
        assert env["MLOPS_MODEL_DIR"] == str(cwd.resolve())
        return 1 if self.failing and self.failing in " ".join(argv) else 0


def test_a_stage_resolves_its_values_for_the_platform(rp: Any, model: Path) -> None:
    run = Recorder()
    assert rp.run_part(model, "github", "stage:train", ENV, execute=run) == 0
    (argv,) = run.ran
    assert argv[1] == str(rp.SHARED / "src/training/train.py")
    assert argv[2:] == ["--config", "config/training_config.yaml", "--output-dir", "mlops-run/model.json",
                        "--tag", "build_id=41", "--tag", "spec_hash=abc"]  # the local data path is left out


def test_a_step_acting_on_azure_gets_its_coordinates_after_its_own_flags(rp: Any, model: Path) -> None:
    run = Recorder()
    assert rp.run_part(model, "github", "release:prod", ENV, execute=run, login=lambda *_: None) == 0
    promote = next(argv for argv in run.ran if argv[1].endswith("promote.py"))
    assert promote[2:] == ["--version", "3", "--workspace", "mlw-prod", "--registry-workspace", "mlw"]
    deploy = next(argv for argv in run.ran if argv[1].endswith("deploy.py"))
    assert "--workspace" not in deploy  # no "azure": no coordinates


def test_coordinates_the_plan_does_not_hold_are_exit_2(rp: Any, model: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    plan = json.loads((model / "config" / "plan.json").read_text(encoding="utf-8"))
    plan["stages"][0]["steps"][0]["azure"] = "serving:nowhere"
    (model / "config" / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    assert rp.main(["--model-dir", str(model), "--platform", "github", "--dry-run", "stage:train"]) == 2
    assert "'serving:nowhere', which the plan does not hold" in capsys.readouterr().err


def test_a_failed_step_skips_the_rest_and_runs_the_rollback(rp: Any, model: Path) -> None:
    run = Recorder(failing="deploy.py")
    logins: list[str] = []
    code = rp.run_part(model, "github", "release:prod", ENV, execute=run, login=lambda p, e: logins.append(p))
    assert code == 1
    assert [Path(argv[1]).name for argv in run.ran] == ["deploy.py", "rollback.py", "generate_model_card.py"]
    assert logins == []  # the endpoint tests that asked for a fresh login never ran


def test_a_passing_release_logs_in_again_where_asked_and_skips_its_rollback(rp: Any, model: Path) -> None:
    run = Recorder()
    logins: list[str] = []
    assert rp.run_part(model, "github", "release:prod", ENV, execute=run,
                       login=lambda p, e: logins.append(p)) == 0
    names = [argv[3] if argv[1:3] == ["-m", "pytest"] else Path(argv[1]).name for argv in run.ran]
    assert names == ["deploy.py", str(rp.SHARED / "tests/endpoint"), "promote.py", "generate_model_card.py"]
    assert "--junitxml=mlops-run/test-results/e.xml" in run.ran[1]
    assert logins == ["github"]


def test_the_rollback_part_runs_every_rollback_step(rp: Any, model: Path) -> None:
    run = Recorder()
    assert rp.run_part(model, "azure_devops", "rollback:prod", ENV, execute=run) == 0
    assert [Path(argv[1]).name for argv in run.ran] == ["rollback.py", "generate_model_card.py"]
    assert run.ran[0][2:] == ["--endpoint-file", "mlops-run/endpoint-prod.json"]


def test_missing_settings_and_unknown_parts_exit_2_before_any_step(rp: Any, model: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ran: list[Any] = []
    def record(*args: Any) -> int:
        ran.append(args)
        return 0

    monkeypatch.setattr(rp, "_execute", record)
    monkeypatch.delenv("RECENT_INPUTS", raising=False)
    assert rp.main(["--model-dir", str(model), "--platform", "github", "drift"]) == 2
    assert "RECENT_INPUTS is not set" in capsys.readouterr().err
    monkeypatch.delenv("IMAGE_REFERENCE", raising=False)
    assert rp.main(["--model-dir", str(model), "--platform", "github", "release:prod"]) == 2
    assert "IMAGE_REFERENCE is not set" in capsys.readouterr().err
    assert rp.main(["--model-dir", str(model), "--platform", "github", "stage:nope"]) == 2
    assert "parts: stage:train, release:prod" in capsys.readouterr().err
    assert rp.main(["--model-dir", str(model), "--platform", "github", "notify:drift_detected"]) == 2
    assert "post, drift, notify:pipeline_failed" in capsys.readouterr().err
    (model / "config" / "plan.json").write_text('{"format": "other"}', encoding="utf-8")
    assert rp.main(["--model-dir", str(model), "--platform", "github", "post"]) == 2
    (model / "config" / "plan.json").write_text("format: mlops-gen/plan-v1\n", encoding="utf-8")  # YAML, not JSON
    assert rp.main(["--model-dir", str(model), "--platform", "github", "post"]) == 2
    assert "plan.json: not valid JSON" in capsys.readouterr().err
    assert ran == []


def test_dry_run_prints_the_commands_only(rp: Any, model: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("RECENT_INPUTS", "azureml:recent:1")
    monkeypatch.setattr(rp, "_execute", lambda *a: pytest.fail("ran a step"))
    assert rp.main(["--model-dir", str(model), "--platform", "github", "--dry-run", "drift"]) == 0
    assert "detect_drift.py --current azureml:recent:1" in capsys.readouterr().out


class Response(io.BytesIO):
    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.mark.parametrize(("platform", "env", "key", "method"), [
    ("github", {"ACTIONS_ID_TOKEN_REQUEST_URL": "https://t/x?v=1", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "r",
                "AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t", "AZURE_SUBSCRIPTION_ID": "s"}, "value", "GET"),
    ("azure_devops", {"SYSTEM_OIDCREQUESTURI": "https://dev/oidctoken", "SYSTEM_ACCESSTOKEN": "a",
                      "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "sc", "AZURESUBSCRIPTION_CLIENT_ID": "c",
                      "AZURESUBSCRIPTION_TENANT_ID": "t"}, "oidcToken", "POST"),
])
def test_fresh_login_exchanges_a_new_federated_token(rp: Any, platform: str, env: dict[str, str], key: str,
                                                     method: str) -> None:
    requests: list[Any] = []
    commands: list[list[str]] = []

    def fetch(request: Any) -> Response:
        requests.append(request)
        return Response(json.dumps({key: "tok"}).encode())

    def run(argv: list[str]) -> int:
        commands.append(argv)
        return 0

    rp.fresh_login(platform, env, fetch=fetch, run=run)
    assert requests[0].get_method() == method
    assert commands[0][:3] == ["az", "login", "--service-principal"] and "tok" in commands[0]
    with pytest.raises(RuntimeError):
        rp.fresh_login(platform, env, fetch=fetch, run=lambda argv: 1)
    with pytest.raises(rp.PlanError):
        rp.fresh_login(platform, {}, fetch=fetch)


def test_a_failed_login_fails_its_step(rp: Any, model: Path) -> None:
    run = Recorder()

    def refuse(platform: str, env: Any) -> None:
        raise RuntimeError("az login failed")

    assert rp.run_part(model, "github", "release:prod", ENV, execute=run, login=refuse) == 1
    assert [Path(argv[1]).name for argv in run.ran] == ["deploy.py", "rollback.py", "generate_model_card.py"]


def test_extension_scripts_run_from_the_model_folder(rp: Any) -> None:
    step = {"script": "extension", "path": "scripts/check.sh"}
    assert rp.command(step, PLAN, "github", ENV, python="py") == ["bash", "scripts/check.sh"]
    assert rp.command({**step, "path": "scripts/check.py"}, PLAN, "github", ENV, python="py") == [
        "py", "scripts/check.py"]
    assert rp.resolve({"ref": "run_url"}, PLAN, "azure_devops", {"BUILD_BUILDNUMBER": "7"}) == "run=7"
    with pytest.raises(rp.PlanError, match="unknown reference"):
        rp.resolve({"ref": "nothing"}, PLAN, "github", ENV)


@pytest.mark.parametrize(("platform", "env", "details"), [
    ("github", {"GITHUB_REF_NAME": "main", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
                "GITHUB_RUN_ID": "41"}, ["branch=main", "run=https://github.com/o/r/actions/runs/41"]),
    ("azure_devops", {"BUILD_SOURCEBRANCHNAME": "main", "BUILD_BUILDNUMBER": "20261204.1"},
     ["branch=main", "run=20261204.1"]),
])
def test_a_notify_part_sends_its_one_notice_with_the_platform_run_link(rp: Any, model: Path, platform: str,
                                                                      env: dict[str, str],
                                                                      details: list[str]) -> None:
    run = Recorder()
    assert rp.run_part(model, platform, "notify:pipeline_failed", env, execute=run) == 0
    (argv,) = run.ran
    assert argv[1] == str(rp.SHARED / "src/notification/send_notification.py")
    assert argv[2:] == ["--event", "pipeline", "--status", "failed", "--detail", details[0], "--detail", details[1]]
