"""The notifier: an engine event listener that rate-limits messages and sends them from a thread."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stepbatch.config import NotifyConfig
from stepbatch.contracts.events import Event
from stepbatch.report.notify.redact import REDACT
from stepbatch.report.notify.rules import Message, Watch
from stepbatch.report.notify.sending import SendResult, register_secrets, send_one
from stepbatch.report.notify.urls import configured_urls

log = logging.getLogger("stepbatch.notify")


@dataclass(frozen=True)
class RateLimit:
    per_key_s: float = 600.0  # at most one message per kind per key (code, run) in this window
    per_minute: int = 6  # and at most this many messages a minute overall (the final summary is exempt)


Sender = Callable[[str, Message], SendResult]


class Notifier:
    """Engine event listener that sends notifications; see the package docstring.

    From construction until `close()` the log records of apprise/urllib3/requests are redacted.
    """

    def __init__(
        self,
        urls: Sequence[str],
        rate_limit: RateLimit | None = None,
        *,
        repeated_failures: int = 3,
        timeout_s: float = 10.0,
        secrets: Iterable[str] = (),
        finish_wait_s: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.urls = list(urls)
        self.rate_limit = rate_limit or RateLimit()
        self.timeout_s = timeout_s
        self.finish_wait_s = finish_wait_s
        self._clock = clock
        REDACT.install()
        self._redacting = True
        register_secrets(self.urls, secrets)
        self._watch = Watch(repeated_failures)
        self._last_sent: dict[tuple[str, str], float] = {}
        self._recent: deque[float] = deque()
        self._queue: queue.Queue[Message | None] = queue.Queue(maxsize=200)
        self._thread: threading.Thread | None = None
        self.sent: list[tuple[Message, list[SendResult]]] = []  # what went out (masked), for status/tests

    @classmethod
    def from_config(
        cls,
        config: NotifyConfig | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
    ) -> Notifier | None:
        """A notifier for the configured URLs (env `STEPBATCH_NOTIFY` or `[notify] urls`), or None."""
        config = config or NotifyConfig()
        urls = configured_urls(config, env)
        if not urls:
            return None
        limit = RateLimit(per_key_s=config.rate_limit_minutes * 60, per_minute=config.max_per_minute)
        return cls(
            urls,
            limit,
            repeated_failures=config.repeated_failures,
            timeout_s=config.timeout_s,
            secrets=secrets,
        )

    def __call__(self, event: dict[str, Any]) -> None:
        try:
            for message in self._watch.messages(event):
                self.submit(message)
            if Event.parse(event.get("event")) is Event.RUN_FINISHED:
                self.flush(self.finish_wait_s)
        except Exception as exc:  # a listener must never take the run down
            log.warning("notify: event %s ignored: %s", event.get("event"), REDACT(repr(exc)))

    def submit(self, message: Message) -> bool:
        """Queue a message unless the rate limit drops it (logged). Returns whether it was queued."""
        message = Message(
            message.kind, message.key, REDACT(message.title), REDACT(message.body), message.level
        )
        now = self._clock()
        if not self._allowed(message, now):
            return False
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            log.warning("notify: dropped %s for %s (send queue full)", message.kind, message.key)
            return False
        self._last_sent[(message.kind, message.key)] = now
        self._recent.append(now)
        self._ensure_worker()
        return True

    def _allowed(self, message: Message, now: float) -> bool:
        last = self._last_sent.get((message.kind, message.key))
        if last is not None and now - last < self.rate_limit.per_key_s:
            log.info(
                "notify: dropped %s for %s (one per %.0f min)",
                message.kind,
                message.key,
                self.rate_limit.per_key_s / 60,
            )
            return False
        while self._recent and now - self._recent[0] >= 60:
            self._recent.popleft()
        if message.kind != "run_finished" and len(self._recent) >= self.rate_limit.per_minute:
            log.info(
                "notify: dropped %s for %s (more than %d messages a minute)",
                message.kind,
                message.key,
                self.rate_limit.per_minute,
            )
            return False
        return True

    def flush(self, timeout: float) -> bool:
        """Wait until every queued message was attempted (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    log.warning(
                        "notify: %d message(s) still unsent after %.0f s",
                        self._queue.unfinished_tasks,
                        timeout,
                    )
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout: float = 15.0) -> None:
        """Send what is queued, stop the worker, and release the log redaction (idempotent)."""
        self.flush(timeout)
        worker, self._thread = self._thread, None
        if worker is not None:
            self._queue.put(None)
            worker.join(timeout=1.0)
        if worker is not None and worker.is_alive():
            return  # still inside a send that may log the URL: keep redacting (the thread is a daemon)
        if self._redacting:
            self._redacting = False
            REDACT.uninstall()

    def _ensure_worker(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="stepbatch-notify", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        while True:
            message = self._queue.get()
            try:
                if message is None:
                    return
                results = [send_one(url, message, self.timeout_s) for url in self.urls]
                self.sent.append((message, results))
            except Exception as exc:
                log.warning("notify: sending %s failed: %s", getattr(message, "kind", "?"), REDACT(repr(exc)))
            finally:
                self._queue.task_done()
