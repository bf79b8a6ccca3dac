"""ACI is public and unauthenticated, so it is refused for production-like environments (issue 12 item 11).

aci_target.py creates the container group with `--ip-address Public` and the serving app checks no credentials;
Azure Container Instances offers no built-in request authentication (learn.microsoft.com/azure/container-instances/
container-instances-overview: a public IP and DNS name, or a virtual network). Managed online endpoints require a key
or an Entra ID token; AKS serves inside the cluster.
"""

from __future__ import annotations

import pytest

from mlops_gen.spec.model import ProjectSpec
from tests.test_spec_rules import check, messages


@pytest.mark.parametrize("env", [
    {"name": "production", "target": "aci", "approval": "required"},
    {"name": "prod-eu", "target": "aci", "approval": "required"},
    {"name": "scoring", "target": "aci", "production": True, "approval": "required"},
])
def test_aci_in_a_production_like_environment_is_a_positioned_error(env: dict[str, object]) -> None:
    found = messages(check(environments=[env], rollout={"strategy": "direct"}))
    assert found == [f"environments[0].target: {env['name']!r} is production-like, and target 'aci' serves on a "
                     "public address without authentication: use 'azureml_online_endpoint' (key or Entra ID auth) or "
                     "'aks', or mark the environment 'production: false'"]


def test_aci_in_a_test_environment_is_accepted() -> None:
    spec = check(environments=[{"name": "dev", "target": "aci"},
                               {"name": "batch", "target": "aci", "production": False}])
    assert isinstance(spec, ProjectSpec)
