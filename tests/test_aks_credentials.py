"""Cluster credentials for AKS with Entra ID (issue 12 item 4).

`az aks get-credentials` writes, for a cluster with Entra ID, a kubeconfig whose user runs the kubelogin exec
plugin (interactive device code by default); in a pipeline it must be converted with `kubelogin
convert-kubeconfig -l azurecli` to use the pipeline's Azure CLI login
(learn.microsoft.com/azure/aks/kubelogin-authentication#azure-cli). Without kubelogin every kubectl call fails:
the script says so at once instead of swallowing it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.template_scripts import forget_helper_modules, helper_modules

FAKES = Path(__file__).resolve().parent / "fakes"
DEPLOYMENT = Path(__file__).resolve().parent.parent / "templates" / "scripts" / "src" / "deployment"


def _aks() -> ModuleType:
    # The helpers aks_target imports are put back as they were: other test modules hold the `support` they loaded.
    saved = {name: sys.modules[name] for name in helper_modules()}
    sys.path[:0] = [str(DEPLOYMENT), str(DEPLOYMENT.parent)]
    try:
        spec = importlib.util.spec_from_file_location("creds_aks_target", DEPLOYMENT / "aks_target.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        for path in (str(DEPLOYMENT), str(DEPLOYMENT.parent)):
            sys.path.remove(path)
        forget_helper_modules()
        sys.modules.update(saved)


@pytest.fixture()
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with only the fake az (and, when a test adds it, a fake kubelogin that logs its arguments)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "az"
    fake.write_text(f"#!{sys.executable}\n" + (FAKES / "az.py").read_text(encoding="utf-8"), encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.path.dirname(sys.executable)}")
    monkeypatch.setenv("FAKE_AZ_STATE", str(tmp_path / "az.json"))
    return bin_dir


def _kubelogin(bin_dir: Path) -> Path:
    log = bin_dir.parent / "kubelogin.log"
    script = bin_dir / "kubelogin"
    script.write_text(f"#!{sys.executable}\nimport sys\nopen({str(log)!r}, 'a').write(' '.join(sys.argv[1:]))\n",
                      encoding="utf-8")
    script.chmod(0o755)
    return log


def test_an_entra_id_cluster_without_kubelogin_fails_at_once(tools: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AKS_ENTRA", "1")
    aks = _aks()
    with pytest.raises(aks.DeployError, match="uses Entra ID and kubectl needs kubelogin"):
        aks.credentials("aks-ml-prod", "rg", str(tmp_path / "work"))


def test_an_entra_id_kubeconfig_is_converted_for_the_cli_login(tools: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AKS_ENTRA", "1")
    log = _kubelogin(tools)
    path = _aks().credentials("aks-ml-prod", "rg", str(tmp_path / "work"))
    assert log.read_text(encoding="utf-8") == f"convert-kubeconfig --login azurecli --kubeconfig {path}"


def test_a_local_account_cluster_needs_no_kubelogin(tools: Path, tmp_path: Path) -> None:
    log = _kubelogin(tools)
    path = _aks().credentials("aks-ml-dev", "rg", str(tmp_path / "work"))
    assert path and "client-certificate-data" in json.dumps(json.loads(Path(path).read_text(encoding="utf-8")))
    assert not log.exists()
