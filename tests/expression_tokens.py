"""The tokenizer the two expression evaluators of the tests share (GitHub Actions, Azure Pipelines): each passes
its own token pattern (named groups, leading blanks allowed)."""

from __future__ import annotations

import re


def tokens(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(group name, text) of each token of `text`; ValueError naming what cannot be read."""
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = pattern.match(text, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup
        assert kind is not None
        out.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out
