"""Unit tests of notifications: what would be sent without a webhook, payload shapes, and a secret URL."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def sn(scripts: Any) -> Any:
    return scripts("notification/send_notification.py")


ARGS = ["--event", "training", "--model-name", "m", "--status", "failed", "--detail", "gate=accuracy",
        "--channel", "teams", "--webhook-env", "TEST_WEBHOOK_URL", "--email", "team@example.com"]


def test_unset_webhook_prints_message(sn: Any, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("TEST_WEBHOOK_URL", raising=False)
    assert sn.main(ARGS) == 0
    out = capsys.readouterr().out
    assert "TEST_WEBHOOK_URL is not set" in out and "gate: accuracy" in out and "team@example.com" in out


def test_url_is_never_echoed(sn: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    secret = "http://hooks.invalid/secret-token"  # noqa: S105
    monkeypatch.setenv("TEST_WEBHOOK_URL", secret)
    assert sn.main(ARGS) == 2  # plain http refused
    captured = capsys.readouterr()
    assert "secret-token" not in captured.out + captured.err


def test_posts_payload_to_https_webhook(sn: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setenv("TEST_WEBHOOK_URL", "https://hooks.invalid/x")
    monkeypatch.setattr(sn, "post", lambda url, data: sent.append(data) or 200)
    assert sn.main(ARGS) == 0
    assert sent[0]["attachments"][0]["content"]["type"] == "AdaptiveCard"


def test_slack_payload(sn: Any) -> None:
    title, facts = sn.message("deploy", "m", "succeeded", {"env": "prod"}, [])
    payload = sn.payload("slack", title, facts)
    assert payload["text"].endswith("m: deploy succeeded")
    assert payload["blocks"][1]["text"]["text"] == "env: prod"
