"""The error taxonomy; each class carries the engine's reaction to it as data.

The engine dispatches on `reaction_of(exc)`, never on the class: a site adapter may define its own
subclass and the engine reacts to it by what it inherits.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Reaction(StrEnum):
    RELOGIN = "relogin"  # open() again on the same browser, retry the unit; no attempt counted
    RESTART = "restart"  # a fresh browser, retry the unit at once; an attempt
    RETRY = "retry"  # back off, retry the unit; an attempt
    FAIL = "fail"  # the unit failed for good (`permanent`); later runs do not retry it
    STOP = "stop"  # commit, the unit stays partial, the run stops cleanly


class StepError(Exception):
    """Base of every error a processor may raise on purpose. Messages must never hold secrets."""

    reaction: ClassVar[Reaction] = Reaction.FAIL


class SessionExpired(StepError):
    """Redirected to the sign-in page: log in again and retry the item; no attempt is counted."""

    reaction = Reaction.RELOGIN


class BrowserCrashed(StepError):
    """The browser is gone or hung (target closed, tab crashed, item watchdog): restart, retry the unit."""

    reaction = Reaction.RESTART


class Transient(StepError):
    """Timeout, HTTP 5xx, a click intercepted by a lingering modal: back off and retry."""

    reaction = Reaction.RETRY


class Permanent(StepError):
    """Bad command for this product, fewer images than asked: record the failure and go on."""

    reaction = Reaction.FAIL


class StopAccount(StepError):
    """Translation credits exhausted, account locked: commit, stop this account cleanly, notify."""

    reaction = Reaction.STOP


class LeaseLost(StopAccount):
    """The account's lease is no longer ours (another worker took it over, or it could not be renewed in
    time): nothing more may be recorded. The engine kills the browser at once and ends the run without
    writing progress; the worker that holds the lease now carries on."""


class ItemTimeout(BrowserCrashed):
    """The per-item watchdog killed a hung browser (`RunOptions.item_timeout`); handled as BrowserCrashed."""


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


def reaction_of(exc: BaseException) -> Reaction:
    """What the engine does about `exc`: the class's reaction; anything unexpected is retried."""
    return exc.reaction if isinstance(exc, StepError) else Reaction.RETRY
