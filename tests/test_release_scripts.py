"""promote.py and rollback.py, the last steps of a release, run in-process against recording fakes of the four
targets (local_target, aks_target, azureml_target, aci_target) and of the registry module: which target call each
rollout shape makes with which arguments, in which order, what is printed, and which exit code the pipeline sees.

The fakes record calls only; what each target call does against Azure, AKS or ACI is tested with the targets
themselves (test_aks_credentials, test_aci_exposure, test_release_scenarios, the run-local scenarios)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.template_scripts import load_script

promote = load_script("deployment/promote.py")
rollback = load_script("deployment/rollback.py")
# The `support` both scripts imported: other tests swap sys.modules["support"] for a generated tree's copy (or drop
# it), and the scripts' call-time `from support import ml_client` must find this one.
SUPPORT = sys.modules["support"]

Call = tuple[str, tuple[Any, ...]]


class Recording(ModuleType):
    """A module (or object) whose every function records its call in a shared list and returns what `returns`
    gives for its name: a value, or a function of the call's arguments."""

    def __init__(self, name: str, calls: list[Call], returns: dict[str, Any] | None = None) -> None:
        super().__init__(name)
        self._calls = calls
        self._returns = returns or {}

    def __getattr__(self, attribute: str) -> Callable[..., Any]:
        if attribute.startswith("__"):
            raise AttributeError(attribute)

        def call(*args: Any) -> Any:
            self._calls.append((f"{self.__name__}.{attribute}", args))
            answer = self._returns.get(attribute)
            return answer(*args) if callable(answer) else answer

        return call


class Release:
    """The fakes of one test, installed where the scripts import them from."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[Call] = []
        self.monkeypatch = monkeypatch
        self.kubectl = Recording("kubectl", self.calls)
        monkeypatch.delenv("MLOPS_BACKEND", raising=False)
        monkeypatch.setitem(sys.modules, "support", SUPPORT)
        monkeypatch.setattr(SUPPORT, "ml_client", lambda args: f"ml-client({args.workspace})")
        monkeypatch.setattr(promote, "configure_mlflow",
                            lambda args: self.calls.append(("configure_mlflow", (args.workspace,))))
        self.registry = self.install("common.registry", client=lambda: "registry-client")

    def install(self, name: str, **returns: Any) -> Recording:
        fake = Recording(name, self.calls, returns)
        self.monkeypatch.setitem(sys.modules, name, fake)
        return fake

    def target(self, name: str, **returns: Any) -> Recording:
        if name == "aks_target":
            returns = {"credentials": "kubeconfig", "namespace_of": lambda ns: f"ns:{ns}",
                       "Kubectl": lambda namespace, kubeconfig: self.kubectl, **returns}
        return self.install(name, **returns)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def release(monkeypatch: pytest.MonkeyPatch) -> Release:
    return Release(monkeypatch)


def _argv(target: str, stable: str = "blue", candidate: str = "green", *, backend: str = "azure",
          extra: tuple[str, ...] = ()) -> list[str]:
    return ["--backend", backend, "--workdir", "/w", "--workspace", "ws", "--resource-group", "rg",
            "--target", target, "--endpoint-name", "ep", "--stable-deployment", stable,
            "--candidate-deployment", candidate, *extra]


def _promote_argv(target: str, *args: str, version_file: Path | None = None, **kwargs: Any) -> list[str]:
    extra = ("--model-name", "churn", "--alias", "production", *args,
             *(("--version-file", str(version_file)) if version_file else ()))
    return _argv(target, extra=extra, **kwargs)


def _version_file(tmp_path: Path, version: int | str) -> Path:
    path = tmp_path / "version.json"
    path.write_text(json.dumps({"name": "churn", "version": version}), encoding="utf-8")
    return path


def _alias_call(version: str) -> Call:
    return ("common.registry.set_alias", ("registry-client", "churn", "production", version))


# --- promote.py -------------------------------------------------------------------------------------------------

def test_promote_in_place_sets_the_alias_on_the_version_file_s_version(
        release: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("local_target", "aks_target", "azureml_target", "aci_target"):
        release.target(name)
    code = promote.main(_promote_argv("aks", stable="blue", candidate="blue", version_file=_version_file(tmp_path, 4)))
    assert code == 0
    # Updated in place: no target is touched, only the alias moves.
    assert release.calls == [("configure_mlflow", ("ws",)), ("common.registry.client", ()), _alias_call("4")]
    assert capsys.readouterr().out.splitlines() == [
        "blue already serves the release (updated in place)",
        "alias production -> churn version 4",
        "promoted churn version 4 on ep",
    ]


def test_promote_without_a_known_version_fails_before_the_alias(
        release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    assert promote.main(_promote_argv("aks", stable="blue", candidate="blue")) == 1
    assert release.calls == []
    assert capsys.readouterr().err == "error: cannot tell which model version was promoted: pass --version-file\n"


def test_promote_local_moves_the_candidate_then_the_alias(release: Release, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    release.target("local_target", promote={"version": 7})
    code = promote.main(_promote_argv("aks", backend="local", version_file=_version_file(tmp_path, 7)))
    assert code == 0
    assert release.calls == [("local_target.promote", ("/w", "ep", "blue", "green")), ("configure_mlflow", ("ws",)),
                             ("common.registry.client", ()), _alias_call("7")]
    assert capsys.readouterr().out.splitlines()[-1] == "promoted churn version 7 on ep"


def test_promote_takes_the_served_version_when_there_is_no_version_file(release: Release) -> None:
    release.target("local_target", promote={"version": 9})
    assert promote.main(_promote_argv("aci", backend="local")) == 0
    assert release.calls[-1] == _alias_call("9")


def test_promote_local_with_nothing_served_uses_the_version_file(release: Release, tmp_path: Path) -> None:
    release.target("local_target", promote=None)
    assert promote.main(_promote_argv("aci", backend="local", version_file=_version_file(tmp_path, 3))) == 0
    assert release.calls[-1] == _alias_call("3")


def test_promote_refuses_an_alias_for_a_version_the_deployment_does_not_serve(
        release: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    release.target("local_target", promote={"version": 7})
    code = promote.main(_promote_argv("aks", backend="local", version_file=_version_file(tmp_path, 8)))
    assert code == 1
    assert "common.registry.set_alias" not in release.names()
    assert capsys.readouterr().err == "error: the deployment serves version 7, the version file says 8\n"


def test_promote_aks_uses_the_cluster_credentials_and_the_manifests(release: Release) -> None:
    release.target("aks_target", promote="5", load_manifests=lambda folder: f"manifests of {folder}")
    code = promote.main(_promote_argv("aks", "--cluster", "c1", "--namespace", "churn", "--manifests", "k8s/prod"))
    assert code == 0
    assert release.calls[:5] == [
        ("aks_target.credentials", ("c1", "rg", "/w")),
        ("aks_target.load_manifests", ("k8s/prod",)),
        ("aks_target.namespace_of", ("churn",)),
        ("aks_target.Kubectl", ("ns:churn", "kubeconfig")),
        ("aks_target.promote", (release.kubectl, "blue", "green", "manifests of k8s/prod")),
    ]
    assert release.calls[-1] == _alias_call("5")


def test_promote_aks_without_manifests_passes_none(release: Release) -> None:
    release.target("aks_target", promote="5")
    assert promote.main(_promote_argv("aks")) == 0
    assert "aks_target.load_manifests" not in release.names()
    assert ("aks_target.promote", (release.kubectl, "blue", "green", None)) in release.calls


def test_promote_azureml_passes_the_workspace_client_and_the_model(release: Release) -> None:
    release.target("azureml_target", promote="6")
    assert promote.main(_promote_argv("azureml_online_endpoint")) == 0
    assert release.calls[0] == ("azureml_target.promote", ("ml-client(ws)", "ep", "blue", "green", "churn"))
    assert release.calls[-1] == _alias_call("6")


def test_promote_aci_recreates_the_stable_group_from_the_candidate_then_removes_it(release: Release) -> None:
    candidate = {"location": "westeurope", "name": "green"}
    release.target("aci_target", show=lambda rg, name: candidate if name == "green" else None,
                   image_of=lambda group: ("acr.io/churn@sha256:ab", "11"), size_of=lambda group: (2.0, 4.0))
    assert promote.main(_promote_argv("aci")) == 0
    assert release.calls[:5] == [
        ("aci_target.show", ("rg", "green")),
        ("aci_target.image_of", (candidate,)),
        ("aci_target.size_of", (candidate,)),
        ("aci_target.create", ("rg", "blue", "acr.io/churn@sha256:ab", "11", "westeurope", (2.0, 4.0))),
        ("aci_target.delete", ("rg", "green")),
    ]
    assert release.calls[-1] == _alias_call("11")


def test_promote_aci_with_the_candidate_gone_reads_the_stable_group(release: Release) -> None:
    """A rerun after the candidate was already moved: the stable group's version is the one served."""
    stable = {"name": "blue"}
    release.target("aci_target", show=lambda rg, name: stable if name == "blue" else None,
                   image_of=lambda group: ("img", "12"))
    assert promote.main(_promote_argv("aci")) == 0
    assert release.calls[:3] == [("aci_target.show", ("rg", "green")), ("aci_target.show", ("rg", "blue")),
                                 ("aci_target.image_of", (stable,))]
    assert "aci_target.create" not in release.names() and "aci_target.delete" not in release.names()
    assert release.calls[-1] == _alias_call("12")


def test_promote_aci_with_nothing_deployed_needs_the_version_file(release: Release,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    release.target("aci_target", show=None)
    assert promote.main(_promote_argv("aci")) == 1
    assert "common.registry.set_alias" not in release.names()
    assert "pass --version-file" in capsys.readouterr().err


def test_a_failed_shift_leaves_the_alias_alone(release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*args: Any) -> None:
        raise promote.DeployError("the candidate is not ready")

    release.target("azureml_target", promote=refuse)
    assert promote.main(_promote_argv("azureml_online_endpoint")) == 1
    assert release.names() == ["azureml_target.promote"]
    assert capsys.readouterr().err == "error: the candidate is not ready\n"


# --- rollback.py ------------------------------------------------------------------------------------------------

def _endpoint_file(tmp_path: Path, **info: Any) -> Path:
    path = tmp_path / "endpoint.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


def _rollback_argv(target: str, *args: str, endpoint_file: Path | None = None, **kwargs: Any) -> list[str]:
    extra = (*args, *(("--endpoint-file", str(endpoint_file)) if endpoint_file else ()))
    return _argv(target, extra=extra, **kwargs)


def test_endpoint_info_reads_the_file_deploy_wrote(tmp_path: Path) -> None:
    assert rollback.endpoint_info(None) == {}
    assert rollback.endpoint_info(str(tmp_path / "absent.json")) == {}
    assert rollback.endpoint_info(str(_endpoint_file(tmp_path, previous={"version": "2"}))) == {
        "previous": {"version": "2"}}


# The cluster credentials and the kubectl of `--cluster c1 --namespace churn`, in that order.
AKS_LOGIN: list[Call] = [("aks_target.credentials", ("c1", "rg", "/w")), ("aks_target.namespace_of", ("churn",)),
                         ("aks_target.Kubectl", ("ns:churn", "kubeconfig"))]


@pytest.mark.parametrize("target", ["aks", "azureml_online_endpoint", "aci"])
def test_rollback_of_a_split_release_removes_the_candidate(release: Release, target: str,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("aks_target", "azureml_target", "aci_target"):
        release.target(name)
    assert rollback.main(_rollback_argv(target, "--cluster", "c1", "--namespace", "churn")) == 0
    expected = {
        "aks": [*AKS_LOGIN, ("aks_target.rollback", (release.kubectl, "green", None))],
        "azureml_online_endpoint": [("azureml_target.rollback", ("ml-client(ws)", "ep", "blue", "green"))],
        "aci": [("aci_target.delete", ("rg", "green"))],
    }[target]
    assert release.calls == expected
    assert capsys.readouterr().out == "rolled back ep: all traffic on blue\n"


def test_rollback_local_sends_traffic_back_on_this_machine(release: Release) -> None:
    release.target("local_target")
    assert rollback.main(_rollback_argv("aks", backend="local")) == 0
    assert release.calls == [("local_target.rollback", ("/w", "ep", "blue", "green"))]


def test_rollback_in_place_without_an_endpoint_file_changes_nothing(
        release: Release, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("local_target", "aks_target", "azureml_target", "aci_target"):
        release.target(name)
    code = rollback.main(_rollback_argv("aks", stable="blue", candidate="blue",
                                        endpoint_file=tmp_path / "never-written.json"))
    assert code == 0
    assert release.calls == []
    assert capsys.readouterr().out == (
        "no endpoint file: the release failed before deploying, blue is unchanged\n")


PREVIOUS = {"image": "acr.io/churn@sha256:01", "version": 2, "location": "westeurope", "size": [1.0, 2.0]}


def test_rollback_in_place_local_restores_the_previous_deployment(release: Release, tmp_path: Path) -> None:
    release.target("local_target")
    code = rollback.main(_rollback_argv("aci", stable="blue", candidate="blue", backend="local",
                                        endpoint_file=_endpoint_file(tmp_path, previous=PREVIOUS)))
    assert code == 0
    assert release.calls == [("local_target.restore", ("/w", "ep", "blue", PREVIOUS))]


def test_rollback_in_place_azureml_restores_the_previous_model(release: Release, tmp_path: Path) -> None:
    release.target("azureml_target")
    info = _endpoint_file(tmp_path, previous=PREVIOUS, model={"name": "churn", "version": "3"})
    assert rollback.main(_rollback_argv("azureml_online_endpoint", stable="blue", candidate="blue",
                                        endpoint_file=info)) == 0
    assert release.calls == [("azureml_target.rollback", ("ml-client(ws)", "ep", "blue", "blue", PREVIOUS, "churn"))]


def test_rollback_in_place_azureml_without_a_recorded_model(release: Release, tmp_path: Path) -> None:
    release.target("azureml_target")
    info = _endpoint_file(tmp_path, previous=None, model=None)
    assert rollback.main(_rollback_argv("azureml_online_endpoint", stable="blue", candidate="blue",
                                        endpoint_file=info)) == 0
    assert release.calls == [("azureml_target.rollback", ("ml-client(ws)", "ep", "blue", "blue", None, ""))]


def test_rollback_in_place_aks_undoes_the_rollout(release: Release, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    release.target("aks_target")
    code = rollback.main(_rollback_argv("aks", "--cluster", "c1", "--namespace", "churn", stable="blue",
                                        candidate="blue", endpoint_file=_endpoint_file(tmp_path, previous=None)))
    assert code == 0
    assert release.calls == [*AKS_LOGIN, ("kubectl.run", ("rollout", "undo", "deployment/blue")),
                             ("kubectl.rollout", ("blue",))]
    assert capsys.readouterr().out == "rolled blue back to its previous revision\n"


def test_rollback_in_place_aks_of_a_first_release_deletes_it(release: Release, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """`kubectl rollout undo` of a Deployment with one revision fails ("no rollout history found"), so a first
    release is removed instead."""
    release.target("aks_target")
    code = rollback.main(_rollback_argv("aks", "--cluster", "c1", "--namespace", "churn", stable="blue",
                                        candidate="blue", endpoint_file=_endpoint_file(tmp_path, first_release=True)))
    assert code == 0
    assert release.calls == [*AKS_LOGIN, ("kubectl.run", ("delete", "deployment", "blue", "--ignore-not-found"))]
    assert capsys.readouterr().out == "blue had nothing before this release: removed\n"


def test_rollback_in_place_aci_recreates_the_previous_group(release: Release, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    release.target("aci_target")
    code = rollback.main(_rollback_argv("aci", stable="blue", candidate="blue",
                                        endpoint_file=_endpoint_file(tmp_path, previous=PREVIOUS)))
    assert code == 0
    assert release.calls == [("aci_target.create", ("rg", "blue", PREVIOUS["image"], "2", "westeurope", [1.0, 2.0]))]
    assert capsys.readouterr().out == f"restored {PREVIOUS['image']} (model version 2) on blue\n"


@pytest.mark.parametrize("previous", [None, {"version": 2}, {"image": "", "version": 2}])
def test_rollback_in_place_aci_of_a_first_release_deletes_it(release: Release, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             previous: dict[str, Any] | None) -> None:
    release.target("aci_target")
    code = rollback.main(_rollback_argv("aci", stable="blue", candidate="blue",
                                        endpoint_file=_endpoint_file(tmp_path, previous=previous)))
    assert code == 0
    assert release.calls == [("aci_target.delete", ("rg", "blue"))]
    assert capsys.readouterr().out == "blue had nothing before this release: removed\n"


def test_rollback_failure_exits_1_in_one_line(release: Release, capsys: pytest.CaptureFixture[str]) -> None:
    def refuse(*args: Any) -> None:
        raise SUPPORT.DeployError("az: endpoint ep not found")  # what rollback's guarded_main catches

    release.target("azureml_target", rollback=refuse)
    assert rollback.main(_rollback_argv("azureml_online_endpoint")) == 1
    assert capsys.readouterr().err == "error: az: endpoint ep not found\n"
