"""The error taxonomy that drives the engine's reactions (see docs/design/contracts.md)."""

from __future__ import annotations


class StepError(Exception):
    """Base of every error a processor may raise on purpose. Messages must never hold secrets."""

    reaction = "fail"


class SessionExpired(StepError):
    """Redirected to the sign-in page: log in again and retry the item; no attempt is counted."""

    reaction = "relogin"


class BrowserCrashed(StepError):
    """The browser is gone or hung (target closed, tab crashed, item watchdog): restart, retry the unit."""

    reaction = "restart"


class Transient(StepError):
    """Timeout, HTTP 5xx, a click intercepted by a lingering modal: back off and retry."""

    reaction = "retry"


class Permanent(StepError):
    """Bad command for this product, fewer images than asked: record the failure and go on."""

    reaction = "fail"


class StopAccount(StepError):
    """Translation credits exhausted, account locked: commit, stop this account cleanly, notify."""

    reaction = "stop"


ERROR_CLASSES: tuple[type[StepError], ...] = (
    SessionExpired,
    BrowserCrashed,
    Transient,
    Permanent,
    StopAccount,
)


def error_class_name(exc: BaseException) -> str:
    """The taxonomy name of an exception (unexpected exceptions count as `Transient`)."""
    for cls in ERROR_CLASSES:
        if isinstance(exc, cls):
            return cls.__name__
    return "Transient"


class ItemTimeout(BrowserCrashed):
    """The per-item watchdog killed a hung browser (`RunOptions.item_timeout`); handled as BrowserCrashed."""
