"""What the engine does after a unit call: record a returned result, or react to an error by its data.

Errors are dispatched on `reaction_of(error)` (contracts/errors.py), never on their class, so a site's own
subclass gets the reaction of what it inherits; anything unexpected is retried.
"""

from __future__ import annotations

import random
from typing import Any

from stepbatch.contracts.events import Event
from stepbatch.engine.browser_life import BrowserLife
from stepbatch.engine.context import EngineContext
from stepbatch.engine.errors import ItemTimeout, Permanent, Reaction, error_class_name, reaction_of
from stepbatch.engine.events import RunRecorder
from stepbatch.engine.limits import Limits
from stepbatch.engine.location import code_location, format_traceback
from stepbatch.engine.protocol import StepProcessor, UnitResult, UnitStatus
from stepbatch.engine.retry import ReloginStreak, RetryPolicy
from stepbatch.engine.summary import RunStats
from stepbatch.state.fsio import safe_name
from stepbatch.state.store import ProgressStore
from stepbatch.text import plural
from stepbatch.workbook.models import Unit


class Reactions:
    """Records how each unit call ended; `after_*` return True when the unit is finished for this run."""

    def __init__(
        self,
        *,
        store: ProgressStore,
        rec: RunRecorder,
        stats: RunStats,
        limits: Limits,
        policy: RetryPolicy,
        rng: random.Random,
        browsers: BrowserLife,
        processor: StepProcessor,
    ) -> None:
        self.store = store
        self.rec = rec
        self.stats = stats
        self.limits = limits
        self.policy = policy
        self.rng = rng
        self.browsers = browsers
        self.processor = processor
        self.streak = ReloginStreak(policy)  # of the unit in hand; reset when it makes progress

    def _attempts(self, key: str) -> int:
        record = self.store.unit(key)
        return record.attempts if record is not None else 0

    # -- a returned result -----------------------------------------------------------------------

    def after_result(self, unit: Unit, result: UnitResult, ctx: EngineContext) -> bool:
        """Record a returned result; False when the same unit must be processed again (a recycle)."""
        status = UnitStatus(result.status)
        limits = self.limits
        if status == UnitStatus.FAILED:
            self.fail_unit(unit, Permanent(result.message or "the processor reported failure"), ctx)
            return True
        if status == UnitStatus.PARTIAL and not limits.stop_reason and limits.recycle_reason:
            reason = limits.recycle_reason
            self.finish_unit(unit, UnitStatus.PARTIAL, result, f"browser recycle ({reason})", count=False)
            self.browsers.close(reason)
            return False
        if status in (UnitStatus.IN_PROGRESS, UnitStatus.PENDING):
            status = UnitStatus.PARTIAL
        self.finish_unit(unit, status, result, result.message or limits.stop_reason or "")
        return True

    def finish_unit(
        self, unit: Unit, status: UnitStatus, result: UnitResult | None, message: str, *, count: bool = True
    ) -> None:
        fields: dict[str, Any] = {"status": status}
        if status == UnitStatus.DONE:
            fields["last_error"] = None
        if result is not None and result.total_found is not None:
            fields["total_found"] = result.total_found
        self.store.update_unit(unit.key, **fields)
        record = self.store.unit(unit.key)
        assert record is not None
        if count:
            self.stats.unit_outcomes[status.value] += 1
        self.rec.emit(
            Event.UNIT_FINISHED,
            unit=unit.key,
            status=status.value,
            items_done=record.items_done,
            items_failed=record.items_failed,
            total_found=record.total_found,
            message=message,
        )

    # -- re-logins -------------------------------------------------------------------------------

    def processor_relogin(self, unit_key: str, reason: str) -> bool:
        """The processor asks to log in again by itself: allowed (and counted) while the streak lasts."""
        if not self.streak.take():
            return False
        self._count_relogin(unit_key, reason, by="processor")
        return True

    def _count_relogin(self, unit_key: str, reason: str, **extra: Any) -> None:
        self.stats.relogin()
        self.rec.emit(
            Event.RETRY,
            unit=unit_key,
            error_class="SessionExpired",
            message=reason,
            attempt=self._attempts(unit_key) + 1,
            delay_s=0,
            **extra,
        )

    # -- an error --------------------------------------------------------------------------------

    def after_error(self, unit: Unit, error: BaseException, ctx: EngineContext, attempt: int) -> bool:
        """React to a processor error; False when the unit must be tried again."""
        reaction = reaction_of(error)
        if reaction is Reaction.RELOGIN and self.streak.take():
            self._count_relogin(unit.key, str(error))
            self.browsers.relogin()
            return False
        name = error_class_name(error)  # SessionExpired here: re-logins used up, so it counts an attempt
        message = str(error) or type(error).__name__
        crashed = reaction is Reaction.RESTART
        if self.limits.signalled:
            if crashed:
                self.browsers.close("crash")
            self.finish_unit(unit, UnitStatus.PARTIAL, None, f"abandoned after {self.limits.stop_reason}")
            return True
        self._report_error(unit, ctx, name, message, capture=not crashed, error=error)
        match reaction:
            case Reaction.STOP:
                self.store.update_unit(unit.key, last_error=f"{name}: {message}")
                self.finish_unit(unit, UnitStatus.PARTIAL, None, message)
                self.limits.request_stop(f"StopAccount: {message}")
                return True
            case Reaction.FAIL:
                self.fail_unit(unit, error, ctx, reported=True)
                return True
            case Reaction.RELOGIN | Reaction.RESTART | Reaction.RETRY:
                return self._attempt_failed(unit, error, name, message, attempt)

    def _attempt_failed(
        self, unit: Unit, error: BaseException, name: str, message: str, attempt: int
    ) -> bool:
        """Count the attempt; the unit fails when they are used up, else it is retried (after a backoff)."""
        reaction = reaction_of(error)
        crashed = reaction is Reaction.RESTART
        self.store.update_unit(unit.key, attempts=attempt, last_error=f"{name}: {message}")
        if crashed:
            self.browsers.close("timeout" if isinstance(error, ItemTimeout) else "crash")
        elif reaction is Reaction.RELOGIN:
            self.browsers.logged_out()  # re-logins used up: an attempt, but the retry starts logged in
        if self.policy.exhausted(attempt):
            after = f"(after {plural(attempt, 'attempt')})"
            self.finish_unit(unit, UnitStatus.FAILED, None, f"{name}: {message} {after}")
            self.stats.errors.append(f"{unit.provider_code}: {message}")
            return True
        delay = 0.0 if crashed else self.policy.backoff(attempt, self.rng)
        self.stats.retries[name] += 1
        self.rec.emit(
            Event.RETRY,
            unit=unit.key,
            error_class=name,
            message=message,
            attempt=attempt,
            delay_s=round(delay, 3),
        )
        self.limits.stop_event.wait(delay)
        return False

    def fail_unit(
        self, unit: Unit, error: BaseException, ctx: EngineContext, *, reported: bool = False
    ) -> None:
        """The unit failed for good (`permanent`): later runs do not retry it."""
        message = str(error)
        if not reported:
            self._report_error(unit, ctx, "Permanent", message, capture=True, error=error)
        self.store.update_unit(unit.key, permanent=True, last_error=f"Permanent: {message}")
        self.finish_unit(unit, UnitStatus.FAILED, None, message)
        self.stats.errors.append(f"{unit.provider_code}: {message}")

    def _report_error(
        self, unit: Unit, ctx: EngineContext, name: str, message: str, *, capture: bool, error: BaseException
    ) -> None:
        """An `error` event (with a screenshot and the page's HTML unless the browser is gone) and the
        whole traceback in the logs."""
        shots: dict[str, Any] = {}
        capture_failure = getattr(self.processor, "capture_failure", None)
        if capture and capture_failure is not None and self.browsers.browser is not None:
            stem = self.rec.artifacts_dir / safe_name(f"{unit.key}-{len(self.stats.errors) + 1}-{name}")
            try:
                shots = capture_failure(stem) or {}
            except Exception as exc:
                self.rec.log.warning("capturing the failure of %s failed: %s", unit.key, exc)
        self.rec.emit(
            Event.ERROR,
            unit=unit.key,
            item=ctx.last_item,
            error_class=name,
            message=message,
            where=code_location(error),
            screenshot=self.rec.relative(shots.get("screenshot")),
            html=self.rec.relative(shots.get("html")),
        )
        self.rec.log.info("traceback of the %s error in %s:\n%s", name, unit.key, format_traceback(error))


__all__ = ["Reactions"]
