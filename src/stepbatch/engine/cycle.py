"""A run against its progress store before and after the loop: what to run, and how the run ended."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from stepbatch.contracts.events import Event
from stepbatch.engine.events import RunRecorder
from stepbatch.engine.limits import Limits, MaxProductsPerCode
from stepbatch.engine.options import RunOptions
from stepbatch.engine.plan import Plan, plan_batches
from stepbatch.engine.protocol import UnitStatus
from stepbatch.state.store import ProgressStore
from stepbatch.text import plural
from stepbatch.workbook.models import Unit


def prepare(
    store: ProgressStore, units: Sequence[Unit], options: RunOptions, rec: RunRecorder
) -> tuple[Plan, str | None]:
    """Bring the store up to date with the workbook; returns the plan and a note when nothing is to do."""
    if store.complete:
        new = [u for u in units if store.unit(u.key) is None]
        if options.new_cycle:
            store.start_new_cycle()
            rec.emit(Event.NEW_CYCLE, cycle=store.cycle)
        elif new:
            rec.emit(
                Event.WARNING,
                message=f"{plural(len(new), 'unit')} added to the workbook since the cycle completed;"
                " running them in the same cycle",
            )
            store.set_meta(complete=False, completed_at=None)
        else:
            when = store.completed_at or "earlier"
            note = (
                f"everything is done: cycle {store.cycle} completed {when}; pass --new-cycle to start again"
            )
            return plan_batches([], {}, batch_size=options.batch_size), note
    store.add_units(units)
    progress = {record.key: record for record in store.unit_records()}
    return plan_batches(
        units, progress, batch_size=options.batch_size, max_attempts=options.max_attempts
    ), None


def conclude(
    limits: Limits, store: ProgressStore, units: Sequence[Unit], note: str | None
) -> tuple[str, str]:
    """The run's outcome and message; a cycle whose every unit is done is marked complete (archived)."""
    if note is not None:
        return "complete", note
    statuses = Counter(store.unit_status(u.key) for u in units)
    if limits.stop_reason:
        outcome = "interrupted" if limits.signalled else "stopped"
        return outcome, f"stopped: {limits.stop_reason}"
    if statuses[UnitStatus.FAILED]:
        return "failed", (
            f"{plural(statuses[UnitStatus.FAILED], 'unit')} failed; "
            "`stepbatch reset --failed-only` makes them run again"
        )
    if statuses[UnitStatus.DONE] == len({u.key for u in units}):
        archived = store.mark_complete()
        done = ("all " if len(units) > 1 else "") + plural(len(units), "unit")
        return "complete", f"{done} done; progress archived to {archived}"
    left = len(units) - statuses[UnitStatus.DONE]
    limits.stop_reason = MaxProductsPerCode.reason  # units left partial without a stop: the per-code cap
    return "stopped", f"{plural(left, 'unit')} left partial"


__all__ = ["conclude", "prepare"]
