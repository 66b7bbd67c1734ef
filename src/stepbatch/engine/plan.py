"""Which units remain and how they are split into batches (one browser per batch)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stepbatch.contracts.records import UnitRecord
from stepbatch.engine.protocol import UnitStatus
from stepbatch.workbook.models import Unit

# Progress records by unit key: `UnitRecord`s (`{r.key: r for r in store.unit_records()}`), or the raw
# dicts of a progress snapshot (`status`, `attempts`, `permanent`), as older callers pass them.
Progress = Mapping[str, UnitRecord] | Mapping[str, Mapping[str, Any]]


@dataclass
class Plan:
    batches: list[list[Unit]]
    done: list[str] = field(default_factory=list)  # keys already done
    exhausted: list[str] = field(default_factory=list)  # failed, no attempts left (or Permanent)
    removed: list[str] = field(default_factory=list)  # in the progress store, gone from the workbook

    @property
    def remaining(self) -> list[Unit]:
        return [u for batch in self.batches for u in batch]


def _record(key: str, rec: UnitRecord | Mapping[str, Any] | None) -> UnitRecord | None:
    if rec is None or isinstance(rec, UnitRecord):
        return rec
    return UnitRecord.from_dict(key, rec)


def remaining_units(
    units: Sequence[Unit], progress: Progress, *, max_attempts: int
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
        rec = _record(unit.key, progress.get(unit.key))
        status = rec.status if rec else UnitStatus.PENDING
        if status == UnitStatus.DONE:
            done.append(unit.key)
        elif status in (UnitStatus.IN_PROGRESS, UnitStatus.PARTIAL):
            started.append(unit)
        elif status == UnitStatus.FAILED:
            if rec and not rec.permanent and rec.attempts < max_attempts:
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
    progress: Progress,
    *,
    batch_size: int = 5,
    max_attempts: int = 3,
) -> Plan:
    """The remaining units of a run, in batches of `batch_size` units.

    `progress` maps unit keys to their progress records (`status`, `attempts`, `permanent` are read).
    Keys in `progress` that the workbook no longer has are reported in `removed`.
    """
    remaining, done, exhausted = remaining_units(units, progress, max_attempts=max_attempts)
    keys = {u.key for u in units}
    removed = [key for key in progress if key not in keys]
    return Plan(split(remaining, batch_size), done, exhausted, removed)


__all__ = ["Plan", "Progress", "plan_batches", "remaining_units", "split"]
