"""classify() on exceptions that need no browser (the real-browser mappings are in the session tests)."""

from __future__ import annotations

import urllib3
from selenium.common import exceptions as sel

from stepbatch.browser.errors import classify, short_message
from stepbatch.engine.errors import BrowserCrashed, Permanent, StopAccount, Transient


def test_step_errors_pass_through_unchanged():
    for exc in (Permanent("2 images, asked 3"), StopAccount("credits"), BrowserCrashed("x")):
        assert classify(exc) is exc


def test_selenium_session_loss_is_browser_crashed():
    assert isinstance(classify(sel.InvalidSessionIdException("invalid session id")), BrowserCrashed)
    assert isinstance(classify(sel.NoSuchWindowException("no such window")), BrowserCrashed)
    assert isinstance(classify(sel.WebDriverException("chrome not reachable")), BrowserCrashed)


def test_selenium_timeouts_and_intercepted_clicks_are_transient():
    assert isinstance(classify(sel.TimeoutException("waited 10 s")), Transient)
    assert isinstance(classify(sel.ElementClickInterceptedException("other element")), Transient)


def test_refused_driver_connection_is_browser_crashed():
    pool_error = urllib3.exceptions.MaxRetryError(None, "/session/x", ConnectionRefusedError(111, "refused"))
    assert isinstance(classify(pool_error), BrowserCrashed)


def test_network_errors_are_transient_even_when_they_say_closed():
    assert isinstance(classify(RuntimeError("Page.goto: net::ERR_CONNECTION_CLOSED at http://x")), Transient)


def test_message_keeps_only_the_first_line_and_is_capped():
    exc = RuntimeError("Page.fill: Timeout 30000ms exceeded.\nCall log:\n  - waiting for locator('#pw')")
    assert short_message(exc) == "RuntimeError: Page.fill: Timeout 30000ms exceeded."
    assert len(short_message(RuntimeError("y" * 5000))) < 400
