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
from stepbatch.sites.percenty.base import ACT_ATTEMPTS, SHORT_TIMEOUT_MS, PageHelper
from stepbatch.sites.percenty.dom_overlays import DISMISS_POPUPS_JS
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
_FEWER_DRAWERS_JS = f"(n) => {{ const now = ({_COUNT_DRAWERS_JS})(); return now < n ? {{now}} : null; }}"
_COUNT_THEN_DISMISS_JS = f"""
() => {{
  const open = ({_COUNT_DRAWERS_JS})();
  if (open) ({DISMISS_POPUPS_JS})();
  return open;
}}
"""
_BULK_SHOWN_THEN_DISMISS_JS = f"""
() => {{
  const shown = !({BULK_HIDDEN_JS})();
  if (shown) ({DISMISS_POPUPS_JS})();
  return shown;
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
        self.h.act_until(row.locator(S.ROW_NAME).first, DRAWER_SHOWN_JS, method="GET")

    def close(self) -> None:
        """ESC closes the top layer only (a popup, the bulk drawer, then the product drawer): repeat."""
        open_now = int(self.page.evaluate(_COUNT_THEN_DISMISS_JS))  # popups dismissed if any is open
        for attempt in range(6):
            if open_now == 0:
                return
            if attempt >= 3:  # ESC ignored: the close icon of the top drawer
                self.page.locator(S.DRAWER).last.locator(S.DRAWER_CLOSE_ICON).first.click()
            else:
                self.h.press_escape()
            try:
                fewer = self.h.wait_js(_FEWER_DRAWERS_JS, open_now, timeout_ms=SHORT_TIMEOUT_MS)
                open_now = int(fewer["now"])  # type: ignore[index]
            except PlaywrightTimeout:
                open_now = int(self.page.evaluate(_COUNT_THEN_DISMISS_JS))
        if self._visible_drawers():
            raise Transient("the edit drawer did not close")

    def _visible_drawers(self) -> int:
        return int(self.page.evaluate(_COUNT_DRAWERS_JS))

    def switch_tab(self, key: int, tab: dict | None = None) -> None:
        """Tab `key` active and ready: one read when it already is (or `tab`, its state just read), else
        its click and the wait for it, in one call."""
        tab = tab or self._state(key)["tab"]
        if tab["activeShown"] and tab["ready"]:
            return
        if tab["active"]:
            self.h.wait_js(TAB_READY_JS, key)
            return
        self.h.click_until(self.page.locator(S.tab(key)).first.locator(S.TAB_BUTTON).first, TAB_READY_JS, key)

    def _on_tab(self, key: int, state: dict | None = None) -> None:
        """The product drawer on tab `key`, the bulk drawer closed: one read when it already is (none
        with `state`, the drawer just read for `key`). Closing the bulk drawer leaves the tab as it was."""
        state = state or self._state(key)
        if state["bulk"]:
            self.close_bulk(shown=True)
        self.switch_tab(key, state["tab"])

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

    def open_bulk(self, state: dict | None = None) -> int | None:
        """The bulk drawer open (`state`: the drawer just read for the detail tab); returns its image
        count when it had to be opened (the wait for the drawer reads it)."""
        key = S.TAB_KEYS["detail"]
        state = state or self._state(key)
        if state["bulk"]:
            return None
        self.switch_tab(key, state["tab"])
        ready = self.h.click_until(self.content(S.BULK_EDIT_BUTTON).first, BULK_READY_JS)
        return int(ready["n"])  # type: ignore[index]

    def close_bulk(self, *, shown: bool | None = None) -> None:
        """ESC until the bulk drawer is hidden (`shown`: whether it is, just read; popups dismissed
        whenever a press did not close it)."""
        if shown is None:
            shown = bool(self.page.evaluate(_BULK_SHOWN_THEN_DISMISS_JS))
        for _ in range(4):
            if not shown:
                return
            self.h.press_escape()
            try:
                self.h.wait_js(BULK_HIDDEN_JS, timeout_ms=SHORT_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                shown = bool(self.page.evaluate(_BULK_SHOWN_THEN_DISMISS_JS))
        if shown:
            raise Transient("the image bulk-edit drawer did not close")

    def detail_count(self) -> int:
        state = self._state(S.TAB_KEYS["detail"], count="image")
        if state["bulk"] and state["count"] is not None:
            return int(state["count"])
        opened = self.open_bulk(state)
        return opened if opened is not None else self._count("image")

    def delete_detail(self, position: int, count: int | None = None) -> None:
        """Delete the detail image at 1-based `position` and wait for the count to drop by one (`count`:
        the count the bulk drawer shows, just read or waited for; read here when None)."""
        before = self.detail_count() if count is None else count
        self._check_position(position, before, "detail image")
        card = self.bulk.locator(S.CARD).nth(position - 1)
        self.h.act_until(card.locator(S.CARD_DELETE).first, COUNT_IS_JS, ["image", before - 1], method="POST")

    # --- thumbnails: 썸네일 tab ---
    def thumbnail_count(self) -> int:
        key = S.TAB_KEYS["thumbnails"]
        state = self._state(key, "thumb")
        tab = state["tab"]
        if not state["bulk"] and tab["activeShown"] and tab["ready"] and state["count"] is not None:
            return int(state["count"])
        self._on_tab(key, state)
        return self._count("thumb")

    def delete_thumbnail(self, position: int, count: int | None = None) -> None:
        before = self.thumbnail_count() if count is None else count
        self._check_position(position, before, "thumbnail")
        card = self.content(S.CARD).nth(position - 1)
        self.h.act_until(card.locator(S.CARD_DELETE).first, COUNT_IS_JS, ["thumb", before - 1], method="POST")

    # --- options: 옵션 tab ---
    def _option_images(self) -> Locator:
        return self.content(S.OPTION_ITEM).filter(has=self.page.locator(S.OPTION_COPY))

    def option_count(self) -> int:
        """Options that carry an image (the ones `copy:N` and option translation work on)."""
        self._on_tab(S.TAB_KEYS["options"])
        return self._option_images().count()

    def copy_option_to_thumbnail(self, index: int, thumbnails: int | None = None) -> int:
        """`썸네일로 복사` on the option image at 1-based `index`; waits for the thumbnail count to grow and
        returns it (`thumbnails`: the count before, just read or returned by the copy before; read here
        when None)."""
        before = self.thumbnail_count() if thumbnails is None else thumbnails
        available = self.option_count()
        self._check_position(index, available, "option image")
        item = self._option_images().nth(index - 1)
        self.h.act(lambda: self.h.click(item.locator(S.OPTION_COPY).first), method="POST")
        self.switch_tab(S.TAB_KEYS["thumbnails"])
        self._wait_count("thumb", before + 1)
        return before + 1

    # --- translation ---
    def image_count(self, target: str) -> int:
        if target == DETAIL:
            return self.detail_count()
        if target == THUMBNAIL:
            return self.thumbnail_count()
        return self.option_count()

    @contextmanager
    def images_in_editor(self, target: str) -> Iterator[EditorVisit]:
        """The image editor over `target`'s images, opened at the first one shown and closed once at the
        end with 수정사항 저장 (production scanned and pressed a list's images in one editor)."""
        visit = EditorVisit(self, target)
        try:
            yield visit
        finally:
            visit.close()

    def translate(self, target: str, positions: list[int]) -> int:
        """Press 원클릭 이미지 번역 on every image at `positions` (no gate); returns how many were pressed."""
        with self.images_in_editor(target) as visit:
            for position in positions:
                visit.show(position).press()
        return len(positions)

    def _editor_opener(self, target: str, position: int) -> Locator:
        """The edit button of image `position`; `image_count(target)` has just shown its list."""
        if target == DETAIL:
            return self.bulk.locator(S.CARD).nth(position - 1).locator(S.CARD_EDIT).first
        if target == THUMBNAIL:
            return self.content(S.CARD).nth(position - 1).locator(S.CARD_EDIT).first
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


class EditorVisit:
    """One opening of the image editor over a list's images: opened from the card of the first image asked
    for, then moved from image to image, each move checked on the canvas. When the canvas cannot be compared
    with the strip (a move could not be checked), every image is opened from its own card instead."""

    def __init__(self, editor: ProductEditor, target: str) -> None:
        self.editor, self.target = editor, target
        self.images = editor.images
        self.count = 0
        self.at: int | None = None  # the 0-based image the open editor shows; None while closed

    def show(self, position: int) -> ShownImage:
        """The editor showing image `position` (1-based)."""
        index = position - 1
        if self.at is not None and not self.images.comparable:
            self.close()
        if self.at is None:
            self.count = self.editor.image_count(self.target)
            self.editor._check_position(position, self.count, f"{self.target} image")
            src = self.images.open(self.editor._editor_opener(self.target, position), index)
            self.at = index
            return ShownImage(self.images, index, src)
        self.editor._check_position(position, self.count, f"{self.target} image")
        if index != self.at:
            self.images.move(index, self.at)
            self.at = index
        return ShownImage(self.images, index)

    def close(self) -> None:
        if self.at is not None:
            self.at = None
            self.images.close()
