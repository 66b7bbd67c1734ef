"""What both step processors share: the page, login, getting the list into the right state, artifacts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

from stepbatch.browser.protocol import BrowserSession
from stepbatch.engine.errors import SessionExpired
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import DEFAULT_TIMEOUT_MS, PageHelper, playwright_errors
from stepbatch.sites.percenty.editor import ProductEditor
from stepbatch.sites.percenty.group_modal import GroupModal
from stepbatch.sites.percenty.login import LoginPage
from stepbatch.sites.percenty.product_list import ProductList
from stepbatch.workbook.groups import SOURCE_GROUP
from stepbatch.workbook.models import Account

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def page_of(browser: BrowserSession) -> Page:
    """The Playwright page of a session (PlaywrightSession exposes `.page`)."""
    page = getattr(browser, "page", None)
    if page is None:
        raise TypeError(f"the Percenty processors need a Playwright session, got {browser.kind!r}")
    return page


class PercentySite:
    """Page objects on one logged-in page, plus the list state the processors rely on."""

    def __init__(self, base_url: str, timeout_ms: int = DEFAULT_TIMEOUT_MS) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_ms = timeout_ms
        self.page: Page | None = None
        self.account: Account | None = None
        self._left_dirty = False  # a failed attempt may have left editors/drawers/modals open

    def open(self, browser: BrowserSession, account: Account) -> None:
        self.page = page_of(browser)
        self.account = account
        self.h = PageHelper(self.page, self.base_url, self.timeout_ms)
        self.list = ProductList(self.h)
        self.modal = GroupModal(self.h)
        self.editor = ProductEditor(self.h)
        self._left_dirty = False
        self.login()

    def login(self) -> None:
        assert self.account is not None, "open() first"
        with playwright_errors(self.page):
            LoginPage(self.h).login(self.account)
        log.info("logged in as %s", self.account.email)

    def ensure_list(self, group: str = SOURCE_GROUP, page_size: int = PAGE_SIZE) -> None:
        """등록 상품 관리 filtered to `group`, `page_size` per page, nothing open over it."""
        self.h.check_session()
        if self.h.page.locator(S.DRAWER).first.is_visible():
            self.editor.close()
        self.h.clear_overlays()
        if not self.list.is_open():
            self.list.open()
        if self.list.current_group() != group:
            self.list.select_group(group)
        if self.list.current_page_size() != f"{page_size}개씩 보기":
            self.list.set_page_size(page_size)

    def with_relogin(self, action: Any, on_relogin: Callable[[str], bool] | None = None) -> Any:
        """Run `action()`; on an expired session log in again and rerun it (it must be resumable).

        `on_relogin(reason)` (`ctx.relogged_in`) is asked before each re-login: the engine counts them and
        says False once its re-logins in a row are used up; then the SessionExpired goes to the engine.

        After an attempt that failed, the next one starts from a freshly loaded app: a half-finished
        attempt can leave the image editor, drawers or modals open in a state no close button undoes
        (the site saves every change at once, so reloading loses nothing).
        """
        try:
            if self._left_dirty:
                self.reload_app()
            while True:
                try:
                    with playwright_errors(self.page):
                        return action()
                except SessionExpired as exc:
                    if on_relogin is None or not on_relogin(str(exc)):
                        raise
                    log.info("session expired; logging in again")
                    self.login()
        except BaseException:
            self._left_dirty = True
            raise

    def reload_app(self) -> None:
        assert self.page is not None, "open() first"
        log.info("reloading the app after a failed attempt")
        with playwright_errors(self.page):
            self.page.goto(self.base_url + "/")
        self._left_dirty = False

    def capture_failure(self, path_stem: Path | str) -> dict[str, Path]:
        """Screenshot and page HTML at `path_stem` + `.png`/`.html`; returns the paths written by kind."""
        stem = Path(path_stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        if self.page is None or self.page.is_closed():
            return written
        try:
            shot = stem.with_name(stem.name + ".png")
            self.page.screenshot(path=str(shot), full_page=False, timeout=10_000)
            written["screenshot"] = shot
        except PlaywrightError as exc:
            log.debug("screenshot failed: %s", exc)
        try:
            html = stem.with_name(stem.name + ".html")
            html.write_text(self._scrub(self.page.content()), encoding="utf-8")
            written["html"] = html
        except PlaywrightError as exc:
            log.debug("page HTML capture failed: %s", exc)
        return written

    def _scrub(self, text: str) -> str:
        """Never let the password reach an artifact (React mirrors input values into attributes)."""
        secret = self.account.password.reveal() if self.account is not None else ""
        return text.replace(secret, "********") if secret else text
