"""Parse every rendered file back before it touches disk: a template bug must fail here, not in a user's pipeline.

YAML is checked with libyaml's parser events rather than a full load: the composer and the resolver are pure
Python and cost four times the parse on a large pipeline file. What a full `yaml.load_all(CSafeLoader)` would
still reject after a clean parse (a scalar whose implicit type cannot be constructed, such as the timestamp
`2026-02-30`; tags, anchors, aliases, merge keys, collections as mapping keys) is either checked on the spot or
handed to the full load, so the verdict is the full load's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

from mlops_gen.output.paths import name_and_suffix

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Implicit types whose construction can fail on a value the resolver matched (int and float via their regexes'
# corner cases, timestamps on impossible dates), and the two that SafeConstructor handles only in context.
_CONSTRUCTORS = {"tag:yaml.org,2002:int": SafeConstructor.construct_yaml_int,
                 "tag:yaml.org,2002:float": SafeConstructor.construct_yaml_float,
                 "tag:yaml.org,2002:timestamp": SafeConstructor.construct_yaml_timestamp}
_IN_CONTEXT = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
# First characters of plain scalars that may resolve to one of those; any other plain scalar is a str, bool or null.
_RISKY_START = frozenset(
    char for char, resolvers in Resolver.yaml_implicit_resolvers.items()
    if char and any(tag in _CONSTRUCTORS or tag in _IN_CONTEXT for tag, _ in resolvers))
_RESOLVER = Resolver()
_CONSTRUCTOR = SafeConstructor()


class _NeedsFullLoad(Exception):
    """Something only the composer and constructor can judge: load the text in full."""


def check_yaml(text: str) -> None:
    """Raise yaml.YAMLError (or ValueError) exactly when `yaml.load_all(text, CSafeLoader)` would."""
    try:
        _check_events(text)
    except _NeedsFullLoad:
        for _ in yaml.load_all(text, Loader=_LOADER):
            pass


def _check_events(text: str) -> None:
    loader = _LOADER(text)
    try:
        _walk(loader.get_event)
    finally:
        loader.dispose()


def _walk(next_event: Callable[[], Any]) -> None:  # yaml.events.Event subclasses, then None
    # Per open collection: -1 for a sequence, else how many keys and values of the mapping came so far.
    # Exact type tests, in order of frequency: this loop sees every event of every pipeline file.
    children: list[int] = []
    event = next_event()
    while event is not None:
        kind = type(event)
        if kind is ScalarEvent:
            if children and children[-1] >= 0:
                children[-1] += 1
            if event.anchor is not None or event.tag is not None:
                raise _NeedsFullLoad  # anchors and explicit tags: the composer and constructor decide
            value = event.value
            # Only a plain scalar with a risky first character can be anything but a str, bool or null.
            if event.implicit[0] and value[:1] in _RISKY_START:
                _check_plain(value)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            children.pop()
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if children and children[-1] >= 0:
                if children[-1] % 2 == 0:
                    raise _NeedsFullLoad  # a collection as a mapping key cannot be hashed
                children[-1] += 1
            if event.anchor is not None or event.tag is not None:
                raise _NeedsFullLoad
            children.append(0 if kind is MappingStartEvent else -1)
        elif kind is AliasEvent:
            raise _NeedsFullLoad
        event = next_event()  # stream and document boundaries need nothing


def _check_plain(value: str) -> None:
    tag = _RESOLVER.resolve(ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    if tag in _IN_CONTEXT:
        raise _NeedsFullLoad
    constructor = _CONSTRUCTORS.get(tag)
    if constructor is not None:
        constructor(_CONSTRUCTOR, ScalarNode(tag, value))  # raises as the full load would


# Texts already checked, by (suffix, length, hash): most scripts are identical across models. Python's own string
# hash (64-bit SipHash, computed once per string) rather than a cryptographic digest of 190 MB per 500 specs: these
# are our own renders, not adversarial input, and a collision would only skip re-checking one text.
_VERIFIED: set[tuple[str, int, int]] = set()


_CHECKED_SUFFIXES = frozenset({".yml", ".yaml", ".json", ".py"})


def verify(path: str, text: str) -> None:
    """Parse `text` back as the language its path names; raise RuntimeError naming the path when it does not."""
    suffix = name_and_suffix(path)[1]
    if suffix not in _CHECKED_SUFFIXES:
        return
    digest = (suffix, len(text), hash(text))
    if digest in _VERIFIED:
        return
    try:
        if suffix in (".yml", ".yaml"):
            check_yaml(text)
        elif suffix == ".json":
            json.loads(text)
        elif suffix == ".py":
            compile(text, path, "exec")
    except (yaml.YAMLError, ValueError, SyntaxError) as exc:
        raise RuntimeError(f"rendered {path} does not parse: {exc}") from exc
    _VERIFIED.add(digest)
