"""Running one account × step × server: batches, browser recycling, retries and stop conditions.

The engine is browser-agnostic: it drives a `StepProcessor` and a `BrowserFactory`, and commits every
unit and item transition to the progress store before the processor goes on.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sysconfig
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from stepbatch.browser.protocol import BrowserSession
from stepbatch.engine.errors import (
    BrowserCrashed,
    ItemTimeout,
    Permanent,
    SessionExpired,
    StepError,
    StopAccount,
    error_class_name,
)
from stepbatch.engine.events import Listener, RunRecorder, new_run_id, unique_run_dir
from stepbatch.engine.notes import NoteTally
from stepbatch.engine.options import RunOptions
from stepbatch.engine.plan import Plan, plan_batches
from stepbatch.engine.protocol import (
    BrowserFactory,
    ItemRecord,
    ItemStatus,
    StepProcessor,
    UnitResult,
    UnitStatus,
)
from stepbatch.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS
from stepbatch.state.fsio import safe_name
from stepbatch.state.lock import AccountLock
from stepbatch.state.progress import ProgressStore, now_iso
from stepbatch.text import plural
from stepbatch.workbook.models import Account, Unit

MAX_RELOGINS_IN_A_ROW = 3


@dataclass
class RunSummary:
    """What one run did (`summary.json`), plus the totals across the runs of this cycle."""

    run_id: str
    run_dir: Path
    account: str
    step: str
    server: str | None
    outcome: str  # complete | stopped | failed | interrupted
    stop_reason: str | None = None
    message: str = ""
    resume_hint: str | None = None
    already_complete: bool = False
    units_total: int = 0
    units_planned: int = 0
    units_done: int = 0
    units_partial: int = 0
    units_failed: int = 0
    items_done: int = 0
    items_failed: int = 0
    batches_planned: int = 0
    batches_run: int = 0
    restarts: dict[str, int] = field(default_factory=dict)  # by reason (batch, memory, items, crash…)
    retries: dict[str, int] = field(default_factory=dict)  # by error class
    relogins: int = 0
    peak_memory_mb: float | None = None
    duration_s: float = 0.0
    removed_units: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cumulative: dict[str, Any] = field(default_factory=dict)
    skipped_rows: list[dict[str, Any]] = field(default_factory=list)  # rows left out (--skip-invalid)
    translation_gate: dict[str, Any] | None = None  # step3: translate_all, available, description
    notes: dict[str, Any] = field(default_factory=dict)  # item notes: warnings, presses, OCR (notes.py)

    @property
    def exit_code(self) -> int:
        if self.outcome == "interrupted":
            return EXIT_INTERRUPTED
        if self.outcome == "failed" or (self.stop_reason or "").startswith("StopAccount"):
            return EXIT_PROBLEMS
        if self.items_failed:  # products that could not take their edits: a scheduler must notice them
            return EXIT_PROBLEMS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["exit_code"] = self.exit_code
        return data


class _StopRun(Exception):
    """Internal: leave the batch loop now (stop requested)."""


class Watchdog:
    """Kills the browser when no progress is reported for `timeout` seconds (a hung item)."""

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.fired = False
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._browser: BrowserSession | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self, browser: BrowserSession) -> None:
        if not self.timeout:
            return
        with self._cond:
            self.fired = False
            self._browser = browser
            self._deadline = time.monotonic() + self.timeout
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="stepbatch-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def pet(self) -> None:
        with self._cond:
            if self._deadline is not None and self.timeout:
                self._deadline = time.monotonic() + self.timeout

    def stop(self) -> bool:
        """Disarm; True if it fired since `start`."""
        with self._cond:
            self._deadline = None
            self._browser = None
            return self.fired

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (self._deadline is None or time.monotonic() < self._deadline):
                    wait = None if self._deadline is None else self._deadline - time.monotonic()
                    self._cond.wait(wait)
                if self._closed:
                    return
                browser, self._browser, self._deadline = self._browser, None, None
                self.fired = True
            if browser is not None:
                with contextlib.suppress(Exception):
                    browser.kill()


class _Context:
    """The engine's `UnitContext`: every call commits to the progress store before it returns."""

    def __init__(self, engine: _Engine, unit: Unit) -> None:
        self.engine = engine
        self.unit = unit
        self.log = engine.rec.log
        self.artifacts_dir = engine.rec.artifacts_dir
        self.items_in_call = 0
        self.unit_items = 0
        self.last_item: str | None = None

    @property
    def _key(self) -> str:
        return self.unit.key

    def item_state(self, item_id: str) -> ItemRecord | None:
        return self.engine.store.item(self._key, item_id)

    def unfinished_items(self) -> list[ItemRecord]:
        return self.engine.store.unfinished_items(self._key)

    def item_started(self, item_id: str, plan: list[str], checkpoint: dict[str, Any] | None = None) -> None:
        self._touch(item_id)
        self.engine.store.item_started(self._key, item_id, plan, checkpoint)
        self.engine.rec.emit("item", unit=self._key, item=item_id, status=ItemStatus.INTENT.value)

    def relogged_in(self, reason: str) -> None:
        """Counted like the engine's own re-login: a SessionExpired retry that costs no attempt."""
        self.engine.count_relogin(self._key, reason, by="processor")

    def item_checkpoint(self, item_id: str, **data: Any) -> None:
        self._touch(item_id)
        self.engine.store.item_checkpoint(self._key, item_id, data)

    def item_note(self, item_id: str, kind: str, **data: Any) -> None:
        self.engine.rec.emit("note", unit=self._key, item=item_id, kind=kind, **data)

    def item_edited(self, item_id: str) -> None:
        self._touch(item_id)
        self.engine.store.item_status(self._key, item_id, ItemStatus.EDITED)
        self.engine.rec.emit("item", unit=self._key, item=item_id, status=ItemStatus.EDITED.value)

    def item_done(self, item_id: str) -> None:
        self._finish(item_id, ItemStatus.DONE, None)

    def item_failed(self, item_id: str, reason: str) -> None:
        self._finish(item_id, ItemStatus.FAILED, reason)

    def set_total(self, total: int) -> None:
        self.engine.watchdog.pet()
        self.engine.store.update_unit(self._key, total_found=total)

    def should_stop(self) -> bool:
        engine = self.engine
        cap = engine.options.max_products_per_code
        return bool(engine.stop_reason or engine.recycle_reason or (cap and self.unit_items >= cap))

    def _touch(self, item_id: str) -> None:
        self.engine.watchdog.pet()
        self.last_item = item_id

    def _finish(self, item_id: str, status: ItemStatus, reason: str | None) -> None:
        self._touch(item_id)
        self.engine.store.item_status(self._key, item_id, status, reason)
        self.engine.rec.emit("item", unit=self._key, item=item_id, status=status.value)
        self.items_in_call += 1
        self.unit_items += 1
        self.engine.item_boundary(status)


class _Engine:
    def __init__(
        self,
        *,
        store: ProgressStore,
        rec: RunRecorder,
        run_id: str,
        account: Account,
        step: str,
        server: str | None,
        processor: StepProcessor,
        browser_factory: BrowserFactory,
        options: RunOptions,
        resume_hint: str,
        rng: random.Random,
    ) -> None:
        self.store = store
        self.rec = rec
        self.run_id = run_id
        self.account = account
        self.step = step
        self.server = server
        self.processor = processor
        self.browser_factory = browser_factory
        self.options = options
        self.resume_hint = resume_hint
        self.rng = rng
        self.watchdog = Watchdog(options.item_timeout)
        self.stop_reason: str | None = None
        self.stop_event = threading.Event()
        self.recycle_reason: str | None = None
        self.browser: BrowserSession | None = None
        self.logged_in = False
        self.next_start_reason = "first"
        self.browser_items = 0
        self.signals = 0
        self.run_items = 0
        self.items_done = 0
        self.items_failed = 0
        self.restarts: Counter[str] = Counter()
        self.retries: Counter[str] = Counter()
        self.relogins = 0
        self.peak_memory: float | None = None
        self.unit_outcomes: Counter[str] = Counter()
        self.errors: list[str] = []
        self.batches_run = 0

    # -- stop conditions -------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop_event.set()

    def on_signal(self, signum: int, _frame: Any) -> None:
        """First signal: stop at the next item boundary. Second: abandon the item by killing the browser."""
        self.signals += 1
        self.request_stop(f"signal {signal.Signals(signum).name}")
        browser = self.browser
        if self.signals > 1 and browser is not None:
            browser.kill()

    def item_boundary(self, status: ItemStatus) -> None:
        self.run_items += 1
        self.browser_items += 1
        if status == ItemStatus.DONE:
            self.items_done += 1
        else:
            self.items_failed += 1
        self._sample_memory()
        opts = self.options
        if opts.max_products and self.run_items >= opts.max_products:
            self.request_stop("max_products")
        if opts.restart_every_items and self.browser_items >= opts.restart_every_items:
            self.recycle_reason = self.recycle_reason or "items"

    def _sample_memory(self) -> None:
        browser = self.browser
        if browser is None:
            return
        try:
            mb = browser.memory_mb()
            metrics = browser.page_metrics()
        except Exception:
            return
        self.peak_memory = max(mb, self.peak_memory or 0.0)
        heap = metrics.get("JSHeapUsedSize")
        self.rec.emit(
            "memory",
            mb=round(mb, 1),
            js_heap_mb=round(heap / 2**20, 1) if heap else None,
            nodes=metrics.get("Nodes"),
        )
        limit = self.options.restart_above_mb
        if limit and mb > limit:
            self.recycle_reason = self.recycle_reason or "memory"

    # -- browser ---------------------------------------------------------------------------------

    def ensure_browser(self) -> BrowserSession:
        if self.browser is None:
            reason = self.next_start_reason
            started = time.monotonic()
            try:
                browser = self.browser_factory()
            except StepError:
                raise
            except Exception as exc:
                raise BrowserCrashed(f"browser failed to start: {exc}") from exc
            self.browser = browser
            self.browser_items = 0
            if reason != "first":
                self.restarts[reason] += 1
            self.rec.emit(
                "browser_started",
                reason=reason,
                startup_s=round(time.monotonic() - started, 3),
                pids=list(browser.pids),
            )
        if not self.logged_in:
            self.watchdog.start(self.browser)
            self.processor.open(self.browser, self.account)
            self.logged_in = True
        return self.browser

    def close_browser(self, reason: str) -> None:
        browser, self.browser = self.browser, None
        self.logged_in = False
        self.recycle_reason = None
        self.next_start_reason = reason
        if browser is None:
            return
        started = time.monotonic()
        try:
            browser.close()
        except Exception as exc:
            self.rec.log.warning("closing the browser failed (%s); killing it", exc)
            browser.kill()
        self.rec.emit("browser_closed", reason=reason, close_s=round(time.monotonic() - started, 3))

    # -- the run ---------------------------------------------------------------------------------

    def run_batches(self, plan: Plan) -> None:
        total = len(plan.batches)
        for number, batch in enumerate(plan.batches, start=1):
            if self.stop_reason:
                break
            self.rec.start_batch_log(number)
            self.store.set_meta(current_batch_start_time=now_iso())
            self.rec.emit("batch_started", batch=number, batches=total, units=[u.key for u in batch])
            outcomes_before = Counter(self.unit_outcomes)
            errors_before = len(self.errors)
            for unit in batch:
                if self.stop_reason:
                    break
                self.run_unit(unit)
            done = self.unit_outcomes - outcomes_before
            self.batches_run += 1
            self.rec.emit(
                "batch_finished",
                batch=number,
                processed=done["done"],
                failed=done["failed"],
                partial=done["partial"],
                errors=self.errors[errors_before:],
                should_stop=bool(self.stop_reason),
            )
            self.store.compact()
            self.record_run(outcome="running")
            if number < total and not self.stop_reason:
                self.close_browser("batch")
            self.rec.end_batch_log()

    def run_unit(self, unit: Unit) -> None:
        relogins_in_row = 0
        while not self.stop_reason:
            if self.recycle_reason:
                self.close_browser(self.recycle_reason)
            attempt = self.store.units[unit.key]["attempts"] + 1
            self.store.update_unit(unit.key, status=UnitStatus.IN_PROGRESS)
            self.rec.emit("unit_started", unit=unit.key, attempt=attempt)
            ctx = _Context(self, unit)
            result, error = self._call_processor(unit, ctx)
            if ctx.items_in_call:
                # Attempts count failures in a row without progress: a code of hundreds of products
                # meets unrelated errors far apart over hours, and each item done proves it can go on.
                relogins_in_row = 0
                attempt = 1
            if error is None:
                assert result is not None
                if self._after_result(unit, result, ctx):
                    return
                continue
            if isinstance(error, SessionExpired) and relogins_in_row < MAX_RELOGINS_IN_A_ROW:
                relogins_in_row += 1
                self._relogin(unit, error)
                continue
            if self._after_error(unit, error, ctx, attempt):
                return

    def _call_processor(self, unit: Unit, ctx: _Context) -> tuple[UnitResult | None, BaseException | None]:
        result: UnitResult | None = None
        error: BaseException | None = None
        try:
            self.ensure_browser()
            self.watchdog.start(self.browser)  # type: ignore[arg-type]
            result = self.processor.process(unit, ctx)
        except Exception as exc:
            error = exc
        finally:
            fired = self.watchdog.stop()
        if fired:
            error = ItemTimeout(f"item timeout after {self.options.item_timeout:g}s")
        return result, error

    def _after_result(self, unit: Unit, result: UnitResult, ctx: _Context) -> bool:
        """Record a returned result; False when the same unit must be processed again."""
        status = UnitStatus(result.status)
        if status == UnitStatus.FAILED:
            self._fail_unit(unit, Permanent(result.message or "the processor reported failure"), ctx, 1)
            return True
        if status == UnitStatus.PARTIAL and not self.stop_reason and self.recycle_reason:
            self._finish_unit(
                unit, UnitStatus.PARTIAL, result, f"browser recycle ({self.recycle_reason})", count=False
            )
            self.close_browser(self.recycle_reason)
            return False
        if status == UnitStatus.IN_PROGRESS or status == UnitStatus.PENDING:
            status = UnitStatus.PARTIAL
        self._finish_unit(unit, status, result, result.message or self.stop_reason or "")
        return True

    def _finish_unit(
        self, unit: Unit, status: UnitStatus, result: UnitResult | None, message: str, *, count: bool = True
    ) -> None:
        fields: dict[str, Any] = {"status": status}
        if status == UnitStatus.DONE:
            fields["last_error"] = None
        if result is not None and result.total_found is not None:
            fields["total_found"] = result.total_found
        self.store.update_unit(unit.key, **fields)
        rec = self.store.units[unit.key]
        if count:
            self.unit_outcomes[status.value] += 1
        self.rec.emit(
            "unit_finished",
            unit=unit.key,
            status=status.value,
            items_done=rec["items_done"],
            items_failed=rec["items_failed"],
            total_found=rec["total_found"],
            message=message,
        )

    def count_relogin(self, unit_key: str, reason: str, **extra: Any) -> None:
        self.relogins += 1
        self.retries["SessionExpired"] += 1
        attempt = self.store.units[unit_key]["attempts"] + 1
        self.rec.emit(
            "retry",
            unit=unit_key,
            error_class="SessionExpired",
            message=reason,
            attempt=attempt,
            delay_s=0,
            **extra,
        )

    def _relogin(self, unit: Unit, error: BaseException) -> None:
        self.count_relogin(unit.key, str(error))
        browser = self.browser
        if browser is None:
            return  # the next ensure_browser() logs in anyway
        try:
            self.logged_in = False
            self.watchdog.start(browser)
            self.processor.open(browser, self.account)
            self.logged_in = True
        except Exception as exc:
            self.rec.log.warning("re-login on the same browser failed (%s); starting a fresh one", exc)
            self.close_browser("relogin")
        finally:
            self.watchdog.stop()

    def _after_error(self, unit: Unit, error: BaseException, ctx: _Context, attempt: int) -> bool:
        """React to a processor error; False when the unit must be tried again."""
        name = error_class_name(error)  # SessionExpired here: relogins exhausted, so it counts an attempt
        message = str(error) or type(error).__name__
        crashed = isinstance(error, BrowserCrashed)
        if self.stop_reason and self.stop_reason.startswith("signal"):
            if crashed:
                self.close_browser("crash")
            self._finish_unit(unit, UnitStatus.PARTIAL, None, f"abandoned after {self.stop_reason}")
            return True
        self._report_error(unit, ctx, name, message, capture=not crashed, error=error)
        if isinstance(error, StopAccount):
            self.store.update_unit(unit.key, last_error=f"{name}: {message}")
            self._finish_unit(unit, UnitStatus.PARTIAL, None, message)
            self.request_stop(f"StopAccount: {message}")
            return True
        if isinstance(error, Permanent):
            self._fail_unit(unit, error, ctx, attempt, reported=True)
            return True
        self.store.update_unit(unit.key, attempts=attempt, last_error=f"{name}: {message}")
        if crashed:
            self.close_browser("timeout" if isinstance(error, ItemTimeout) else "crash")
        if attempt >= self.options.max_attempts:
            after = f"(after {plural(attempt, 'attempt')})"
            self._finish_unit(unit, UnitStatus.FAILED, None, f"{name}: {message} {after}")
            self.errors.append(f"{unit.provider_code}: {message}")
            return True
        delay = 0.0 if crashed else self._backoff(attempt)
        self.retries[name] += 1
        self.rec.emit(
            "retry",
            unit=unit.key,
            error_class=name,
            message=message,
            attempt=attempt,
            delay_s=round(delay, 3),
        )
        self.stop_event.wait(delay)
        return False

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)

    def _fail_unit(
        self, unit: Unit, error: BaseException, ctx: _Context, attempt: int, *, reported: bool = False
    ) -> None:
        message = str(error)
        if not reported:
            self._report_error(unit, ctx, "Permanent", message, capture=True, error=error)
        self.store.update_unit(unit.key, permanent=True, last_error=f"Permanent: {message}")
        self._finish_unit(unit, UnitStatus.FAILED, None, message)
        self.errors.append(f"{unit.provider_code}: {message}")

    def _report_error(
        self, unit: Unit, ctx: _Context, name: str, message: str, *, capture: bool, error: BaseException
    ) -> None:
        shots: dict[str, Any] = {}
        capture_failure = getattr(self.processor, "capture_failure", None)
        if capture and capture_failure is not None and self.browser is not None:
            stem = self.rec.artifacts_dir / safe_name(f"{unit.key}-{len(self.errors) + 1}-{name}")
            try:
                shots = capture_failure(stem) or {}
            except Exception as exc:
                self.rec.log.warning("capturing the failure of %s failed: %s", unit.key, exc)
        self.rec.emit(
            "error",
            unit=unit.key,
            item=ctx.last_item,
            error_class=name,
            message=message,
            where=code_location(error),
            screenshot=self.rec.relative(shots.get("screenshot")),
            html=self.rec.relative(shots.get("html")),
        )
        trace = "".join(traceback.format_exception(error)).rstrip()
        self.rec.log.info("traceback of the %s error in %s:\n%s", name, unit.key, trace)

    # -- bookkeeping -----------------------------------------------------------------------------

    def record_run(self, *, outcome: str, duration_s: float | None = None) -> None:
        fields: dict[str, Any] = {
            "cycle": self.store.cycle,
            "outcome": outcome,
            "items_done": self.items_done,
            "items_failed": self.items_failed,
            "restarts": dict(self.restarts),
            "retries": dict(self.retries),
            "relogins": self.relogins,
            "peak_memory_mb": self.peak_memory,
            "duration_s": round(duration_s if duration_s is not None else time.monotonic() - self.rec.t0, 3),
        }
        if outcome != "running":
            fields["finished_at"] = now_iso()
        self.store.update_run(self.run_id, **fields)


_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_LIBRARY_DIRS = tuple(
    Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")
)


def _own_code(filename: str) -> bool:
    """stepbatch's code or a plugin's, not Python's or a library's (Playwright, Selenium)."""
    path = Path(filename).resolve()
    return path.is_relative_to(_PACKAGE_DIR) or not any(path.is_relative_to(d) for d in _LIBRARY_DIRS)


def code_location(error: BaseException) -> str | None:
    """`file:line function` of the innermost frame of our own code that raised `error`.

    An error translated with `raise ... from exc` (a Playwright timeout turned into `Transient`) is placed
    where the original was raised, not at the translation.
    """
    chain = [error]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    for exc in reversed(chain):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if _own_code(f.filename)]
        if frames:
            return f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}"
    return None


def cumulative_totals(store: ProgressStore) -> dict[str, Any]:
    """Totals of the current cycle across every run that worked on it (resumed runs add up)."""
    runs = [r for r in store.state["runs"] if r.get("cycle") == store.cycle]
    restarts: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    for run in runs:
        restarts.update(run.get("restarts") or {})
        retries.update(run.get("retries") or {})
    counts = store.counts()
    peaks = [r["peak_memory_mb"] for r in runs if r.get("peak_memory_mb") is not None]
    return {
        "cycle": store.cycle,
        "runs": len(runs),
        "units_total": counts["units_total"],
        "units_done": counts["done"],
        "units_partial": counts["partial"] + counts["in_progress"],
        "units_failed": counts["failed"],
        "units_pending": counts["pending"],
        "items_done": counts["items_done"],
        "items_failed": counts["items_failed"],
        "restarts": dict(restarts),
        "retries": dict(retries),
        "relogins": sum(r.get("relogins") or 0 for r in runs),
        "peak_memory_mb": max(peaks) if peaks else None,
        "duration_s": round(sum(r.get("duration_s") or 0 for r in runs), 3),
    }


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
) -> RunSummary:
    """Run the remaining `units` of one account × step × server in batches; see contracts.md.

    Raises AccountBusy (exit 3) when the account is already running, UserError for an unusable
    progress file. Everything else ends in the returned summary (outcome + exit_code).
    `skipped_rows` (workbook rows the caller left out) and `translation_gate` (step3's OCR gate) are
    facts for the record: copied into `run_started` and the summary as they are.
    """
    state_dir = Path(state_dir)
    with AccountLock(state_dir, account.nickname, step):
        extra = {"compact_every": compact_every} if compact_every else {}
        store = ProgressStore.open(state_dir, account.nickname, step, server, **extra)
        try:
            return _run_locked(
                store=store,
                state_dir=state_dir,
                account=account,
                step=step,
                server=server,
                units=units,
                processor=processor,
                browser_factory=browser_factory,
                options=options,
                listeners=listeners,
                handle_signals=handle_signals,
                resume_hint=resume_hint or default_resume_hint(account, step, server),
                rng=rng or random.Random(),
                facts={
                    "skipped_rows": [dict(row) for row in skipped_rows],
                    "translation_gate": dict(translation_gate) if translation_gate is not None else None,
                },
            )
        finally:
            store.close()


def _run_locked(
    *,
    store: ProgressStore,
    state_dir: Path,
    account: Account,
    step: str,
    server: str | None,
    units: Sequence[Unit],
    processor: StepProcessor,
    browser_factory: BrowserFactory,
    options: RunOptions,
    listeners: Iterable[Listener],
    handle_signals: bool,
    resume_hint: str,
    rng: random.Random,
    facts: dict[str, Any],
) -> RunSummary:
    run_id, run_dir = unique_run_dir(state_dir, new_run_id(account.nickname, step, server))
    note_tally = NoteTally()
    rec = RunRecorder(run_dir, run_id, [note_tally, *listeners])
    engine = _Engine(
        store=store,
        rec=rec,
        run_id=run_id,
        account=account,
        step=step,
        server=server,
        processor=processor,
        browser_factory=browser_factory,
        options=options,
        resume_hint=resume_hint,
        rng=rng,
    )
    restore = _install_signal_handlers(engine.on_signal) if handle_signals else None
    started = time.monotonic()
    try:
        for warning in store.warnings:
            rec.emit("warning", message=warning)
        plan, note = _prepare(store, units, options, rec)
        rec.emit(
            "run_started",
            run_id=run_id,
            account=account.nickname,
            step=step,
            server=server,
            units_total=len(units),
            units_remaining=len(plan.remaining),
            batches=len(plan.batches),
            options=asdict(options),
            **facts,
        )
        if plan.removed:
            rec.emit("units_removed", units=plan.removed)
        if note is None:
            engine.record_run(outcome="running")
            store.update_run(run_id, started_at=now_iso())
            engine.run_batches(plan)
        outcome, message = _conclude(engine, store, units, plan, note)
    finally:
        engine.watchdog.close()
        engine.close_browser("end")
        if restore:
            restore()
    duration = time.monotonic() - started
    if note is None:
        engine.record_run(outcome=outcome, duration_s=duration)
    summary = _summary(engine, store, plan, units, outcome, message, duration, already=note is not None)
    summary = replace(summary, notes=note_tally.to_dict(), **facts)
    if outcome in ("interrupted", "stopped") and summary.stop_reason:
        rec.emit("stop", reason=summary.stop_reason, resume=resume_hint)
    rec.emit("run_finished", outcome=outcome, summary=summary.to_dict())
    rec.write_summary(summary.to_dict())
    rec.close()
    return summary


def _prepare(
    store: ProgressStore, units: Sequence[Unit], options: RunOptions, rec: RunRecorder
) -> tuple[Plan, str | None]:
    """Bring the store up to date with the workbook; returns the plan and a note when nothing is to do."""
    if store.complete:
        new = [u for u in units if u.key not in store.units]
        if options.new_cycle:
            store.start_new_cycle()
            rec.emit("new_cycle", cycle=store.cycle)
        elif new:
            rec.emit(
                "warning",
                message=f"{plural(len(new), 'unit')} added to the workbook since the cycle completed;"
                " running them in the same cycle",
            )
            store.set_meta(complete=False, completed_at=None)
        else:
            when = store.state.get("completed_at") or "earlier"
            note = (
                f"everything is done: cycle {store.cycle} completed {when}; pass --new-cycle to start again"
            )
            return plan_batches([], {}, batch_size=options.batch_size), note
    store.add_units(units)
    return plan_batches(
        units, store.units, batch_size=options.batch_size, max_attempts=options.max_attempts
    ), None


def _conclude(
    engine: _Engine, store: ProgressStore, units: Sequence[Unit], plan: Plan, note: str | None
) -> tuple[str, str]:
    if note is not None:
        return "complete", note
    statuses = Counter(store.units[u.key]["status"] for u in units)
    if engine.stop_reason:
        outcome = "interrupted" if engine.stop_reason.startswith("signal") else "stopped"
        return outcome, f"stopped: {engine.stop_reason}"
    if statuses[UnitStatus.FAILED.value]:
        return "failed", (
            f"{plural(statuses[UnitStatus.FAILED.value], 'unit')} failed; "
            "`stepbatch reset --failed-only` makes them run again"
        )
    if statuses[UnitStatus.DONE.value] == len({u.key for u in units}):
        archived = store.mark_complete()
        done = ("all " if len(units) > 1 else "") + plural(len(units), "unit")
        return "complete", f"{done} done; progress archived to {archived}"
    left = len(units) - statuses[UnitStatus.DONE.value]
    engine.stop_reason = engine.stop_reason or "max_products_per_code"
    return "stopped", f"{plural(left, 'unit')} left partial"


def _summary(
    engine: _Engine,
    store: ProgressStore,
    plan: Plan,
    units: Sequence[Unit],
    outcome: str,
    message: str,
    duration: float,
    *,
    already: bool,
) -> RunSummary:
    return RunSummary(
        run_id=engine.run_id,
        run_dir=engine.rec.run_dir,
        account=engine.account.nickname,
        step=engine.step,
        server=engine.server,
        outcome=outcome,
        stop_reason=engine.stop_reason,
        message=message,
        resume_hint=engine.resume_hint if outcome in ("interrupted", "stopped") else None,
        already_complete=already,
        units_total=len(units),
        units_planned=len(plan.remaining),
        units_done=engine.unit_outcomes["done"],
        units_partial=engine.unit_outcomes["partial"],
        units_failed=engine.unit_outcomes["failed"],
        items_done=engine.items_done,
        items_failed=engine.items_failed,
        batches_planned=len(plan.batches),
        batches_run=engine.batches_run,
        restarts=dict(engine.restarts),
        retries=dict(engine.retries),
        relogins=engine.relogins,
        peak_memory_mb=engine.peak_memory,
        duration_s=round(duration, 3),
        removed_units=plan.removed,
        errors=engine.errors,
        cumulative=cumulative_totals(store),
    )


def _install_signal_handlers(handler: Callable[[int, Any], None]) -> Callable[[], None] | None:
    """SIGINT/SIGTERM (and SIGBREAK on Windows) → `handler`; returns a function restoring the old ones."""
    if threading.current_thread() is not threading.main_thread():
        return None
    names = ("SIGINT", "SIGTERM", "SIGBREAK")
    previous = {}
    for name in names:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


__all__ = ["RunSummary", "Watchdog", "cumulative_totals", "default_resume_hint", "run_account"]
