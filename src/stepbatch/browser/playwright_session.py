"""Chromium driven by Playwright's sync API: the default browser of stepbatch.

One Playwright driver (a Node process) per thread that uses it — in practice one per process — is
started lazily and stopped at exit; recycling a browser restarts only Chromium. Each browser gets a
fresh temporary profile whose path, unique in its command line, identifies its process tree.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, CDPSession, Page, Playwright, sync_playwright

from stepbatch.browser.errors import short_message
from stepbatch.browser.flags import chromium_args
from stepbatch.browser.orphans import kill_recorded_orphans, record_path
from stepbatch.browser.processes import ProcessTree, find_root_by_marker
from stepbatch.browser.profile import browser_env, make_profile
from stepbatch.browser.tree_session import TreeSession
from stepbatch.errors import UserError

log = logging.getLogger("stepbatch.browser")

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
DEFAULT_VIEWPORT = (1920, 945)  # inner size of a maximised 1920×1080 window, as on the operators' PCs

_drivers: dict[int, tuple[Any, Playwright]] = {}  # thread id -> (sync_playwright() manager, driver)
_drivers_lock = threading.Lock()


def playwright_driver() -> Playwright:
    """This thread's Playwright driver, started on first use (the sync API is bound to one thread)."""
    key = threading.get_ident()
    with _drivers_lock:
        entry = _drivers.get(key)
    if entry is None:
        manager = sync_playwright()
        entry = (manager, manager.start())
        with _drivers_lock:
            _drivers[key] = entry
        if threading.current_thread() is threading.main_thread():
            atexit.register(stop_driver)
    return entry[1]


def stop_driver() -> None:
    """Stop this thread's driver (if any). Browsers it launched must be closed before."""
    with _drivers_lock:
        entry = _drivers.pop(threading.get_ident(), None)
    if entry is not None:
        try:
            entry[0].__exit__(None, None, None)
        except Exception as exc:  # a driver that already died cannot be stopped twice
            log.debug("stopping the Playwright driver: %s", short_message(exc))


def resolve_launch(chrome_binary: Path | str | None) -> dict[str, Any]:
    """Playwright launch arguments choosing the browser: override → Debian chromium → Chrome."""
    if chrome_binary:
        path = Path(chrome_binary).expanduser()
        if not path.is_file():
            raise UserError(f"--chrome-binary: no browser at {path}")
        return {"executable_path": str(path)}
    if sys.platform.startswith("linux") and DEBIAN_CHROMIUM.is_file():
        return {"executable_path": str(DEBIAN_CHROMIUM)}
    return {"channel": "chrome"}


class PlaywrightSession(TreeSession):
    """A started Chromium with one page. `.page` and `.context` are Playwright objects."""

    kind = "playwright"

    def __init__(
        self,
        *,
        headless: bool = True,
        chrome_binary: Path | str | None = None,
        offline: bool = False,
        state_dir: Path | None = None,
        account: str | None = None,
        viewport: tuple[int, int] = DEFAULT_VIEWPORT,
        locale: str = "ko-KR",
        close_timeout_s: float = 10.0,
    ) -> None:
        launch = resolve_launch(chrome_binary)
        self._close_timeout_s = close_timeout_s
        self._state_lock = threading.Lock()
        self._closed = False
        self._cdp: CDPSession | None = None
        self.page_crashed = False  # set by Playwright's "crash" event (e.g. renderer out of memory)
        self._tree: ProcessTree | None = None
        self._record_file = record_path(state_dir, account) if state_dir and account else None
        self._session_id = uuid.uuid4().hex
        if state_dir and account:
            kill_recorded_orphans(state_dir, account)
        self.profile = make_profile()
        t0 = time.perf_counter()
        try:
            self.context: BrowserContext = self._launch(launch, headless, offline, viewport, locale)
            self.page: Page = self.context.pages[0] if self.context.pages else self.context.new_page()
            self.page.on("crash", self._on_crash)
            root = find_root_by_marker(str(self.profile))
            if root is None:
                raise RuntimeError("started Chromium but cannot find its process")
            self._tree = ProcessTree(root)
            self._write_record()
        except BaseException:
            self.close()
            raise
        self.startup_s = time.perf_counter() - t0

    # --- BrowserSession protocol -------------------------------------------------------------

    def page_metrics(self) -> dict[str, Any]:
        """`JSHeapUsedSize`/`JSHeapTotalSize` in MB and `Nodes` of the page, or {} when unavailable."""
        if self._closed:
            return {}
        try:
            if self._cdp is None:
                self._cdp = self.context.new_cdp_session(self.page)
                self._cdp.send("Performance.enable")
            raw = {m["name"]: m["value"] for m in self._cdp.send("Performance.getMetrics")["metrics"]}
        except Exception as exc:
            log.debug("page metrics unavailable: %s", short_message(exc))
            self._cdp = None
            return {}
        return metrics_from_cdp(raw)

    def is_alive(self) -> bool:
        alive = not self._closed and self._tree is not None and self._tree.is_alive()
        return alive and not self.page_crashed

    def close(self) -> None:
        """Graceful close with a timeout, then kill leftovers; removes profile and record. Idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        context = getattr(self, "context", None)
        if context is not None:
            self._graceful_close(context)
        self._release()

    # --- internals ---------------------------------------------------------------------------

    def _launch(
        self, launch: dict[str, Any], headless: bool, offline: bool, viewport: tuple[int, int], locale: str
    ) -> BrowserContext:
        kwargs = {
            "headless": headless,
            "args": chromium_args(offline=offline),
            "viewport": {"width": viewport[0], "height": viewport[1]},
            "locale": locale,
            "env": browser_env(self.profile),
            **launch,
        }
        try:
            return self._launch_with_driver(kwargs)
        except Exception as exc:
            if launch.get("channel") == "chrome" and "executable doesn't exist" in str(exc).lower():
                log.info("Google Chrome not found; using Playwright's own Chromium")
                kwargs.pop("channel")
                return self._launch_with_driver(kwargs)
            raise

    def _launch_with_driver(self, kwargs: dict[str, Any]) -> BrowserContext:
        try:
            return playwright_driver().chromium.launch_persistent_context(str(self.profile), **kwargs)
        except Exception as exc:
            if "connection closed" not in str(exc).lower() and "has been closed" not in str(exc).lower():
                raise
            log.warning("the Playwright driver was gone; starting a new one")
            stop_driver()
            return playwright_driver().chromium.launch_persistent_context(str(self.profile), **kwargs)

    def _graceful_close(self, context: BrowserContext) -> None:
        # context.close() has no timeout of its own: if Chromium hangs, the timer kills it by PID,
        # which makes close() return.
        timer = threading.Timer(self._close_timeout_s, self.kill)
        timer.daemon = True
        timer.start()
        try:
            context.close()
        except Exception as exc:
            log.debug("graceful close failed: %s", short_message(exc))
        finally:
            timer.cancel()

    def _on_crash(self, _page: Page) -> None:
        self.page_crashed = True


def metrics_from_cdp(raw: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("JSHeapUsedSize", "JSHeapTotalSize"):
        if name in raw:
            out[name] = round(raw[name] / (1024 * 1024), 2)
    if "Nodes" in raw:
        out["Nodes"] = int(raw["Nodes"])
    return out
