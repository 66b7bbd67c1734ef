"""Stopping a run on SIGINT/SIGTERM (SIGBREAK on Windows): install the handlers, restore the old ones."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

SignalHandler = Callable[[int, Any], None]

_NAMES = ("SIGINT", "SIGTERM", "SIGBREAK")


class StopOnSignal:
    """First signal: stop at the next item boundary. Second: abandon the item by killing the browser."""

    def __init__(self, request_stop: Callable[[str], None], kill_browser: Callable[[], None]) -> None:
        self.request_stop = request_stop
        self.kill_browser = kill_browser
        self.received = 0

    def __call__(self, signum: int, _frame: Any) -> None:
        self.request(f"signal {signal.Signals(signum).name}")

    def request(self, reason: str) -> None:
        self.received += 1
        self.request_stop(reason)
        if self.received > 1:
            self.kill_browser()


class StopSwitch:
    """Stops runs from outside their thread (a worker's own signal handler, a lost lease).

    `request(reason)` asks every attached run to stop at its next item boundary; a second request also
    kills their browsers (the item in hand is abandoned, as on a second Ctrl+C). A run attaches while it
    works (`run_account(stop_switch=…)`); a request made before it attached reaches it when it does.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._targets: list[StopOnSignal] = []
        self._reasons: list[str] = []

    def attach(self, target: StopOnSignal) -> None:
        with self._lock:
            self._targets.append(target)
            pending = list(self._reasons)
        for reason in pending:
            target.request(reason)

    def detach(self, target: StopOnSignal) -> None:
        with self._lock:
            if target in self._targets:
                self._targets.remove(target)

    def request(self, reason: str) -> None:
        with self._lock:
            self._reasons.append(reason)
            targets = list(self._targets)
        for target in targets:
            target.request(reason)

    @property
    def requested(self) -> bool:
        return bool(self._reasons)


def install_signal_handlers(handler: SignalHandler) -> Callable[[], None] | None:
    """SIGINT/SIGTERM (and SIGBREAK on Windows) → `handler`; returns a function restoring the old ones.

    None off the main thread, where Python cannot install handlers.
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = {}
    for name in _NAMES:
        signum = getattr(signal, name, None)
        if signum is not None:
            previous[signum] = signal.signal(signum, handler)

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore


@contextlib.contextmanager
def signals_handled(handler: SignalHandler, *, enabled: bool = True) -> Iterator[None]:
    """`handler` for the stop signals while the block runs (nothing when not `enabled`)."""
    restore = install_signal_handlers(handler) if enabled else None
    try:
        yield
    finally:
        if restore is not None:
            restore()


__all__ = ["SignalHandler", "StopOnSignal", "StopSwitch", "install_signal_handlers", "signals_handled"]
