"""Worker processes for many specs: how many pay, and a fork-based process pool.

Light imports: `check`'s fast path uses this, and multiprocessing is imported only when a pool is made.
"""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Iterator
from typing import Any

MIN_ITEMS_PER_WORKER = 4  # below this, starting worker processes costs more than it saves


def usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def workers(jobs: int, count: int, per_worker: int = MIN_ITEMS_PER_WORKER) -> int:
    """Worker processes for `count` items: `jobs` if given (1: none), else one per usable core when each worker
    gets at least `per_worker` items (at most 8)."""
    if jobs > 0:
        return min(jobs, max(count, 1))
    return max(1, min(usable_cores(), count // per_worker, 8))


def slice_size(items: int, count: int, most: int = 16) -> int:
    """Items per task for `count` workers: about four tasks each, so a slow slice does not leave the others idle,
    and at most `most`, so results come back (and memory is freed) steadily."""
    return max(1, min(most, -(-items // (count * 4))))


def process_pool(count: int, initializer: Any = None, initargs: tuple[Any, ...] = ()) -> Any:
    """A ProcessPoolExecutor of `count` workers, forked where the platform can (workers inherit what the parent
    loaded), or None where the platform cannot make one (no /dev/shm, no semaphores): then the caller runs serially.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    try:
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        return ProcessPoolExecutor(count, mp_context=context, initializer=initializer, initargs=initargs)
    except (OSError, NotImplementedError, ImportError):
        return None


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk run (worker processes fork with it off); callers that loop over
    many specs collect the young generation by hand now and then (generate: every 64 model folders).

    Validating and rendering allocate millions of short-lived container objects (jinja contexts, spec views) and
    make almost no cycles, yet every 700 allocations the collector walks the young ones: measured at ~15 % of a
    500-spec generate, and half of a 500-spec validation.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
