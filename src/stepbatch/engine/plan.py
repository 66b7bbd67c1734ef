"""Which units remain and how they are split into batches (one browser per batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stepbatch.engine.protocol import UnitStatus
from stepbatch.workbook.models import Unit


@dataclass
class Plan:
    batches: list[list[Unit]]
    done: list[str] = field(default_factory=list)  # keys already done
    exhausted: list[str] = field(default_factory=list)  # failed, no attempts left (or Permanent)
    removed: list[str] = field(default_factory=list)  # in the progress store, gone from the workbook

    @property
    def remaining(self) -> list[Unit]:
        return [u for batch in self.batches for u in batch]


def remaining_units(
    units: Sequence[Unit], progress: Mapping[str, Mapping[str, Any]], *, max_attempts: int
) -> tuple[list[Unit], list[str], list[str]]:
    """(remaining units in run order, done keys, exhausted keys).

    Run order: units started before (`in_progress`, `partial`) first, then `pending` (and new) in sheet
    order, then `failed` ones that still have attempts left.
    """
    started: list[Unit] = []
    pending: list[Unit] = []
    retry: list[Unit] = []
    done: list[str] = []
    exhausted: list[str] = []
    seen: set[str] = set()
    for unit in units:
        if unit.key in seen:
            continue  # the workbook reader merges duplicates; never run one twice in a plan
        seen.add(unit.key)
        rec = progress.get(unit.key)
        status = rec["status"] if rec else UnitStatus.PENDING.value
        if status == UnitStatus.DONE.value:
            done.append(unit.key)
        elif status in (UnitStatus.IN_PROGRESS.value, UnitStatus.PARTIAL.value):
            started.append(unit)
        elif status == UnitStatus.FAILED.value:
            if rec and not rec.get("permanent") and rec.get("attempts", 0) < max_attempts:
                retry.append(unit)
            else:
                exhausted.append(unit.key)
        else:
            pending.append(unit)
    return started + pending + retry, done, exhausted


def split(units: Sequence[Unit], batch_size: int) -> list[list[Unit]]:
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    return [list(units[i : i + batch_size]) for i in range(0, len(units), batch_size)]


def plan_batches(
    units: Sequence[Unit],
    progress: Mapping[str, Mapping[str, Any]],
    *,
    batch_size: int = 5,
    max_attempts: int = 3,
) -> Plan:
    """The remaining units of a run, in batches of `batch_size` units.

    `progress` maps unit keys to their progress records (`ProgressStore.units`): `status`, `attempts`,
    `permanent`. Keys in `progress` that the workbook no longer has are reported in `removed`.
    """
    remaining, done, exhausted = remaining_units(units, progress, max_attempts=max_attempts)
    keys = {u.key for u in units}
    removed = [key for key in progress if key not in keys]
    return Plan(split(remaining, batch_size), done, exhausted, removed)


@dataclass(frozen=True)
class Chunk:
    index: int  # 0-based
    start: int  # items before this chunk
    count: int

    @property
    def stop(self) -> int:
        return self.start + self.count


def fixed_quantity_batches(total: int, size: int, *, done: int = 0) -> list[Chunk]:
    """For steps whose total is known up front (the old step1/step5): `total - done` items in chunks.

    >>> [(c.start, c.count) for c in fixed_quantity_batches(12, 5, done=2)]
    [(2, 5), (7, 5)]
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    if total < 0 or done < 0:
        raise ValueError("total and done must not be negative")
    return [Chunk(n, start, min(size, total - start)) for n, start in enumerate(range(done, total, size))]
