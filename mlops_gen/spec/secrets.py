"""Recognise values that look like credentials so that a spec can only ever name a secret, never hold one."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("a connection string", re.compile(r"(AccountKey|SharedAccessKey|SharedAccessSignature|Password|Pwd)\s*=",
                                       re.IGNORECASE)),
    ("a webhook URL", re.compile(r"hooks\.slack\.com/|webhook\.office\.com/|/webhookb2/|logic\.azure\.com/",
                                 re.IGNORECASE)),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY")),
    ("a URL with a password", re.compile(r"[a-z]+://[^/\s:@]+:[^/\s@]+@", re.IGNORECASE)),
    ("an SAS token", re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}")),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("an Azure AD client secret", re.compile(r"\b[A-Za-z0-9_-]{3}\dQ~[A-Za-z0-9_.~-]{31,}")),
    ("a credential assignment", re.compile(r"\b(password|passwd|secret|api[_-]?key|access[_-]?key|client[_-]?secret"
                                           r"|token)\s*[:=]\s*[^\s:=]{4,}", re.IGNORECASE)),
]
_TOKEN = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
# Every pattern in one search: a spec has a few hundred strings and almost none matches, so one pass of the regex
# engine per string rather than twelve calls; only a string that matches is asked which kind it is, in order.
_ANY = re.compile("|".join(f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?:{pattern.pattern})"
                           for _, pattern in _PATTERNS))


def _entropy(text: str) -> float:
    counts = {c: text.count(c) for c in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_like(value: str) -> str | None:
    """Name the kind of credential `value` resembles, or None."""
    if _ANY.search(value):
        return next(kind for kind, pattern in _PATTERNS if pattern.search(value))
    for token in _TOKEN.findall(value) if len(value) >= 32 else ():
        has_digit = any(c.isdigit() for c in token)
        has_alpha = any(c.isalpha() for c in token)
        if has_digit and has_alpha and _entropy(token) > 4.0:
            return "a long random key or token"
    return None


_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def credential_message(kind: str) -> str:
    return (f"looks like a credential ({kind}); a spec holds secret names only: store the value as an Azure "
            "DevOps secret variable or variable group and as a GitHub secret")


def credentials_in(data: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], bool, str]]:
    """Every string of a loaded spec, mapping keys included, that looks like a credential: (path, is_key, kind).

    A key's path ends with the key itself (callers must not show it: it is the secret). Subscription ids are
    GUIDs, not secrets, and their randomness must not look like one.
    """
    if isinstance(data, dict):
        for key, value in data.items():
            kind = secret_like(key) if isinstance(key, str) else None
            if kind:
                yield (*path, key), True, kind
            yield from credentials_in(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from credentials_in(item, (*path, index))
    elif isinstance(data, str) and not _GUID.fullmatch(data):
        kind = secret_like(data)
        if kind:
            yield path, False, kind
