"""Tests written to kill mutmut's survivors in the spec's credential scan (mlops_gen/spec/secrets.py): the entropy
fallback at its edges and the walk over a loaded spec (keys, values, lists, paths, GUIDs). See docs/testing.md."""

from __future__ import annotations

import math

import pytest

from mlops_gen.spec.secrets import _entropy, credential_message, credentials_in, secret_like

FALLBACK = "a long random key or token"


@pytest.mark.parametrize(("text", "bits"), [("aaaa", 0.0), ("aabb", 1.0), ("abcd", 2.0), ("aaab", 0.8112781244591328)])
def test_entropy_is_shannon_bits_per_character(text: str, bits: float) -> None:
    assert math.isclose(_entropy(text), bits, abs_tol=1e-12)


def test_fallback_needs_more_than_four_bits() -> None:
    exactly_four = "abcdefgh12345678" * 2  # 16 symbols, each twice: exactly 4.0 bits, 32 characters
    assert _entropy(exactly_four) == 4.0
    assert secret_like(exactly_four) is None
    five = "abcdefghijklmnopqrstuvwx12345678"  # 32 distinct symbols: 5.0 bits, above the limit
    assert secret_like(five) == FALLBACK


def test_fallback_needs_both_digits_and_letters() -> None:
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"  # high entropy, no digit
    digits = "1234567890" * 4  # digits only (3.3 bits)
    assert _entropy(letters) > 4.0
    assert secret_like(letters) is None
    assert secret_like(digits) is None
    assert secret_like("12345678901234567890123456789012345678901234567890abc") is None  # low entropy, mixed


def test_fallback_needs_thirty_two_characters() -> None:
    assert secret_like("abcdefghijklmnopqrstuvw12345678") is None  # 31 characters
    assert secret_like("abcdefghijklmnopqrstuvwx12345678") == FALLBACK


def test_credentials_in_walks_keys_values_and_lists_with_their_paths() -> None:
    token = "abcdefghijklmnopqrstuvwx12345678"
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    data = {
        "model": {"name": "churn", "tags": {token: "x", "owner": "team"}},
        "notify": ["ok", {"url": "https://" + "hooks.slack.com/services/T/B/x"}],
        "subscription": guid,
        "count": 3,
        7: "api_key = " + "s3cr3tvalue",
    }
    assert list(credentials_in(data)) == [
        (("model", "tags", token), True, FALLBACK),
        (("notify", 1, "url"), False, "a webhook URL"),
        ((7,), False, "a credential assignment"),
    ]


def test_credentials_in_starts_from_the_given_path() -> None:
    assert list(credentials_in(["api_key = " + "s3cr3tvalue"], ("root",))) == [
        (("root", 0), False, "a credential assignment")]


def test_a_guid_is_not_a_credential_but_a_guid_inside_text_is_scanned() -> None:
    guid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert list(credentials_in(guid)) == []
    assert list(credentials_in("token: " + guid)) == [((), False, "a credential assignment")]


def test_credential_message_names_the_kind_and_where_secrets_belong() -> None:
    message = credential_message("a GitHub token")
    assert message == ("looks like a credential (a GitHub token); a spec holds secret names only: store the value as an"
                       " Azure DevOps secret variable or variable group and as a GitHub secret")
