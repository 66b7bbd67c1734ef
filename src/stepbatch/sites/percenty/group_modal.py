"""The `그룹 지정` modal (상품 그룹핑/제외하기): pick a group by exact name, confirm, wait until closed."""

from __future__ import annotations

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import Permanent
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import PageHelper


class GroupModal:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page

    def assign_selected(self, group: str) -> None:
        """With rows selected: 그룹 지정 → radio `group` → 확인, and wait for the modal to close."""
        button = self.page.locator(S.GROUP_ASSIGN_BUTTON).first
        button.wait_for(state="visible")
        self.h.wait_js(
            "(text) => [...document.querySelectorAll('button')].some(b => b.textContent.trim() === text"
            " && !b.disabled)",
            S.GROUP_ASSIGN_TEXT,
        )
        self.h.click(button)
        modal = self.page.locator(S.GROUP_MODAL).first
        modal.wait_for(state="visible")
        radio = self.page.locator(S.radio_by_group(group)).first
        try:
            radio.wait_for(state="attached", timeout=self.h.timeout_ms // 2)
        except PlaywrightTimeout as exc:
            self.h.press_escape()
            raise Permanent(f"group {group!r} is not in the group modal") from exc
        radio.scroll_into_view_if_needed()
        self.h.click(radio)
        self.page.locator(S.radio_by_group(group) + S.MODAL_RADIO_CHECKED).first.wait_for(state="visible")
        ok = self.page.locator(f"{S.GROUP_MODAL} {S.MODAL_OK}").first
        self.h.act(lambda: self.h.click(ok), method="POST")  # a 5xx leaves the modal open: 확인 again
        modal.wait_for(state="hidden")
