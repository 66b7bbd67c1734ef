"""Helpers shared by the page objects: session check, overlay handling, robust clicks, error mapping."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Response
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import BrowserCrashed, SessionExpired, StepError, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.dom_click import CLICKED, script_click, script_clicks_wanted
from stepbatch.sites.percenty.dom_overlays import (
    CHANNEL_TALK_SCRIPT,
    DISMISS_POPUPS_JS,
    HIT_JS,
    REMOVE_LINGERING_JS,
)
from stepbatch.sites.percenty.dom_wait import CSS_STATE_JS, MOUSE_POINT_JS, click_until_script, poll_script

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 20_000
SHORT_TIMEOUT_MS = 4_000
ACT_ATTEMPTS = 5  # an HTTP 5xx answer changed nothing, so the same click is simply repeated
UNSETTLED = object()  # click_until: a failed answer ended the wait before its condition held


class PageHelper:
    """The one Playwright page of a session, with the waits and clicks every page object needs."""

    def __init__(self, page: Page, base_url: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.page = page
        self.base_url = base_url.rstrip("/")
        self.timeout_ms = timeout_ms
        self._channel_talk_blocked = False
        self.script_clicks = script_clicks_wanted()
        page.set_default_timeout(timeout_ms)
        self._install_overlay_handlers()

    def _install_overlay_handlers(self) -> None:
        """Before any action: close notice popups and drop modal wrappers that outlived their dialog."""
        page = self.page
        page.add_locator_handler(page.locator(S.POPUP_DONT_SHOW_AGAIN).first, lambda _: self.dismiss_popups())
        page.add_locator_handler(
            page.locator(S.LINGERING_WRAP).first,
            lambda loc: page.evaluate(REMOVE_LINGERING_JS),
        )

    # --- session ---
    def on_signin(self) -> bool:
        return is_signin_url(self.page.url)

    def check_session(self) -> None:
        if self.on_signin():
            raise SessionExpired("redirected to the sign-in page")

    # --- overlays ---
    def install_channel_talk_blocker(self) -> None:
        """Hide Channel Talk in every document the page loads from now on (added once per page).

        Not run in the current document: the login navigates right after, and a session expiry may
        be replacing that document at this very moment.
        """
        if not self._channel_talk_blocked:
            self.page.add_init_script(CHANNEL_TALK_SCRIPT)
            self._channel_talk_blocked = True

    def dismiss_popups(self) -> int:
        """Press `다시 보지 않기` on every visible notice popup; returns how many were closed.

        A DOM click (not a mouse click): a popup can open underneath a drawer, where no mouse reaches it.
        """
        return int(self.page.evaluate(DISMISS_POPUPS_JS))

    def clear_overlays(self) -> int:
        """Close popups, then remove modal wrappers that linger after their dialog has gone."""
        self.dismiss_popups()
        return int(self.page.evaluate(REMOVE_LINGERING_JS))

    def click(
        self,
        target: Locator,
        *,
        attempts: int = 3,
        signin_ok: bool = False,
        final_timeout_ms: int | None = None,
        real_mouse: bool = False,
    ) -> None:
        """Click, retrying after clearing overlays when a lingering modal intercepts the click.

        First as one script call (`dom_click`) when the element is clickable right now (with `real_mouse`,
        the mouse at the point that script finds); otherwise with Playwright's click, which waits until it is.
        """
        if self.script_clicks:
            if not signin_ok:
                self.check_session()
            if real_mouse:
                if self._mouse_click(target):
                    return
            elif (
                self._script_click(target, min(final_timeout_ms or SHORT_TIMEOUT_MS, SHORT_TIMEOUT_MS))
                == CLICKED
            ):
                return
        for attempt in range(1, attempts + 1):
            if not signin_ok:
                self.check_session()
            last = attempt == attempts
            timeout = (final_timeout_ms or self.timeout_ms) if last else SHORT_TIMEOUT_MS
            try:
                target.click(timeout=timeout)
                return
            except PlaywrightTimeout as exc:
                if not signin_ok:
                    self.check_session()
                if attempt == attempts:
                    raise Transient(f"click timed out: {_first_line(exc)}") from exc
                removed = self.clear_overlays()
                log.debug("click retry %d after removing %d overlay(s)", attempt, removed)

    def click_until(
        self,
        target: Locator,
        predicate: str,
        arg: object = None,
        *,
        timeout_ms: int | None = None,
        stop_on_failure: bool = False,
    ) -> object:
        """Click `target`, then wait until the JS `predicate(arg)` holds; returns its value.

        One script call (`dom_wait.click_until_script`) when the element is clickable right now, else
        `click` and `wait_js`. With `stop_on_failure`, a failed answer (5xx, 401) that the page got while
        waiting returns `UNSETTLED` at once, for `act`'s retry or session check to handle.
        """
        timeout = timeout_ms or self.timeout_ms
        if self.script_clicks:
            self.check_session()
            answer = self._click_until_once(target, predicate, arg, timeout)
            if answer is not None:
                if answer.get("ok"):
                    return answer["value"]
                if answer.get("failed") and stop_on_failure:
                    return UNSETTLED
                if not answer.get("failed") and not answer.get("navigated"):
                    raise _timed_out(timeout, predicate)
                return self.wait_js(predicate, arg, timeout_ms=timeout)
        self.click(target)
        return self.wait_js(predicate, arg, timeout_ms=timeout)

    def act_until(
        self, target: Locator, predicate: str, arg: object = None, *, method: str | None = None
    ) -> object:
        """`act` on a click of `target` whose result `predicate(arg)` shows: the click and the wait are one
        script call, ended early by a failed answer, which `act` then repeats (5xx) or reports (401)."""
        holder: dict[str, object] = {}

        def do() -> None:
            try:
                holder["value"] = self.click_until(target, predicate, arg, stop_on_failure=True)
            except PlaywrightTimeout:  # the answer decides: a 5xx is repeated, else the wait below fails
                holder["value"] = UNSETTLED

        self.act(do, method=method)
        if holder["value"] is UNSETTLED:
            return self.wait_js(predicate, arg, timeout_ms=SHORT_TIMEOUT_MS)
        return holder["value"]

    def _click_until_once(self, target: Locator, predicate: str, arg: object, timeout_ms: int) -> dict | None:
        """The click-and-wait script's answer, or None when it could not click (nothing was done)."""
        script = click_until_script(predicate)
        try:
            answer = dict(target.evaluate_all(script, [arg, timeout_ms]))
            if answer["outcome"] == "absent":
                target.wait_for(state="attached", timeout=SHORT_TIMEOUT_MS)
                answer = dict(target.evaluate_all(script, [arg, timeout_ms]))
        except PlaywrightTimeout:
            return None
        except PlaywrightError as exc:
            if "strict mode violation" in str(exc):
                raise
            if not _navigated(exc):
                return None
            self.check_session()  # the click navigated: on to the wait in the new document
            return {"outcome": CLICKED, "navigated": True}
        return answer if answer["outcome"] == CLICKED else None

    def _mouse_click(self, target: Locator) -> bool:
        """A real mouse click at the centre of `target` when it is clickable right now: one script call
        for the point and one for the mouse (Playwright's click adds its actionability round trips)."""
        try:
            point = dict(target.evaluate_all(MOUSE_POINT_JS))
            if point["outcome"] == "absent":
                target.wait_for(state="attached", timeout=SHORT_TIMEOUT_MS)
                point = dict(target.evaluate_all(MOUSE_POINT_JS))
        except PlaywrightTimeout:
            return False
        except PlaywrightError as exc:
            if "strict mode violation" in str(exc):
                raise
            return False
        if point["outcome"] != CLICKED:
            return False
        self.page.mouse.click(point["x"], point["y"])
        return True

    def _script_click(self, target: Locator, timeout_ms: int) -> str:
        try:
            return script_click(target, timeout_ms)
        except PlaywrightTimeout:
            return "absent"  # Playwright's click below waits for it again and reports the timeout
        except PlaywrightError as exc:
            if "strict mode violation" in str(exc):
                raise
            return "failed"

    def act(
        self, do: Callable[[], object], *, method: str | None = None, attempts: int = ACT_ATTEMPTS
    ) -> Response:
        """Run a UI action that makes the page call the server, and wait for that call's answer.

        A 5xx answer (the server changed nothing) repeats the action; a 401 means the session expired.
        """
        for attempt in range(1, attempts + 1):
            self.check_session()
            with self.page.expect_response(lambda r: _is_api_call(r, method)) as info:
                do()
            response = info.value
            if response.status == 401:
                raise SessionExpired("the site answered 401 (session expired)")
            if response.status < 500:
                return response
            log.info(
                "server answered %d to %s; repeating the action (%d/%d)",
                response.status,
                response.request.method,
                attempt,
                attempts,
            )
        raise Transient(f"the server kept answering {response.status} ({attempts} attempts)")

    def act_watching(
        self,
        do: Callable[[], object],
        settle: Callable[[Callable[[], bool]], object],
        *,
        method: str | None = None,
        attempts: int = ACT_ATTEMPTS,
    ) -> None:
        """Run a UI action that may or may not call the server, then `settle(answered)` until it is over.

        For actions whose server call is not known from the real site: the answers (to `method` calls)
        that come during the action are watched instead of waited for. `answered()` tells `settle` whether
        one came; a 5xx among them repeats the action, a 401 means the session expired.
        """
        for attempt in range(1, attempts + 1):
            self.check_session()
            statuses = self._watch_answers(do, settle, method)
            if 401 in statuses:
                raise SessionExpired("the site answered 401 (session expired)")
            if not any(status >= 500 for status in statuses):
                return
            log.info("server answered %s; repeating the action (%d/%d)", statuses, attempt, attempts)
        raise Transient(f"the server kept answering 5xx ({attempts} attempts)")

    def _watch_answers(
        self, do: Callable[[], object], settle: Callable[[Callable[[], bool]], object], method: str | None
    ) -> list[int]:
        statuses: list[int] = []

        def seen(response: Response) -> None:
            if _is_api_call(response, method):
                statuses.append(response.status)

        self.page.on("response", seen)
        try:
            do()
            settle(lambda: bool(statuses))
        finally:
            self.page.remove_listener("response", seen)
        return statuses

    def is_clickable(self, target: Locator) -> bool:
        """Visible and really hit by a click at its centre (not covered by another layer)."""
        try:
            return bool(target.is_visible() and target.evaluate(HIT_JS))
        except PlaywrightError:
            return False

    def wait_js(self, expression: str, arg: object = None, timeout_ms: int | None = None) -> object:
        """Wait until a JS predicate holds and return its value: one script call that polls in the page
        on every animation frame (no fixed sleep, no handle left behind). A navigation that replaces the
        document under the wait starts it again in the new one; a timeout raises Playwright's."""
        timeout = timeout_ms or self.timeout_ms
        deadline = time.monotonic() + timeout / 1000
        script = poll_script(expression)
        while True:
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            try:
                answer = self.page.evaluate(script, [arg, left_ms])
            except PlaywrightError as exc:
                if not _navigated(exc) or time.monotonic() >= deadline:
                    raise
                continue  # the new document answers (the sign-in page included: the caller decides)
            if answer["ok"]:
                return answer["value"]
            raise _timed_out(timeout, expression)

    def wait_css(self, selector: str, state: str = "visible", timeout_ms: int | None = None) -> None:
        """`Locator(selector).first.wait_for(state)` for a plain CSS selector, polled on every frame
        (Playwright's own wait backs off to 100–500 ms between looks)."""
        self.wait_js(CSS_STATE_JS, [selector, state], timeout_ms=timeout_ms)

    def press_escape(self) -> None:
        self.page.keyboard.press("Escape")


def _timed_out(timeout_ms: int, expression: str) -> PlaywrightTimeout:
    what = " ".join(expression.split())[:80]
    return PlaywrightTimeout(f"Timeout {timeout_ms}ms exceeded waiting for {what}")


def _navigated(exc: BaseException) -> bool:
    return any(marker in str(exc).lower() for marker in _NAVIGATED)


def is_signin_url(url: str) -> bool:
    return urlparse(url).path.rstrip("/").endswith(S.SIGNIN_PATH)


def _is_api_call(response: Response, method: str | None) -> bool:
    request = response.request
    if request.resource_type not in ("fetch", "xhr"):
        return False
    return method is None or request.method == method


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def classify_playwright(exc: BaseException, page: Page | None = None) -> StepError:
    """Map a Playwright error onto the engine's taxonomy (browser package's `classify` when present)."""
    if isinstance(exc, StepError):
        return exc
    if page is not None and _sent_to_signin(exc, page):
        return SessionExpired("redirected to the sign-in page")
    try:
        from stepbatch.browser.errors import classify
    except ImportError:
        classify = None
    if classify is not None:
        mapped = classify(exc)
        if isinstance(mapped, StepError):
            return mapped
        if isinstance(mapped, type) and issubclass(mapped, StepError):
            return mapped(_first_line(exc))
    text = str(exc).lower()
    gone = (
        "target page, context or browser has been closed",
        "browser has been closed",
        "target closed",
        "crash",
        "connection closed",
        "econnrefused",
        "browser closed",
    )
    if any(marker in text for marker in gone):
        return BrowserCrashed(_first_line(exc))
    return Transient(_first_line(exc))


# The page navigated under the action. Playwright may report that before it reports the new URL.
_NAVIGATED = ("execution context was destroyed", "interrupted by another navigation")
NAVIGATION_SETTLE_MS = 2_000


def _sent_to_signin(exc: BaseException, page: Page) -> bool:
    """Is the page on (or, after a navigation that broke the action, on its way to) the sign-in page?"""
    try:
        if page.is_closed():
            return False
        if is_signin_url(page.url):
            return True
        if not any(marker in str(exc).lower() for marker in _NAVIGATED):
            return False
        page.wait_for_url(is_signin_url, wait_until="commit", timeout=NAVIGATION_SETTLE_MS)
        return True
    except PlaywrightError:  # a timeout included: it went somewhere else
        return False


@contextmanager
def playwright_errors(page: Page | None) -> Iterator[None]:
    """Re-raise Playwright errors as the engine's error classes."""
    try:
        yield
    except StepError:
        raise
    except PlaywrightError as exc:
        raise classify_playwright(exc, page) from exc
