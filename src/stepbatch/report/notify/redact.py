"""Masking secrets: in the text of messages, and in the log records of the libraries that send them.

apprise logs the URLs it posts to and urllib3 logs request paths; a Telegram bot token is part of that
path. `log_redaction()` puts the redactor on those loggers while a notifier (or `send_test`) is in use;
the filter is process-wide, so it is counted: it stays until the last user released it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

MASK = "********"
LEAKY_LOGGERS = ("apprise", "urllib3.connectionpool", "requests")
_KEYED_SECRET = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api[_-]?key)(\s*[=:]\s*)([^\s,;&]+)")


class Redactor(logging.Filter):
    """Replaces known secret strings; also a logging filter for third-party loggers."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()
        self._users = 0

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

    def install(self) -> None:
        """Filter the third-party loggers from now on (counted: call `uninstall` once per `install`)."""
        with self._lock:
            self._users += 1
            for name in LEAKY_LOGGERS:
                logging.getLogger(name).addFilter(self)  # addFilter ignores a filter already there

    def uninstall(self) -> None:
        with self._lock:
            self._users = max(0, self._users - 1)
            if self._users:
                return
            for name in LEAKY_LOGGERS:
                logging.getLogger(name).removeFilter(self)

    @property
    def installed(self) -> bool:
        return self._users > 0


REDACT = Redactor()


@contextmanager
def log_redaction() -> Iterator[Redactor]:
    """The third-party loggers are filtered inside the block."""
    REDACT.install()
    try:
        yield REDACT
    finally:
        REDACT.uninstall()
