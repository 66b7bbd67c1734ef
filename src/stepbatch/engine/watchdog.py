"""The item watchdog: kills a browser that reports no progress for `RunOptions.item_timeout` seconds."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from stepbatch.browser.protocol import BrowserSession


@dataclass
class Guarded:
    """What a `Watchdog.guard` block learns when it ends."""

    fired: bool = False  # the watchdog killed the browser during the block


class Watchdog:
    """Kills the browser when no progress is reported for `timeout` seconds (a hung item).

    One timer thread for the whole run; `start` arms (or re-arms) it, `pet` pushes the deadline back,
    `stop` disarms it. `guard` is the usual way in: `with watchdog.guard(browser) as g: ...; g.fired`.
    """

    def __init__(self, timeout: float | None) -> None:
        self.timeout = timeout
        self.fired = False
        self._cond = threading.Condition()
        self._deadline: float | None = None
        self._browser: BrowserSession | None = None
        self._closed = False
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def guard(self, browser: BrowserSession | None = None) -> Iterator[Guarded]:
        """Armed on `browser` (when given; `start` re-arms inside) while the block runs, disarmed after it."""
        guarded = Guarded()
        if browser is not None:
            self.start(browser)
        try:
            yield guarded
        finally:
            guarded.fired = self.stop()

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


__all__ = ["Guarded", "Watchdog"]
