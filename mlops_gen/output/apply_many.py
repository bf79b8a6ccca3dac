"""Apply many folder plans, the independent ones on several cores.

Creating a file costs the kernel far more than rendering it on some disks (measured at about 0.6 ms per file or
directory on the 2-core CI machines' ext4, see docs/benchmarks.md), so a monorepo generate that wrote its 500 model
units from one process waited on the disk for half its run. The model units of the monorepo layout are
independent (each owns its folder and its own callers in the root workflow folder), so worker processes write
them side by side, as the per-model layout's workers write model folders. Plans that touch another unit's files
(a layout switch's removals, the shared unit, retired units) are applied by the calling process, in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlops_gen.output.changes import FolderPlan
from mlops_gen.output.writer import apply_plan
from mlops_gen.parallel import process_pool, workers

MIN_WRITES_PER_WORKER = 64  # below this, forking a worker costs more than the writes it takes over

_plans: Sequence[FolderPlan] = ()  # a worker's plans: with fork, inherited rather than pickled


def _start(plans: Sequence[FolderPlan]) -> None:
    global _plans
    _plans = plans


def _apply(indices: list[int]) -> None:
    for index in indices:
        apply_plan(_plans[index])


def writes(plan: FolderPlan) -> int:
    return sum(change.action in ("create", "update", "delete") for change in plan.changes)


def apply_plans(serial_first: Sequence[FolderPlan], independent: Sequence[FolderPlan],
                serial_last: Sequence[FolderPlan], jobs: int = 0) -> None:
    """Apply `serial_first` in order, then `independent` (plans that share no file, no folder and no `before`)
    on several cores when there are enough writes, then `serial_last` in order. An error in any plan is raised
    here, after the workers stopped."""
    for plan in serial_first:
        apply_plan(plan)
    busy = [plan for plan in independent if plan.before is None]
    for plan in independent:
        if plan.before is not None:  # it removes another layout's files: not side by side with other writes
            apply_plan(plan)
    count = workers(jobs, sum(writes(plan) for plan in busy), MIN_WRITES_PER_WORKER)
    pool: Any = process_pool(count, _start, (busy,)) if count > 1 else None
    if pool is None:
        for plan in busy:
            apply_plan(plan)
    else:
        try:
            # Round-robin slices: the units' sizes vary with their specs (environments, platforms).
            futures = [pool.submit(_apply, list(range(worker, len(busy), count))) for worker in range(count)]
            for future in futures:
                future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    for plan in serial_last:
        apply_plan(plan)
