"""Map driver exceptions (Playwright, Selenium, lost connections) onto the engine's error classes.

Use as `except Exception as exc: raise classify(exc) from exc`.
"""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout
from selenium.common import exceptions as sel

from stepbatch.contracts.errors import BrowserCrashed, StepError, Transient

MAX_MESSAGE = 300

# Messages meaning the browser, its page or the driver connection is gone: restart the browser.
_CRASHED = re.compile(
    "|".join(
        [
            r"has been closed",  # Target page, context or browser has been closed
            r"target closed",
            r"target crashed",
            r"page crashed",
            r"navigation failed because page crashed",
            r"browser has disconnected",
            r"browser closed",
            r"connection closed",  # the Playwright driver went away
            r"pipe has been closed",
            r"invalid session id",
            r"chrome not reachable",
            r"session deleted",
            r"no such window",
            r"disconnected: ",
            r"tab crashed",
            r"cannot switch to a different thread",  # greenlet bound to a dead driver's thread
        ]
    ),
    re.IGNORECASE,
)

# Navigation/network failures worth a retry with backoff.
_NETWORK = re.compile(r"net::ERR_[A-Z_]+|ECONNREFUSED|ECONNRESET", re.IGNORECASE)

_SELENIUM_CRASHED = (sel.InvalidSessionIdException, sel.NoSuchWindowException)
_SELENIUM_TRANSIENT = (
    sel.TimeoutException,
    sel.ElementClickInterceptedException,
    sel.StaleElementReferenceException,
    sel.ElementNotInteractableException,
)


def classify(exc: BaseException) -> StepError:
    """The StepError the engine should see for `exc` (a StepError is returned unchanged)."""
    if isinstance(exc, StepError):
        return exc
    message = short_message(exc)
    if isinstance(exc, (PlaywrightTimeout, _SELENIUM_TRANSIENT)):
        return Transient(message)
    if _NETWORK.search(str(exc)):  # before the crash patterns: net::ERR_CONNECTION_CLOSED is a retry
        return Transient(message)
    if isinstance(exc, _SELENIUM_CRASHED) or _CRASHED.search(str(exc)) or _is_connection_lost(exc):
        return BrowserCrashed(message)
    # Anything else from a driver (PlaywrightError, WebDriverException) or unexpected: retry with
    # backoff, like engine.errors.error_class_name does for unknown exceptions.
    return Transient(message)


def short_message(exc: BaseException) -> str:
    """First line of the driver's message (its call logs can be long), capped, with the class name."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text[:MAX_MESSAGE]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _is_connection_lost(exc: BaseException) -> bool:
    """Selenium talks HTTP to chromedriver: a refused/reset connection means the driver is gone."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError | ConnectionResetError | BrokenPipeError):
            return True
        name = type(current).__name__
        if name in {"MaxRetryError", "NewConnectionError", "ProtocolError", "RemoteDisconnected"}:
            return True
        current = current.__cause__ or current.__context__
    return False
