"""Chromium driven by Selenium 4, so an operator's existing Selenium step code can run as a plugin.

Same protocol as PlaywrightSession: fresh temporary profile, the flags of `flags.py`, memory over the
whole tree (chromedriver + chromium), close/kill by PID. `.driver` is the `webdriver.Chrome`.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from stepbatch.browser.errors import short_message
from stepbatch.browser.flags import chromium_args
from stepbatch.browser.orphans import kill_recorded_orphans, record_path
from stepbatch.browser.playwright_session import DEBIAN_CHROMIUM, DEFAULT_VIEWPORT, metrics_from_cdp
from stepbatch.browser.processes import ProcessTree
from stepbatch.browser.profile import browser_env, make_profile
from stepbatch.browser.tree_session import TreeSession
from stepbatch.errors import UserError

log = logging.getLogger("stepbatch.browser")

DEBIAN_CHROMEDRIVER = Path("/usr/bin/chromedriver")


def find_chromedriver() -> str | None:
    """A chromedriver on this machine; None lets Selenium Manager download one (needs internet)."""
    found = shutil.which("chromedriver")
    if found:
        return found
    return str(DEBIAN_CHROMEDRIVER) if DEBIAN_CHROMEDRIVER.is_file() else None


def chrome_options(
    profile: Path,
    *,
    headless: bool,
    chrome_binary: Path | str | None,
    offline: bool,
    viewport: tuple[int, int],
    locale: str,
) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    for arg in chromium_args(offline=offline):
        options.add_argument(arg)
    if headless:
        options.add_argument("--headless=new")
    options.add_argument(f"--window-size={viewport[0]},{viewport[1]}")
    options.add_argument(f"--lang={locale}")
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {"intl.accept_languages": f"{locale},{locale.split('-')[0]}"})
    if chrome_binary:
        path = Path(chrome_binary).expanduser()
        if not path.is_file():
            raise UserError(f"--chrome-binary: no browser at {path}")
        options.binary_location = str(path)
    elif sys.platform.startswith("linux") and DEBIAN_CHROMIUM.is_file():
        options.binary_location = str(DEBIAN_CHROMIUM)
    return options


class SeleniumSession(TreeSession):
    """A started Chromium under chromedriver. The process tree's root is chromedriver."""

    kind = "selenium"

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
        chromedriver: str | None = None,
        close_timeout_s: float = 10.0,
    ) -> None:
        self._close_timeout_s = close_timeout_s
        self._state_lock = threading.Lock()
        self._closed = False
        self._tree: ProcessTree | None = None
        self._record_file = record_path(state_dir, account) if state_dir and account else None
        self._session_id = uuid.uuid4().hex
        if state_dir and account:
            kill_recorded_orphans(state_dir, account)
        self.profile = make_profile()
        t0 = time.perf_counter()
        self.driver: webdriver.Chrome | None = None
        try:
            options = chrome_options(
                self.profile,
                headless=headless,
                chrome_binary=chrome_binary,
                offline=offline,
                viewport=viewport,
                locale=locale,
            )
            service = Service(
                executable_path=chromedriver or find_chromedriver(), env=browser_env(self.profile)
            )
            self.driver = webdriver.Chrome(service=service, options=options)
            self._tree = ProcessTree(psutil.Process(service.process.pid))
            _fit_viewport(self.driver, viewport)
            self._write_record()
        except BaseException:
            self.close()
            raise
        self.startup_s = time.perf_counter() - t0

    def page_metrics(self) -> dict[str, Any]:
        """`JSHeapUsedSize`/`JSHeapTotalSize` in MB and `Nodes` of the page, or {} when unavailable."""
        if self._closed or self.driver is None:
            return {}
        try:
            self.driver.execute_cdp_cmd("Performance.enable", {})
            metrics = self.driver.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
        except Exception as exc:
            log.debug("page metrics unavailable: %s", short_message(exc))
            return {}
        return metrics_from_cdp({m["name"]: m["value"] for m in metrics})

    def is_alive(self) -> bool:
        return not self._closed and self._tree is not None and self._tree.is_alive()

    def close(self) -> None:
        """`driver.quit()` with a timeout, then kill leftovers; removes profile and record. Idempotent."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
        if self.driver is not None:
            timer = threading.Timer(self._close_timeout_s, self.kill)
            timer.daemon = True
            timer.start()
            try:
                self.driver.quit()
            except Exception as exc:
                log.debug("graceful quit failed: %s", short_message(exc))
            finally:
                timer.cancel()
        self._release()


def _fit_viewport(driver: webdriver.Chrome, viewport: tuple[int, int]) -> None:
    """--window-size sets the outer window; grow it by the browser's frame so the page gets `viewport`."""
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    dw, dh = viewport[0] - inner[0], viewport[1] - inner[1]
    if dw or dh:
        size = driver.get_window_size()
        driver.set_window_size(size["width"] + dw, size["height"] + dh)
