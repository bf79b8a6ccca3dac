"""Issue 13: the README and docs/spec-reference.md say which metrics are ratios, which settings each target uses and
what each target exposes, and those facts match the code and templates they describe."""

from __future__ import annotations

import re

from mlops_gen.spec.model import CLASSIFICATION_METRICS, RATIO_METRICS, REGRESSION_METRICS
from mlops_gen.spec.reference import TARGET_EXPOSURE, reference_markdown
from mlops_gen.spec.semantic import TARGET_SETTINGS
from tests.conftest import ROOT

TEMPLATES = ROOT / "templates"


def _row(text: str, first_cell: str) -> str:
    (row,) = [line for line in text.splitlines() if line.startswith(f"| {first_cell} |")]
    return row


def test_reference_lists_every_metric_as_ratio_or_not() -> None:
    text = reference_markdown()
    for name in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS):
        assert ("ratio, within [0, 1]" in _row(text, f"`{name}`")) is (name in RATIO_METRICS), name


def test_reference_and_readme_give_each_target_its_settings_and_exposure() -> None:
    reference = reference_markdown()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert set(TARGET_EXPOSURE) == set(TARGET_SETTINGS)
    for target, settings in TARGET_SETTINGS.items():
        for text in (reference, readme):
            row = _row(text, f"`{target}`")
            assert re.findall(r"`(\w+)`", row.split("|")[2]) == list(settings), (target, row)
    ratios = re.search(r"Ratio metrics \(([^)]*)\)", readme)
    assert ratios is not None and set(re.findall(r"`(\w+)`", ratios.group(1))) == set(RATIO_METRICS)
    assert (ROOT / "docs" / "spec-reference.md").read_text(encoding="utf-8") == reference


def test_exposure_facts_match_the_deployment_templates() -> None:
    aci = (TEMPLATES / "scripts/src/deployment/aci_target.py").read_text(encoding="utf-8")
    assert '"--ip-address", "Public"' in aci and "--dns-name-label" in aci
    assert "public" in TARGET_EXPOSURE["aci"] and "no authentication" in TARGET_EXPOSURE["aci"]
    azureml = (TEMPLATES / "scripts/src/deployment/azureml_target.py").read_text(encoding="utf-8")
    assert 'auth_mode="aad_token"' in azureml and "aad_token" in TARGET_EXPOSURE["azureml_online_endpoint"]
    service = (TEMPLATES / "k8s/service.yaml").read_text(encoding="utf-8")
    assert re.findall(r"type: (\w+)", service) and set(re.findall(r"type: (\w+)", service)) == {"ClusterIP"}
    assert "ClusterIP" in TARGET_EXPOSURE["aks"] and "port: 80" in service
    support = (TEMPLATES / "scripts/src/deployment/support.py").read_text(encoding="utf-8")
    assert "SERVING_PORT = 8080" in support and "port 8080" in TARGET_EXPOSURE["aci"]
