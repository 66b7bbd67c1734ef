"""Helpers shared by the page objects: session check, overlay handling, robust clicks, error mapping."""

from __future__ import annotations

import functools
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

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_MS = 20_000
SHORT_TIMEOUT_MS = 4_000
ACT_ATTEMPTS = 5  # an HTTP 5xx answer changed nothing, so the same click is simply repeated

# Injected once per document so Channel Talk never covers the UI, even after a reload or re-login.
_CHANNEL_TALK_SCRIPT = f"""
(() => {{
  const add = () => {{
    if (document.getElementById('{S.CHANNEL_TALK_STYLE_ID}')) return;
    const s = document.createElement('style');
    s.id = '{S.CHANNEL_TALK_STYLE_ID}';
    s.textContent = {S.CHANNEL_TALK_CSS!r};
    (document.head || document.documentElement).appendChild(s);
  }};
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', add); else add();
}})();
"""

# A wrap is lingering when it holds no visible modal (the dialog closed but the wrapper stayed). It goes
# with the mask beside it. A live modal's mask is never touched: the site removes it itself when the
# modal closes, and a modal whose mask is already gone can no longer close.
_REMOVE_LINGERING_JS = f"""
() => {{
  const live = (wrap) => {{
    const modal = wrap.querySelector({S.MODAL!r});
    return !!modal && modal.getClientRects().length > 0 && getComputedStyle(wrap).display !== 'none';
  }};
  const siblings = (node, sel) =>
    node.parentElement ? [...node.parentElement.children].filter(c => c.matches(sel)) : [];
  let removed = 0;
  for (const wrap of document.querySelectorAll({S.MODAL_WRAP!r})) {{
    if (live(wrap)) continue;
    for (const mask of siblings(wrap, {S.MODAL_MASK!r})) {{ mask.remove(); removed++; }}
    wrap.remove(); removed++;
  }}
  for (const mask of document.querySelectorAll({S.MODAL_MASK!r})) {{
    if (!siblings(mask, {S.MODAL_WRAP!r}).some(live)) {{ mask.remove(); removed++; }}
  }}
  if (![...document.querySelectorAll({S.MODAL_WRAP!r})].some(live)) {{
    document.body.classList.remove({S.BODY_MODAL_OPEN_CLASS!r});
    document.body.style.overflow = '';
  }}
  return removed;
}}
"""


_HIT_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit));
}
"""


DISMISS_POPUPS_JS = f"""
() => {{
  let closed = 0;
  for (const wrap of document.querySelectorAll({S.MODAL_WRAP!r})) {{
    if (!wrap.getClientRects().length) continue;
    const button = [...wrap.querySelectorAll('button')]
      .find(b => b.textContent.trim() === {S.POPUP_DONT_SHOW_AGAIN_TEXT!r});
    if (button) {{ button.click(); closed++; }}
  }}
  return closed;
}}
"""


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
            lambda loc: page.evaluate(_REMOVE_LINGERING_JS),
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
            self.page.add_init_script(_CHANNEL_TALK_SCRIPT)
            self._channel_talk_blocked = True

    def dismiss_popups(self) -> int:
        """Press `다시 보지 않기` on every visible notice popup; returns how many were closed.

        A DOM click (not a mouse click): a popup can open underneath a drawer, where no mouse reaches it.
        """
        return int(self.page.evaluate(DISMISS_POPUPS_JS))

    def clear_overlays(self) -> int:
        """Close popups, then remove modal wrappers that linger after their dialog has gone."""
        self.dismiss_popups()
        return int(self.page.evaluate(_REMOVE_LINGERING_JS))

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

        First as one script call (`dom_click`) when the element is clickable right now; otherwise, and
        always with `real_mouse`, with Playwright's mouse, which waits until it is.
        """
        if not real_mouse and self.script_clicks:
            if not signin_ok:
                self.check_session()
            if (
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
            return bool(target.is_visible() and target.evaluate(_HIT_JS))
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
            raise PlaywrightTimeout(f"Timeout {timeout}ms exceeded waiting for {_first_line_of(expression)}")

    def wait_css(self, selector: str, state: str = "visible", timeout_ms: int | None = None) -> None:
        """`Locator(selector).first.wait_for(state)` for a plain CSS selector, polled on every frame
        (Playwright's own wait backs off to 100–500 ms between looks)."""
        self.wait_js(_CSS_STATE_JS, [selector, state], timeout_ms=timeout_ms)

    def press_escape(self) -> None:
        self.page.keyboard.press("Escape")


@functools.lru_cache(maxsize=256)
def poll_script(predicate: str) -> str:
    """`predicate(arg)` polled in the page on each animation frame (or every 50 ms where frames are
    throttled) until it returns a truthy value or `timeoutMs` passes: {ok, value}."""
    return f"""async ([arg, timeoutMs]) => {{
  const test = ({predicate});
  const deadline = performance.now() + timeoutMs;
  const frame = () => new Promise(r => {{
    const t = setTimeout(r, 50);
    requestAnimationFrame(() => {{ clearTimeout(t); r(); }});
  }});
  for (;;) {{
    const value = await test(arg);
    if (value) return {{ok: true, value}};
    if (performance.now() >= deadline) return {{ok: false}};
    await frame();
  }}
}}"""


_CSS_STATE_JS = """([selector, state]) => {
  const el = document.querySelector(selector);
  if (state === 'detached') return !el;
  if (state === 'attached') return !!el;
  const box = el ? el.getBoundingClientRect() : null;
  const shown = !!el && box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  return state === 'visible' ? shown : !shown;
}"""


def _first_line_of(expression: str) -> str:
    return " ".join(expression.split())[:80]


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
