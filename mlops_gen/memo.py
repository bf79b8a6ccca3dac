"""Results remembered per spec object, for pure functions of a (frozen) spec that several steps of one run ask for.

Validation plans a spec's files, rendering plans them again, and the README, the callers and the plan file each
build the same pipeline model: with hundreds of specs, computing each once is most of what generate can save.
An entry keeps its spec alive, so the spec's id() cannot be reused while the entry lives; the store is bounded,
so a long-lived process does not grow without end.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

R = TypeVar("R")

LIMIT = 4096  # entries per function: a run of thousands of specs still fits, and memory stays bounded


class PerSpec(Generic[R]):
    """Remembered results of `function(spec, *rest)`, keyed by the spec object's identity and the other arguments
    (which must be hashable). The results are shared: they must not be mutated (frozen dataclasses, tuples)."""

    def __init__(self, function: Callable[..., R]) -> None:
        self._function = function
        self._entries: dict[tuple[Hashable, ...], tuple[object, R]] = {}
        functools.update_wrapper(self, function)

    def __call__(self, spec: object, *rest: Hashable) -> R:
        hit = self.peek(spec, *rest)
        if hit is not None:
            return hit
        value = self._function(spec, *rest)
        self.remember(spec, value, *rest)
        return value

    def peek(self, spec: object, *rest: Hashable) -> R | None:
        """The remembered result, or None."""
        key = (id(spec), *rest)
        hit = self._entries.get(key)
        return hit[1] if hit is not None and hit[0] is spec else None

    def remember(self, spec: object, value: R, *rest: Hashable) -> None:
        """Record `value` as the result for these arguments (computed elsewhere, e.g. in a worker process)."""
        if len(self._entries) >= LIMIT:
            self._entries.clear()
        key = (id(spec), *rest)
        self._entries[key] = (spec, value)


def per_spec(function: Callable[..., R]) -> PerSpec[R]:
    """Decorator: remember `function(spec, *rest)` per spec object (see PerSpec)."""
    return PerSpec(function)

