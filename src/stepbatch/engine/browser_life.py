"""One browser at a time: started lazily, logged in with `processor.open()`, sampled, closed or killed."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from stepbatch.browser.protocol import BrowserSession
from stepbatch.contracts.events import Event
from stepbatch.engine.errors import BrowserCrashed, StepError
from stepbatch.engine.events import RunRecorder
from stepbatch.engine.protocol import BrowserFactory, StepProcessor
from stepbatch.engine.watchdog import Watchdog
from stepbatch.workbook.models import Account


class BrowserLife:
    """The run's browser: `ensure()` before a unit call, `close(reason)` to recycle, `kill()` to abandon."""

    def __init__(
        self,
        *,
        factory: BrowserFactory,
        processor: StepProcessor,
        account: Account,
        rec: RunRecorder,
        watchdog: Watchdog,
        restarts: Counter[str],
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        self.factory = factory
        self.processor = processor
        self.account = account
        self.rec = rec
        self.watchdog = watchdog
        self.restarts = restarts  # by reason; the first start of a run is not a restart
        self.on_close = on_close  # told of every close (a recycle that was due is done)
        self.browser: BrowserSession | None = None
        self.logged_in = False
        self.next_start_reason = "first"
        self.items = 0  # items finished in the current browser
        self.peak_memory_mb: float | None = None

    def ensure(self) -> BrowserSession:
        """The current browser, started and logged in when needed (a start failure is `BrowserCrashed`)."""
        browser = self.browser or self._start()
        if not self.logged_in:
            self.watchdog.start(browser)
            self.processor.open(browser, self.account)
            self.logged_in = True
        return browser

    def _start(self) -> BrowserSession:
        reason = self.next_start_reason
        started = time.monotonic()
        try:
            browser = self.factory()
        except StepError:
            raise
        except Exception as exc:
            raise BrowserCrashed(f"browser failed to start: {exc}") from exc
        self.browser = browser
        self.items = 0
        if reason != "first":
            self.restarts[reason] += 1
        self.rec.emit(
            Event.BROWSER_STARTED,
            reason=reason,
            startup_s=round(time.monotonic() - started, 3),
            pids=list(browser.pids),
        )
        return browser

    def relogin(self) -> None:
        """`processor.open()` again on the same browser; when that fails, close it (a fresh one next)."""
        browser = self.browser
        if browser is None:
            return  # the next ensure() logs in anyway
        with self.watchdog.guard(browser):
            try:
                self.logged_in = False
                self.processor.open(browser, self.account)
                self.logged_in = True
            except Exception as exc:
                self.rec.log.warning("re-login on the same browser failed (%s); starting a fresh one", exc)
                self.close("relogin")

    def logged_out(self) -> None:
        """The session is gone: the next `ensure()` logs in again (`processor.open()`) on this browser."""
        self.logged_in = False

    def close(self, reason: str) -> None:
        """Close the browser (kill it if closing fails); `reason` names the next start."""
        browser, self.browser = self.browser, None
        self.logged_in = False
        self.next_start_reason = reason
        self.on_close()
        if browser is None:
            return
        started = time.monotonic()
        try:
            browser.close()
        except Exception as exc:
            self.rec.log.warning("closing the browser failed (%s); killing it", exc)
            browser.kill()
        self.rec.emit(Event.BROWSER_CLOSED, reason=reason, close_s=round(time.monotonic() - started, 3))

    def kill(self) -> None:
        """From a signal handler: end the browser now, abandoning the item in hand."""
        browser = self.browser
        if browser is not None:
            browser.kill()

    def abandon(self) -> None:
        """Kill the browser and forget it, writing nothing (the account is no longer ours)."""
        browser, self.browser = self.browser, None
        self.logged_in = False
        if browser is not None:
            browser.kill()

    def sample_memory(self) -> float | None:
        """The browser's memory in MB (a `memory` event; the peak is kept), None if not measurable."""
        browser = self.browser
        if browser is None:
            return None
        try:
            mb = browser.memory_mb()
            metrics = browser.page_metrics()
        except Exception:
            return None
        self.peak_memory_mb = max(mb, self.peak_memory_mb or 0.0)
        heap = metrics.get("JSHeapUsedSize")
        self.rec.emit(
            Event.MEMORY,
            mb=round(mb, 1),
            js_heap_mb=round(heap / 2**20, 1) if heap else None,
            nodes=metrics.get("Nodes"),
        )
        return mb


__all__ = ["BrowserLife"]
