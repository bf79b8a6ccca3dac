"""One realistic sample per credential pattern, asserting *which* kind was found: the entropy fallback (or another
pattern) must not be able to hide a pattern that no longer matches. Samples are assembled from parts so that they
are not themselves mistaken for leaked credentials by scanners."""

from __future__ import annotations

import pytest

from mlops_gen.spec.secrets import _PATTERNS, secret_like

SAMPLES: dict[str, str] = {
    "a connection string": "DefaultEndpointsProtocol=https;AccountName=mlstore;" + "AccountKey=" + "q8Zr2" * 8 + "==",
    "a webhook URL": "https://" + "hooks.slack.com/" + "services/T024BE7LD/B01ABCD2EFG/abcdEFGHijkl",
    "a GitHub token": "ghp" + "_" + "16C7e42F292c6912E7710c838347Ae178B4a",
    "a Slack token": "xoxb" + "-" + "263594206564-2343594206564-FGqddMF8t",
    "a JSON Web Token": "eyJ" + "hbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36P",
    "a private key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "a URL with a password": "postgresql://" + "mluser:hunter22" + "@db.example.com:5432/features",
    # a short signature (24 characters): too short for the entropy fallback, only the SAS pattern sees it
    "an SAS token": (
        "https://mlstore.blob.core.windows.net/models/m.pkl?sv=2022-11-02&sr=b&" + "sig=" + "aB3dE5gH7jK9mN1pQ3sT5v%3D"
    ),
    "an AWS access key": "AKIA" + "IOSFODNN7EXAMPLE",
    "a GitLab token": "glpat" + "-" + "Ab3dEf6hIj9kLm2nOp5q",
    "an Azure AD client secret": "Xyz8" + "Q~" + "abcdefghijklmnopqrstuvwxyz0123456_.",
    "a credential assignment": "api_key = " + "s3cr3tvalue",
}


def test_every_pattern_has_a_sample() -> None:
    assert sorted(SAMPLES) == sorted(kind for kind, _ in _PATTERNS)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_sample_is_found_as_its_own_kind(kind: str) -> None:
    assert secret_like(SAMPLES[kind]) == kind


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_sample_inside_prose_is_still_found(kind: str) -> None:
    assert secret_like(f"deploy notes: {SAMPLES[kind]} (rotate monthly)") == kind


def test_entropy_fallback_names_itself() -> None:
    assert secret_like("k" + "9fQ2xL7vB4nZ8mR1tY6wC3pH5sJ0dG2aE7uK") == "a long random key or token"


@pytest.mark.parametrize("text", [
    "Customer churn prediction",
    "see https://learn.microsoft.com/azure/machine-learning/",
    "https://mlstore.blob.core.windows.net/models/m.pkl?sv=2022-11-02&sig=short",  # 5-char sig: not a token
    "the secret is stored in Key Vault",  # names a secret, holds none
    "AKIA-is-a-prefix",
])
def test_benign_text_is_not_flagged(text: str) -> None:
    assert secret_like(text) is None
