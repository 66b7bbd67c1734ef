"""Notifications through apprise (Telegram `tgram://token/chat`, Slack, e-mail, JSON webhooks, ...).

`Notifier` is an engine event listener: call it with each event dict. It decides what deserves a message
(run started/finished, account stopped, one code failing again and again, the browser failing to come
back), rate-limits, and sends from a background thread so a slow or broken service never blocks or
crashes the run. Nothing is sent at construction. Secrets (URL tokens, passwords handed in as `secrets`)
are masked in every message and every log record of apprise and urllib3.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import apprise

from stepbatch.config import NotifyConfig
from stepbatch.report.chart import format_clock
from stepbatch.report.events import RunAccumulator, RunData
from stepbatch.text import plural

log = logging.getLogger("stepbatch.notify")

ENV_VAR = "STEPBATCH_NOTIFY"
MASK = "********"
_SCHEME_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)|\s+")
_URL_TOKEN = re.compile(r"[/:@?&=,#+]")
_KEYED_SECRET = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)(\s*[=:]\s*)([^\s,;&]+)")
_LEAKY_LOGGERS = ("apprise", "urllib3.connectionpool", "requests")


# ---------------------------------------------------------------- secrets and URLs


class _Redactor(logging.Filter):
    """Replaces known secret strings; also a logging filter for third-party loggers."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            self._secrets.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return _KEYED_SECRET.sub(lambda m: m.group(1) + m.group(2) + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


REDACT = _Redactor()
for _name in _LEAKY_LOGGERS:
    logging.getLogger(_name).addFilter(REDACT)


def parse_urls(text: str | None) -> list[str]:
    """`STEPBATCH_NOTIFY` → URLs: separated by whitespace, or by commas before the next `scheme://`."""
    return [part for part in _SCHEME_SPLIT.split(text or "") if part.strip(" ,")]


def configured_urls(config: NotifyConfig | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The environment variable wins over the config file's `[notify] urls`."""
    env = os.environ if env is None else env
    from_env = parse_urls(env.get(ENV_VAR))
    return from_env or list(config.urls if config else [])


def _instantiate(url: str) -> Any:
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # a broken plugin must not break the run
        return None


def secret_parts(url: str) -> list[str]:
    """Pieces of `url` that apprise hides in its privacy form (tokens, passwords, keys)."""
    plugin = _instantiate(url)
    if plugin is None:
        # unknown scheme: treat everything after the scheme as secret
        return [url.split("://", 1)[-1]] if "://" in url else [url]
    private = plugin.url(privacy=True)
    return [tok for tok in _URL_TOKEN.split(url.split("://", 1)[-1]) if len(tok) >= 4 and tok not in private]


def mask_url(url: str) -> str:
    """A URL safe to print or log: apprise's privacy form without its default parameters."""
    plugin = _instantiate(url)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://{MASK} (not a valid notification URL)"
    return plugin.url(privacy=True).split("?", 1)[0]


# ---------------------------------------------------------------- messages


@dataclass(frozen=True)
class Message:
    kind: str  # run_started, run_finished, account_stopped, repeated_failures, browser_failing, test
    key: str  # rate-limit key inside the kind (run id, unit key)
    title: str
    body: str
    level: str = "info"  # info, success, warning, failure


@dataclass(frozen=True)
class RateLimit:
    per_key_s: float = 600.0  # at most one message per kind per key (code, run) in this window
    per_minute: int = 6  # and at most this many messages a minute overall (the final summary is exempt)


@dataclass(frozen=True)
class SendResult:
    url: str  # masked
    ok: bool
    detail: str = ""


def _label(run: RunData) -> str:
    parts = [run.account or "?", run.step or "?"]
    if run.server:
        parts.append(run.server)
    return " ".join(parts)


def _finished_body(run: RunData) -> str:
    counts = run.status_counts()
    done_items = run.items_done or sum(u.items_done for u in run.units.values())
    lines = [
        f"결과 outcome: {run.outcome} · {format_clock(run.duration_s)}",
        "코드 codes: " + " · ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        if counts
        else "코드 codes: 0",
        f"상품 products done: {done_items}",
        f"브라우저 재시작 restarts: {len(run.restarts)}",
    ]
    if run.stop_reasons:
        lines.append("중단 stop: " + "; ".join(run.stop_reasons))
    for group in run.errors[:3]:
        lines.append(f"- {group.error_class} ×{group.count + group.retries}: {group.message[:160]}")
    lines.append(f"run {run.run_id}")
    return "\n".join(lines)


class _Watch:
    """Turns the event stream into messages."""

    def __init__(self, repeated_failures: int) -> None:
        self.threshold = max(1, repeated_failures)
        self.acc = RunAccumulator(RunData(run_dir=None, run_id="?"))
        self.failures: dict[str, int] = {}
        self.crash_streak = 0
        self.stopped = False

    @property
    def run(self) -> RunData:
        return self.acc.run

    def messages(self, event: dict[str, Any]) -> list[Message]:
        self.acc.add(event)
        name = event.get("event")
        handler = getattr(self, "_on_" + str(name), None)
        return handler(event) if handler else []

    def _on_run_started(self, e: dict[str, Any]) -> list[Message]:
        run = self.run
        body = (
            f"실행 시작 run started: 코드 {run.units_remaining} / {run.units_total}개, "
            f"배치 {run.batches_planned}개\n"
            f"run {run.run_id}"
        )
        return [Message("run_started", run.run_id, f"stepbatch ▶ {_label(run)}", body)]

    def _on_run_finished(self, e: dict[str, Any]) -> list[Message]:
        run = self.run
        level = {"complete": "success", "stopped": "warning"}.get(run.outcome, "failure")
        title = f"stepbatch ■ {_label(run)}: {run.outcome}"
        return [Message("run_finished", run.run_id, title, _finished_body(run), level)]

    def _on_stop(self, e: dict[str, Any]) -> list[Message]:
        reason = str(e.get("reason") or "")
        if not reason.startswith("StopAccount") or self.stopped:
            return []
        self.stopped = True
        body = f"계정 중단 account stopped: {reason}\nrun {self.run.run_id}"
        return [
            Message("account_stopped", self.run.run_id, f"stepbatch ⏸ {_label(self.run)}", body, "warning")
        ]

    def _on_error(self, e: dict[str, Any]) -> list[Message]:
        """The engine emits one `error` per failed attempt (a `retry` follows when it tries again)."""
        if e.get("error_class") == "StopAccount":
            return self._on_stop({"reason": f"StopAccount: {e.get('message', '')}"})
        messages = self._failure(e)
        if e.get("error_class") == "BrowserCrashed":
            self.crash_streak += 1
            if self.crash_streak == self.threshold:
                last = str(e.get("message", ""))[:200]
                detail = f"{self.crash_streak} browser crashes in a row without progress; last: {last}"
                messages += self._browser_failure(detail)
        return messages

    def _failure(self, e: dict[str, Any]) -> list[Message]:
        unit = e.get("unit")
        if unit is None:
            return []
        unit = str(unit)
        self.failures[unit] = self.failures.get(unit, 0) + 1
        if self.failures[unit] != self.threshold:
            return []
        body = (
            f"코드 {unit} 실패 {self.failures[unit]}회 (failed {plural(self.failures[unit], 'attempt')})\n"
            f"마지막 오류 last error: {e.get('error_class', '')}: {str(e.get('message', ''))[:300]}"
        )
        return [Message("repeated_failures", unit, f"stepbatch ⚠ {_label(self.run)}", body, "warning")]

    def _on_browser_failed(self, e: dict[str, Any]) -> list[Message]:
        return self._browser_failure(str(e.get("message") or e.get("reason") or "browser did not start"))

    def _on_item(self, e: dict[str, Any]) -> list[Message]:
        self.crash_streak = 0
        return []

    def _browser_failure(self, detail: str) -> list[Message]:
        body = f"브라우저 재시작 실패 browser restarts failing: {detail}\nrun {self.run.run_id}"
        return [
            Message("browser_failing", self.run.run_id, f"stepbatch ✖ {_label(self.run)}", body, "failure")
        ]


# ---------------------------------------------------------------- the notifier


Sender = Callable[[str, Message], SendResult]


class Notifier:
    """Engine event listener that sends notifications; see the module docstring."""

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
        REDACT.add(secrets)
        for url in self.urls:
            REDACT.add(secret_parts(url))
        self._watch = _Watch(repeated_failures)
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
            if event.get("event") == "run_finished":
                self.flush(self.finish_wait_s)
        except Exception as exc:  # a listener must never take the run down
            log.warning("notify: event %s ignored: %s", event.get("event"), REDACT(repr(exc)))

    def submit(self, message: Message) -> bool:
        """Queue a message unless the rate limit drops it (logged). Returns whether it was queued."""
        message = Message(
            message.kind, message.key, REDACT(message.title), REDACT(message.body), message.level
        )
        now = self._clock()
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
        try:
            self._queue.put_nowait(message)
        except queue.Full:
            log.warning("notify: dropped %s for %s (send queue full)", message.kind, message.key)
            return False
        self._last_sent[(message.kind, message.key)] = now
        self._recent.append(now)
        self._ensure_worker()
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
        self.flush(timeout)
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=1.0)
            self._thread = None

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


_LEVELS = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


def send_one(url: str, message: Message, timeout_s: float = 10.0) -> SendResult:
    """Send one message to one URL now; never raises. Logs the outcome with the URL masked."""
    masked = mask_url(url)
    plugin = _instantiate(url)
    if plugin is None:
        log.warning("notify: %s is not a valid notification URL", masked)
        return SendResult(masked, False, "not a valid notification URL")
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout_s)
    try:
        ok = bool(
            plugin.notify(
                body=REDACT(message.body),
                title=REDACT(message.title),
                notify_type=_LEVELS.get(message.level, apprise.NotifyType.INFO),
            )
        )
    except Exception as exc:
        log.warning("notify: %s to %s failed: %s", message.kind, masked, REDACT(repr(exc)))
        return SendResult(masked, False, REDACT(type(exc).__name__))
    if ok:
        log.info("notify: sent %s to %s", message.kind, masked)
        return SendResult(masked, True)
    log.warning("notify: %s to %s was not accepted (see the log above)", message.kind, masked)
    return SendResult(masked, False, "the service did not accept the message")


def send_test(urls: Sequence[str], timeout_s: float = 10.0, secrets: Iterable[str] = ()) -> list[SendResult]:
    """`stepbatch notify-test`: one test message to each URL, synchronously."""
    REDACT.add(secrets)
    for url in urls:
        REDACT.add(secret_parts(url))
    message = Message(
        "test", "test", "stepbatch 알림 테스트 (test)", "stepbatch notification test: it works."
    )
    return [send_one(url, message, timeout_s) for url in urls]
