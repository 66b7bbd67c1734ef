"""The product edit drawer: tabs, the image bulk-edit drawer, thumbnails, options, and the detail HTML.

The header's tab pane is always empty on the real site: each tab's content is looked up in the whole drawer,
visible elements only (whether other tabs' content stays in the page, hidden, is not known).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import Permanent, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import ACT_ATTEMPTS, DISMISS_POPUPS_JS, SHORT_TIMEOUT_MS, PageHelper
from stepbatch.sites.percenty.dom_reads import (
    BULK_HIDDEN_JS,
    BULK_READY_JS,
    COUNT_IS_JS,
    COUNT_SHOWN_JS,
    DRAWER_SHOWN_JS,
    DRAWER_STATE_JS,
    TAB_READY_JS,
)
from stepbatch.sites.percenty.image_editor import ImageEditor, ShownImage

log = logging.getLogger(__name__)

DETAIL, THUMBNAIL, OPTION = "detail", "thumbnail", "option"

_COUNT_DRAWERS_JS = f"""
() => [...document.querySelectorAll({S.DRAWER!r})]
  .filter(d => d.getClientRects().length > 0).length
"""
_FEWER_DRAWERS_JS = f"(n) => ({_COUNT_DRAWERS_JS})() < n"
_COUNT_THEN_DISMISS_JS = f"""
() => {{
  const open = ({_COUNT_DRAWERS_JS})();
  if (open) ({DISMISS_POPUPS_JS})();
  return open;
}}
"""


class ProductEditor:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page
        self.images = ImageEditor(helper)

    # --- drawer ---
    @property
    def drawer(self) -> Locator:
        return self.page.locator(S.EDIT_DRAWER).first

    def content(self, selector: str) -> Locator:
        """Visible elements of the current tab's content (anywhere in the drawer, outside the tab bar)."""
        return self.drawer.locator(selector + S.VISIBLE)

    def is_open(self) -> bool:
        return self.drawer.is_visible()

    def open(self, row: Locator) -> None:
        """Open the edit drawer by clicking the product's name in its row."""
        name = row.locator(S.ROW_NAME).first
        self.h.act(lambda: self.h.click(name), method="GET")
        self.h.wait_js(DRAWER_SHOWN_JS)

    def close(self) -> None:
        """ESC closes the top layer only (a popup, the bulk drawer, then the product drawer): repeat."""
        for attempt in range(6):
            open_now = int(self.page.evaluate(_COUNT_THEN_DISMISS_JS))  # popups dismissed if any is open
            if open_now == 0:
                return
            if attempt >= 3:  # ESC ignored: the close icon of the top drawer
                self.page.locator(S.DRAWER).last.locator(S.DRAWER_CLOSE_ICON).first.click()
            else:
                self.h.press_escape()
            try:
                self.h.wait_js(_FEWER_DRAWERS_JS, open_now, timeout_ms=SHORT_TIMEOUT_MS)
            except PlaywrightTimeout:
                continue
        if self._visible_drawers():
            raise Transient("the edit drawer did not close")

    def _visible_drawers(self) -> int:
        return int(self.page.evaluate(_COUNT_DRAWERS_JS))

    def switch_tab(self, key: int) -> None:
        """Tab `key` active and ready: one read when it already is, else its click and one wait."""
        state = self._state(key)["tab"]
        if state["activeShown"] and state["ready"]:
            return
        if not state["active"]:
            self.h.click(self.page.locator(S.tab(key)).first.locator(S.TAB_BUTTON).first)
        self.h.wait_js(TAB_READY_JS, key)

    def _on_tab(self, key: int) -> None:
        """The product drawer on tab `key`, the bulk drawer closed: one read when it already is."""
        state = self._state(key)
        tab = state["tab"]
        if state["bulk"]:
            self.close_bulk()
        if state["bulk"] or not (tab["activeShown"] and tab["ready"]):
            self.switch_tab(key)

    def _state(self, key: int | None = None, count: str | None = None) -> dict:
        """The drawer in one read (see dom_reads.DRAWER_STATE_JS)."""
        return dict(self.page.evaluate(DRAWER_STATE_JS, {"key": key, "count": count}))

    # --- counts ---
    def _count(self, kind: str) -> int:
        """The count `kind` ("image" in the bulk drawer, "thumb" in the product drawer) once it shows."""
        shown = self.h.wait_js(COUNT_SHOWN_JS, kind)
        return int(shown["n"])  # type: ignore[index]

    def _wait_count(self, kind: str, want: int) -> None:
        """The count `kind` ("image", "thumb") shows `want`."""
        self.h.wait_js(COUNT_IS_JS, [kind, want])

    # --- detail images: 상세페이지 → 일괄 편집 drawer ---
    @property
    def bulk(self) -> Locator:
        return self.page.locator(S.BULK_DRAWER).first

    def open_bulk(self) -> None:
        if self.bulk.is_visible():
            return
        self.switch_tab(S.TAB_KEYS["detail"])
        self.h.click(self.content(S.BULK_EDIT_BUTTON).first)
        self.h.wait_js(BULK_READY_JS)  # shown, with its image count

    def close_bulk(self) -> None:
        for _ in range(4):
            if not self.bulk.is_visible():
                return
            self.h.dismiss_popups()
            self.h.press_escape()
            try:
                self.h.wait_js(BULK_HIDDEN_JS, timeout_ms=SHORT_TIMEOUT_MS)
            except PlaywrightTimeout:
                continue
        if self.bulk.is_visible():
            raise Transient("the image bulk-edit drawer did not close")

    def detail_count(self) -> int:
        state = self._state(count="image")
        if state["bulk"] and state["count"] is not None:
            return int(state["count"])
        self.open_bulk()
        return self._count("image")

    def delete_detail(self, position: int) -> None:
        """Delete the detail image at 1-based `position` and wait for the count to drop by one."""
        before = self.detail_count()
        self._check_position(position, before, "detail image")
        card = self.bulk.locator(S.CARD).nth(position - 1)
        self.h.act(lambda: self.h.click(card.locator(S.CARD_DELETE).first), method="POST")
        self._wait_count("image", before - 1)

    # --- thumbnails: 썸네일 tab ---
    def thumbnail_count(self) -> int:
        key = S.TAB_KEYS["thumbnails"]
        state = self._state(key, "thumb")
        tab = state["tab"]
        if not state["bulk"] and tab["activeShown"] and tab["ready"] and state["count"] is not None:
            return int(state["count"])
        self._on_tab(key)
        return self._count("thumb")

    def delete_thumbnail(self, position: int) -> None:
        before = self.thumbnail_count()
        self._check_position(position, before, "thumbnail")
        card = self.content(S.CARD).nth(position - 1)
        self.h.act(lambda: self.h.click(card.locator(S.CARD_DELETE).first), method="POST")
        self._wait_count("thumb", before - 1)

    # --- options: 옵션 tab ---
    def _option_images(self) -> Locator:
        return self.content(S.OPTION_ITEM).filter(has=self.page.locator(S.OPTION_COPY))

    def option_count(self) -> int:
        """Options that carry an image (the ones `copy:N` and option translation work on)."""
        self._on_tab(S.TAB_KEYS["options"])
        return self._option_images().count()

    def copy_option_to_thumbnail(self, index: int) -> None:
        """`썸네일로 복사` on the option image at 1-based `index`; waits for the thumbnail count to grow."""
        before = self.thumbnail_count()
        available = self.option_count()
        self._check_position(index, available, "option image")
        item = self._option_images().nth(index - 1)
        self.h.act(lambda: self.h.click(item.locator(S.OPTION_COPY).first), method="POST")
        self.switch_tab(S.TAB_KEYS["thumbnails"])
        self._wait_count("thumb", before + 1)

    # --- translation ---
    def image_count(self, target: str) -> int:
        if target == DETAIL:
            return self.detail_count()
        if target == THUMBNAIL:
            return self.thumbnail_count()
        return self.option_count()

    @contextmanager
    def image_in_editor(self, target: str, position: int) -> Iterator[ShownImage]:
        """The image editor opened on image `position` (1-based) of `target` from its own card's edit
        button, checked to show it; closed again with 수정사항 저장."""
        self._check_position(position, self.image_count(target), f"{target} image")
        self.images.open(lambda: self._editor_opener(target, position), position - 1)
        try:
            yield ShownImage(self.images, position - 1)
        finally:
            self.images.close()

    def translate(self, target: str, positions: list[int]) -> int:
        """Press 원클릭 이미지 번역 on every image at `positions` (no gate); returns how many were pressed."""
        for position in positions:
            with self.image_in_editor(target, position) as shown:
                shown.press()
        return len(positions)

    def _editor_opener(self, target: str, position: int) -> Locator:
        if target == DETAIL:
            self.open_bulk()
            return self.bulk.locator(S.CARD).nth(position - 1).locator(S.CARD_EDIT).first
        if target == THUMBNAIL:
            self._on_tab(S.TAB_KEYS["thumbnails"])
            return self.content(S.CARD).nth(position - 1).locator(S.CARD_EDIT).first
        self._on_tab(S.TAB_KEYS["options"])
        items = self.content(S.OPTION_ITEM).filter(has=self.page.locator(S.OPTION_EDIT))
        return items.nth(position - 1).locator(S.OPTION_EDIT).first

    # --- detail HTML (CKEditor) ---
    def detail_html(self) -> str:
        self._on_tab(S.TAB_KEYS["detail"])
        editable = self.content(S.CK_EDITABLE).first
        editable.wait_for(state="visible")
        return editable.inner_html()

    def insert_source(self, html: str, *, at_start: bool) -> None:
        """Type `html` in CKEditor's source mode (소스), at its start (where the caret is when the mode
        opens) or at its end, and leave the mode, which commits the change."""
        self._on_tab(S.TAB_KEYS["detail"])
        source = self.content(S.CK_SOURCE_BUTTON).first
        self.h.click(source)
        textarea = self.content(S.CK_SOURCE_TEXTAREA).first
        textarea.wait_for(state="visible")
        textarea.focus()
        textarea.press("Control+Home" if at_start else "Control+End")
        self.page.keyboard.insert_text(html)
        for attempt in range(1, ACT_ATTEMPTS + 1):
            self.h.click(source)
            try:  # leaving the mode commits; a site that could not save keeps the text in source mode
                self.content(S.CK_EDITABLE).first.wait_for(state="visible", timeout=SHORT_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                log.info("CKEditor stayed in source mode (attempt %d); pressing 소스 again", attempt)
        raise Transient("CKEditor did not leave source mode")

    @staticmethod
    def _check_position(position: int, count: int, what: str) -> None:
        if position < 1 or position > count:
            raise Permanent(f"{what} {position} asked but the product has {count}")
