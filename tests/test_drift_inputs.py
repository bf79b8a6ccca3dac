"""Where the scheduled drift check reads production inputs (issue 12 item 9).

A deployment to an Azure ML online endpoint collects its inputs (src/serving/collection.py) into the data asset
`<endpoint>-<deployment>-model_inputs`, which both platforms' drift check reads. AKS and ACI deployments collect
nothing: before, the check named that same asset anyway, which never exists there, so every scheduled run failed
with "data asset not found". Now the team names its own inputs in the pipeline variable DRIFT_CURRENT_DATA, which
reaches the script as an environment variable on both platforms (GitHub: `env:` from `vars`; Azure Pipelines passes
non-secret pipeline variables to scripts as environment variables), and an unset variable fails the check with a
message that says so, which starts no retraining.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlops_gen.pipeline.build import COLLECTED_INPUTS, DRIFT_CURRENT_VARIABLE, MONITORING_TARGETS, build_pipeline
from mlops_gen.spec.validate import load_specs
from tests.conftest import SPECS
from tests.pipeline_calls import render_to
from tests.template_scripts import load_script

VARIABLE = '"${' + DRIFT_CURRENT_VARIABLE + '}"'


@pytest.fixture(scope="module")
def trees(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    specs = tmp_path_factory.mktemp("specs")
    churn = (SPECS / "customer-churn.yaml").read_text(encoding="utf-8")
    # The example's production runs on AKS; the same spec with its last environment on ACI, the third target (not
    # production-like: ACI is refused there), which the drift check then watches.
    aci = churn.replace("  name: customer-churn", "  name: churn-aci", 1).replace(
        "    target: aks\n    cluster: aks-ml-prod\n    namespace: ml-models\n",
        "    target: aci\n    production: false\n", 1).replace(
        "    replicas: {min: 2, max: 10}\n", "", 1)
    aci = "\n".join(line for line in aci.splitlines() if not line.startswith("    gateway:")) + "\n"
    assert "target: aci" in aci
    (specs / "churn-aci.yaml").write_text(aci, encoding="utf-8")
    paths = [SPECS / "customer-churn.yaml", SPECS / "house-prices.yaml", specs / "churn-aci.yaml"]
    return render_to(paths, tmp_path_factory.mktemp("out"))


def _watched(model: str) -> tuple[str, str, str]:
    """(target, endpoint, stable deployment) of the environment the drift check watches."""
    path = SPECS / f"{model}.yaml"
    (spec_file,) = load_specs([str(path)])
    env = build_pipeline(spec_file.spec).monitored.env
    return env.env.target, env.endpoint_name, env.stable_deployment


def _github_step(folder: Path) -> dict[str, str]:
    workflow = yaml.safe_load((folder / ".github/workflows/drift-monitor.yml").read_text(encoding="utf-8"))
    (step,) = [s for s in workflow["jobs"]["detect-drift"]["steps"] if "detect_drift.py" in s.get("run", "")]
    return step


def _azure_script(folder: Path) -> str:
    text = (folder / "azure-pipelines/drift-monitor.yml").read_text(encoding="utf-8")
    (script,) = [s for s in text.split("inlineScript: |")[1:] if "detect_drift.py" in s]
    return script


def test_the_collected_inputs_are_the_apps_collection() -> None:
    assert COLLECTED_INPUTS == load_script("serving/collection.py").INPUTS


def test_an_azure_ml_endpoint_is_read_through_what_it_collected(trees: dict[str, Path]) -> None:
    target, endpoint, stable = _watched("house-prices")
    assert target in MONITORING_TARGETS
    step = _github_step(trees["house-prices"])
    assert f"--current azureml:{endpoint}-{stable}-{COLLECTED_INPUTS}:latest " in step["run"]
    assert DRIFT_CURRENT_VARIABLE not in step["run"] and "env" not in step


@pytest.mark.parametrize("model", ["customer-churn", "churn-aci"])
def test_a_deployment_that_collects_nothing_is_read_through_the_teams_variable(trees: dict[str, Path],
                                                                               model: str) -> None:
    folder = trees[model]
    step = _github_step(folder)
    assert step["env"] == {DRIFT_CURRENT_VARIABLE: "${{ vars." + DRIFT_CURRENT_VARIABLE + " }}"}
    assert f"--current {VARIABLE} " in step["run"]
    assert "model_inputs" not in step["run"]
    script = _azure_script(folder)
    assert f"--current {VARIABLE} " in script and "model_inputs" not in script
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"set the pipeline variable\n  `{DRIFT_CURRENT_VARIABLE}`" in readme
    # No Azure ML model monitor is set up for a target it cannot watch.
    workflow = (folder / ".github/workflows/ml-pipeline.yml").read_text(encoding="utf-8")
    assert "configure_monitoring.py" not in workflow


def test_an_unset_variable_fails_the_check_saying_so(trees: dict[str, Path]) -> None:
    """The generated GitHub step, run by bash as GitHub runs it, with the variable unset (an empty `vars.` value)."""
    folder = trees["customer-churn"]
    step = _github_step(folder)
    env = {**os.environ, **{DRIFT_CURRENT_VARIABLE: "", "AZURE_SUBSCRIPTION_ID": "0000"}}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(["bash", "-e", "-c", step["run"].replace("python ", f"{sys.executable} ", 1)],
                            cwd=folder, env=env, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --current is empty: name a table (CSV/Parquet path) or a data asset azureml:<name>:<version|latest>")
    assert not (folder / "drift-report.json").exists()
