"""Running one account × step × server: `run_account` and its batch and unit loop.

The engine is browser-agnostic: it drives a `StepProcessor` and a `BrowserFactory`, and commits every
unit and item transition to the progress store before the processor goes on. The parts live beside this
module: the browser (`browser_life`), the watchdog, the limits, the retry policy, the reactions to a
unit call's end, the `UnitContext` (`context`), the summary, signals and error placement (`location`).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from stepbatch.contracts.events import Event
from stepbatch.engine.browser_life import BrowserLife
from stepbatch.engine.context import EngineContext
from stepbatch.engine.cycle import conclude, prepare
from stepbatch.engine.errors import ItemTimeout, LeaseLost
from stepbatch.engine.events import Listener, RunRecorder, new_run_id, unique_run_dir
from stepbatch.engine.limits import Boundary, Limits
from stepbatch.engine.location import code_location
from stepbatch.engine.notes import NoteTally
from stepbatch.engine.options import RunOptions
from stepbatch.engine.plan import Plan
from stepbatch.engine.protocol import BrowserFactory, ItemStatus, StepProcessor, UnitResult, UnitStatus
from stepbatch.engine.reactions import Reactions
from stepbatch.engine.retry import MAX_RELOGINS_IN_A_ROW, RetryPolicy
from stepbatch.engine.signals import StopOnSignal, StopSwitch, signals_handled
from stepbatch.engine.summary import RunStats, RunSummary, cumulative_totals
from stepbatch.engine.watchdog import Watchdog
from stepbatch.state.backends import FileBackend
from stepbatch.state.progress import now_iso
from stepbatch.state.store import AccountLease, ProgressStore, StateBackend
from stepbatch.workbook.models import Account, Unit


@dataclass(frozen=True)
class _Request:
    """`run_account`'s arguments, checked and defaulted."""

    state_dir: Path
    account: Account
    step: str
    server: str | None
    units: Sequence[Unit]
    processor: StepProcessor
    browser_factory: BrowserFactory
    options: RunOptions
    policy: RetryPolicy
    listeners: Sequence[Listener]
    handle_signals: bool
    resume_hint: str
    rng: random.Random
    facts: dict[str, Any]  # skipped_rows, translation_gate: copied into run_started and the summary
    stop_switch: StopSwitch | None


class _Engine:
    """One run's parts, wired together, and the loop over its batches and units."""

    def __init__(self, store: ProgressStore, rec: RunRecorder, run_id: str, req: _Request) -> None:
        self.store = store
        self.rec = rec
        self.run_id = run_id
        self.processor = processor = req.processor
        self.options = options = req.options
        self.policy = policy = req.policy
        self.stats = RunStats()
        self.limits = Limits(options)
        self.unit_items: Counter[str] = Counter()  # items finished per unit in this run (the per-code cap)
        self.watchdog = Watchdog(options.item_timeout)
        self.browsers = BrowserLife(
            factory=req.browser_factory,
            processor=processor,
            account=req.account,
            rec=rec,
            watchdog=self.watchdog,
            restarts=self.stats.restarts,
            on_close=self.limits.recycled,
        )
        self.reactions = Reactions(
            store=store,
            rec=rec,
            stats=self.stats,
            limits=self.limits,
            policy=policy,
            rng=req.rng,
            browsers=self.browsers,
            processor=processor,
        )
        self.on_signal = StopOnSignal(self.limits.request_stop, self.browsers.kill)
        self.lease_lost_reason: str | None = None

    def lease_lost(self, reason: str) -> None:
        """From the lease's thread: stop now, and kill the browser before anyone else may take over."""
        self.lease_lost_reason = reason
        self.limits.request_stop(f"lease lost: {reason}")
        self.browsers.kill()

    # -- what the UnitContext asks (context.ContextHost) -------------------------------------------

    def pet_watchdog(self) -> None:
        self.watchdog.pet()

    def progressed(self) -> None:
        self.reactions.streak.reset()

    def item_boundary(self, unit_key: str, status: ItemStatus) -> None:
        self.stats.item_finished(status)
        self.unit_items[unit_key] += 1
        self.browsers.items += 1
        self.progressed()
        memory_mb = self.browsers.sample_memory()
        self.limits.item_boundary(Boundary(self.stats.run_items, self.browsers.items, memory_mb))

    def why_stop(self, unit_key: str) -> str | None:
        # Counted over the run, not the call: a recycle or a re-login calls process() again.
        return self.limits.why_stop(self.unit_items[unit_key])

    def allow_relogin(self, unit_key: str, reason: str) -> bool:
        return self.reactions.processor_relogin(unit_key, reason)

    # -- the loop --------------------------------------------------------------------------------

    def run_batches(self, plan: Plan) -> None:
        total = len(plan.batches)
        for number, batch in enumerate(plan.batches, start=1):
            if self.limits.stop_reason:
                break
            self.rec.start_batch_log(number)
            self.store.set_meta(current_batch_start_time=now_iso())
            self.rec.emit(Event.BATCH_STARTED, batch=number, batches=total, units=[u.key for u in batch])
            outcomes_before = Counter(self.stats.unit_outcomes)
            errors_before = len(self.stats.errors)
            for unit in batch:
                if self.limits.stop_reason:
                    break
                self.run_unit(unit)
            done = self.stats.unit_outcomes - outcomes_before
            self.stats.batches_run += 1
            self.rec.emit(
                Event.BATCH_FINISHED,
                batch=number,
                processed=done["done"],
                failed=done["failed"],
                partial=done["partial"],
                errors=self.stats.errors[errors_before:],
                should_stop=bool(self.limits.stop_reason),
            )
            self.store.compact()
            self.record_run(outcome="running")
            if number < total and not self.limits.stop_reason:
                self.browsers.close("batch")
            self.rec.end_batch_log()

    def run_unit(self, unit: Unit) -> None:
        self.reactions.streak.reset()
        while not self.limits.stop_reason:
            if self.limits.recycle_reason:
                self.browsers.close(self.limits.recycle_reason)
            record = self.store.unit(unit.key)
            stored = record.attempts if record is not None else 0
            self.store.update_unit(unit.key, status=UnitStatus.IN_PROGRESS)
            self.rec.emit(Event.UNIT_STARTED, unit=unit.key, attempt=stored + 1)
            ctx = EngineContext(self, self.store, self.rec, unit)
            result, error = self._call_processor(unit, ctx)
            if error is None:
                assert result is not None
                if self.reactions.after_result(unit, result, ctx):
                    return
                continue
            attempt = self.policy.attempt(stored, progressed=ctx.items_in_call > 0)
            if self.reactions.after_error(unit, error, ctx, attempt):
                return

    def _call_processor(
        self, unit: Unit, ctx: EngineContext
    ) -> tuple[UnitResult | None, BaseException | None]:
        result: UnitResult | None = None
        error: BaseException | None = None
        with self.watchdog.guard() as guarded:
            try:
                browser = self.browsers.ensure()
                self.watchdog.start(browser)  # re-armed: open() had its own item_timeout
                result = self.processor.process(unit, ctx)
            except LeaseLost:
                raise  # no reaction may write: the account is another worker's now
            except Exception as exc:
                error = exc
        if guarded.fired:
            error = ItemTimeout(f"item timeout after {self.options.item_timeout:g}s")
        return result, error

    def record_run(self, *, outcome: str, duration_s: float | None = None) -> None:
        duration = duration_s if duration_s is not None else time.monotonic() - self.rec.t0
        fields: dict[str, Any] = {
            "cycle": self.store.cycle,
            "outcome": outcome,
            **self.stats.run_fields(peak_memory_mb=self.browsers.peak_memory_mb),
            "duration_s": round(duration, 3),
        }
        if outcome != "running":
            fields["finished_at"] = now_iso()
        self.store.update_run(self.run_id, **fields)


def default_resume_hint(account: Account, step: str, server: str | None) -> str:
    hint = f"stepbatch run {step} --account {account.nickname}"
    if server:
        hint += f" --server {server}"
    return hint + " …"


def run_account(
    *,
    state_dir: Path,
    account: Account,
    step: str,
    server: str | None,
    units: Sequence[Unit],
    processor: StepProcessor,
    browser_factory: BrowserFactory,
    options: RunOptions,
    listeners: Iterable[Listener] = (),
    handle_signals: bool = True,
    resume_hint: str | None = None,
    rng: random.Random | None = None,
    compact_every: int | None = None,
    skipped_rows: Sequence[Mapping[str, Any]] = (),
    translation_gate: Mapping[str, Any] | None = None,
    backend: StateBackend | None = None,
    stop_switch: StopSwitch | None = None,
) -> RunSummary:
    """Run the remaining `units` of one account × step × server in batches; see contracts.md.

    Raises AccountBusy (exit 3) when the account is already running, UserError for an unusable
    progress file (ValueError for options no retry policy can follow). Everything else ends in the
    returned summary (outcome + exit_code). `skipped_rows` (workbook rows the caller left out) and
    `translation_gate` (step3's OCR gate) are facts for the record: copied into `run_started` and the
    summary as they are. `backend` holds progress and the account's lease (files under `state_dir` by
    default); the run's folder is under `state_dir` whatever the backend. `stop_switch` lets another
    thread stop the run (a worker's signal handler). A lease that is lost mid-run (a shared database's)
    ends the run with `LeaseLost` raised, the browser killed and nothing more recorded.
    """
    state_dir = Path(state_dir)
    req = _Request(
        state_dir=state_dir,
        account=account,
        step=step,
        server=server,
        units=units,
        processor=processor,
        browser_factory=browser_factory,
        options=options,
        policy=RetryPolicy.from_options(options),
        listeners=list(listeners),
        handle_signals=handle_signals,
        resume_hint=resume_hint or default_resume_hint(account, step, server),
        rng=rng or random.Random(),
        facts={
            "skipped_rows": [dict(row) for row in skipped_rows],
            "translation_gate": dict(translation_gate) if translation_gate is not None else None,
        },
        stop_switch=stop_switch,
    )
    backend = backend if backend is not None else FileBackend(state_dir)
    with backend.lease(account.nickname, step) as lease:
        store = backend.open_store(account.nickname, step, server, compact_every=compact_every)
        lost = False
        try:
            return _run_locked(store, req, lease)
        except LeaseLost:
            lost = True
            raise
        finally:
            store.close(compact=not lost)


def _run_locked(store: ProgressStore, req: _Request, lease: AccountLease) -> RunSummary:
    run_id, run_dir = unique_run_dir(req.state_dir, new_run_id(req.account.nickname, req.step, req.server))
    note_tally = NoteTally()
    rec = RunRecorder(run_dir, run_id, [note_tally, *req.listeners])
    engine = _Engine(store, rec, run_id, req)
    lease.watch(engine.lease_lost)
    if req.stop_switch is not None:
        req.stop_switch.attach(engine.on_signal)
    started = time.monotonic()
    try:
        with signals_handled(engine.on_signal, enabled=req.handle_signals):
            outcome, message, plan, note = _run_engine(engine, req)
    except LeaseLost as exc:
        rec.emit(Event.WARNING, message=f"lease lost, nothing more recorded: {exc}")
        rec.close()
        raise
    finally:
        if req.stop_switch is not None:
            req.stop_switch.detach(engine.on_signal)
    duration = time.monotonic() - started
    if note is None:
        engine.record_run(outcome=outcome, duration_s=duration)
    summary = _summary(engine, req, plan, outcome, message, duration, already=note is not None)
    summary = replace(summary, notes=note_tally.to_dict())
    if outcome in ("interrupted", "stopped") and summary.stop_reason:
        rec.emit(Event.STOP, reason=summary.stop_reason, resume=req.resume_hint)
    rec.emit(Event.RUN_FINISHED, outcome=outcome, summary=summary.to_dict())
    rec.write_summary(summary.to_dict())
    rec.close()
    return summary


def _run_engine(engine: _Engine, req: _Request) -> tuple[str, str, Plan, str | None]:
    store = engine.store
    try:
        plan, note = _start(engine, req)
        if note is None:
            engine.record_run(outcome="running")
            store.update_run(engine.run_id, started_at=now_iso())
            engine.run_batches(plan)
        if engine.lease_lost_reason is not None:
            raise LeaseLost(engine.lease_lost_reason)
        outcome, message = conclude(engine.limits, store, req.units, note)
    except LeaseLost:
        engine.browsers.abandon()
        raise
    finally:
        engine.watchdog.close()
        engine.browsers.close("end")
    return outcome, message, plan, note


def _start(engine: _Engine, req: _Request) -> tuple[Plan, str | None]:
    """The store's warnings, the plan (`prepare`) and `run_started`; a note when nothing is to do."""
    store, rec = engine.store, engine.rec
    for warning in store.warnings:
        rec.emit(Event.WARNING, message=warning)
    plan, note = prepare(store, req.units, req.options, rec)
    rec.emit(
        Event.RUN_STARTED,
        run_id=engine.run_id,
        account=req.account.nickname,
        step=req.step,
        server=req.server,
        units_total=len(req.units),
        units_remaining=len(plan.remaining),
        batches=len(plan.batches),
        options=asdict(req.options),
        **req.facts,
    )
    if plan.removed:
        rec.emit(Event.UNITS_REMOVED, units=plan.removed)
    return plan, note


def _summary(
    engine: _Engine,
    req: _Request,
    plan: Plan,
    outcome: str,
    message: str,
    duration: float,
    *,
    already: bool,
) -> RunSummary:
    stopped = outcome in ("interrupted", "stopped")
    return RunSummary(
        run_id=engine.run_id,
        run_dir=engine.rec.run_dir,
        account=req.account.nickname,
        step=req.step,
        server=req.server,
        outcome=outcome,
        stop_reason=engine.limits.stop_reason,
        message=message,
        resume_hint=req.resume_hint if stopped else None,
        already_complete=already,
        units_total=len(req.units),
        units_planned=len(plan.remaining),
        batches_planned=len(plan.batches),
        removed_units=plan.removed,
        peak_memory_mb=engine.browsers.peak_memory_mb,
        duration_s=round(duration, 3),
        cumulative=cumulative_totals(engine.store),
        **engine.stats.summary_fields(),
        **req.facts,
    )


__all__ = [
    "MAX_RELOGINS_IN_A_ROW",
    "RunSummary",
    "Watchdog",
    "code_location",
    "cumulative_totals",
    "default_resume_hint",
    "run_account",
]
