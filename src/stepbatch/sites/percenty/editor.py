"""The product edit drawer: tabs, image bulk-edit drawer, thumbnails, options, translation, HTML insert."""

from __future__ import annotations

import json
import logging
import re

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import Permanent, StopAccount, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import SHORT_TIMEOUT_MS, PageHelper

log = logging.getLogger(__name__)

DETAIL, THUMBNAIL, OPTION = "detail", "thumbnail", "option"

# Watches the translate button and the message area from before the click, so a busy state or a
# notice that comes and goes between two polls is still seen.
_WATCH_TRANSLATE_JS = f"""
() => {{
  const w = {{sawLoading: false, notices: []}};
  window.__sbTranslate = w;
  const seen = new WeakSet();
  const scan = () => {{
    for (const b of document.querySelectorAll('button.' + {S.BUTTON_LOADING_CLASS!r}))
      if (b.textContent.includes({S.TRANSLATE_BUTTON_TEXT!r})) w.sawLoading = true;
    for (const n of document.querySelectorAll({S.MESSAGE_NOTICE_ANY!r}))
      if (!seen.has(n)) {{ seen.add(n); w.notices.push(n.textContent.trim()); }}
  }};
  w.observer = new MutationObserver(scan);
  w.observer.observe(document.body, {{subtree: true, childList: true, attributes: true,
                                     attributeFilter: ['class']}});
  w.scan = scan;
  for (const n of document.querySelectorAll({S.MESSAGE_NOTICE_ANY!r})) seen.add(n);
}}
"""

_TRANSLATE_OUTCOMES = [S.NO_TEXT_NOTICE, S.CREDITS_EXHAUSTED_NOTICE, S.TRANSLATED_NOTICE]
_TRANSLATE_FINISHED_JS = f"""
() => {{
  const w = window.__sbTranslate; if (!w) return 'lost';
  w.scan();
  const busy = [...document.querySelectorAll('button.' + {S.BUTTON_LOADING_CLASS!r})]
    .some(b => b.textContent.includes({S.TRANSLATE_BUTTON_TEXT!r}));
  const known = {json.dumps(_TRANSLATE_OUTCOMES, ensure_ascii=False)};
  const notice = w.notices.find(t => known.some(k => t.includes(k)));
  if (notice) {{ w.observer.disconnect(); return notice; }}
  if (w.sawLoading && !busy) {{ w.observer.disconnect(); return 'translated'; }}
  return false;
}}
"""


_COUNT_DRAWERS_JS = f"""
() => [...document.querySelectorAll({S.DRAWER!r})]
  .filter(d => d.getClientRects().length > 0).length
"""
_FEWER_DRAWERS_JS = f"(n) => ({_COUNT_DRAWERS_JS})() < n"


# The 0-based index of the image the editor shows (its thumbnail strip marks it `selected`), or -1.
_EDITOR_INDEX_JS = f"""
() => [...document.querySelectorAll({S.EDITOR_THUMB!r})]
  .findIndex(t => t.classList.contains('selected'))
"""
_EDITOR_AT_JS = f"(index) => ({_EDITOR_INDEX_JS})() === index"


class ProductEditor:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page

    # --- drawer ---
    @property
    def drawer(self) -> Locator:
        return self.page.locator(S.EDIT_DRAWER).first

    def is_open(self) -> bool:
        return self.drawer.is_visible()

    def open(self, row: Locator) -> None:
        """Open the edit drawer by clicking the product's name/info area of its row."""
        name = row.locator(S.ROW_NAME).first
        target = name if name.count() else row.locator("td").nth(1)
        self.h.act(lambda: self.h.click(target), method="GET")
        self.drawer.wait_for(state="visible")

    def close(self) -> None:
        """ESC closes the top layer only (a popup, the bulk drawer, then the product drawer): repeat."""
        for attempt in range(6):
            open_now = self._visible_drawers()
            if open_now == 0:
                return
            self.h.dismiss_popups()
            if attempt >= 3:  # ESC ignored: the close icon of the top drawer
                self.page.locator(f"{S.DRAWER} {S.DRAWER_CLOSE_ICON}").last.click()
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
        tab = self.page.locator(S.tab(key)).first
        if S.TAB_ACTIVE_CLASS not in (tab.get_attribute("class") or "").split():
            self.h.click(tab.locator(S.TAB_BUTTON).first)
        self.page.locator(f"{S.tab(key)}.{S.TAB_ACTIVE_CLASS}").first.wait_for(state="visible")
        ready = S.TAB_READY_BUTTON.get(key)
        if ready:
            self.active_panel.locator(f"button:has-text({ready!r})").first.wait_for(state="visible")

    @property
    def active_panel(self) -> Locator:
        return self.drawer.locator(S.ACTIVE_TAB_PANEL).first

    # --- counts ---
    def _count(self, scope: Locator, text_selector: str, pattern: re.Pattern[str]) -> int:
        node = scope.locator(text_selector).first
        node.wait_for(state="visible")
        value = S.parse_int(pattern, node.inner_text())
        if value is None:
            raise Transient(f"could not read the count from {node.inner_text()!r}")
        return value

    def _wait_count(self, scope: Locator, text_selector: str, pattern: re.Pattern[str], want: int) -> None:
        regex = pattern.pattern.replace("([0-9,]+)", str(want))
        scope.locator(text_selector).filter(has_text=re.compile(regex)).first.wait_for(state="visible")

    # --- detail images: 상세페이지 → 일괄 편집 drawer ---
    @property
    def bulk(self) -> Locator:
        return self.page.locator(S.BULK_DRAWER).first

    def open_bulk(self) -> None:
        if self.bulk.is_visible():
            return
        self.switch_tab(S.TAB_KEYS["detail"])
        self.h.click(self.active_panel.locator(S.BULK_EDIT_BUTTON).first)
        self.bulk.wait_for(state="visible")
        self.bulk.locator(S.IMAGE_COUNT_TEXT).first.wait_for(state="visible")

    def close_bulk(self) -> None:
        for _ in range(4):
            if not self.bulk.is_visible():
                return
            self.h.dismiss_popups()
            self.h.press_escape()
            try:
                self.bulk.wait_for(state="hidden", timeout=SHORT_TIMEOUT_MS)
            except PlaywrightTimeout:
                continue
        if self.bulk.is_visible():
            raise Transient("the image bulk-edit drawer did not close")

    def detail_count(self) -> int:
        self.open_bulk()
        return self._count(self.bulk, S.IMAGE_COUNT_TEXT, S.IMAGE_COUNT_RE)

    def delete_detail(self, position: int) -> None:
        """Delete the detail image at 1-based `position` and wait for the count to drop by one."""
        before = self.detail_count()
        self._check_position(position, before, "detail image")
        card = self.bulk.locator(S.CARD).nth(position - 1)
        self.h.act(lambda: self.h.click(card.locator(S.CARD_DELETE).first), method="POST")
        self._wait_count(self.bulk, S.IMAGE_COUNT_TEXT, S.IMAGE_COUNT_RE, before - 1)

    # --- thumbnails: 썸네일 tab ---
    def thumbnail_count(self) -> int:
        self.close_bulk()
        self.switch_tab(S.TAB_KEYS["thumbnails"])
        return self._count(self.active_panel, S.THUMB_COUNT_TEXT, S.THUMB_COUNT_RE)

    def delete_thumbnail(self, position: int) -> None:
        before = self.thumbnail_count()
        self._check_position(position, before, "thumbnail")
        target = self.active_panel.locator(S.CARD_DELETE).nth(position - 1)
        self.h.act(lambda: self.h.click(target), method="POST")
        self._wait_count(self.active_panel, S.THUMB_COUNT_TEXT, S.THUMB_COUNT_RE, before - 1)

    # --- options: 옵션 tab ---
    def option_count(self) -> int:
        """Options that carry an image (the ones `copy:N` and option translation work on)."""
        self.close_bulk()
        self.switch_tab(S.TAB_KEYS["options"])
        return self.active_panel.locator(S.OPTION_ITEM).filter(has=self.page.locator(S.OPTION_COPY)).count()

    def copy_option_to_thumbnail(self, index: int) -> None:
        """`썸네일로 복사` on the option image at 1-based `index`; waits for the thumbnail count to grow."""
        before = self.thumbnail_count()
        available = self.option_count()
        self._check_position(index, available, "option image")
        item = (
            self.active_panel.locator(S.OPTION_ITEM)
            .filter(has=self.page.locator(S.OPTION_COPY))
            .nth(index - 1)
        )
        self.h.act(lambda: self.h.click(item.locator(S.OPTION_COPY).first), method="POST")
        self.switch_tab(S.TAB_KEYS["thumbnails"])
        self._wait_count(self.active_panel, S.THUMB_COUNT_TEXT, S.THUMB_COUNT_RE, before + 1)

    # --- translation ---
    def image_count(self, target: str) -> int:
        if target == DETAIL:
            return self.detail_count()
        if target == THUMBNAIL:
            return self.thumbnail_count()
        return self.option_count()

    def translate(self, target: str, positions: list[int]) -> int:
        """Run 원클릭 이미지 번역 on the images at `positions` (1-based, ascending); returns how many changed.

        The image editor is opened once, on the first image; TAB moves it to the next one. An image
        without Chinese text (or already translated) is left as is; exhausted credits → StopAccount.
        """
        if not positions:
            return 0
        self.h.click(self._editor_opener(target, positions[0]))
        button = self.page.locator(S.TRANSLATE_BUTTON).last
        button.wait_for(state="visible")
        by_click = self.h.is_clickable(button)
        changed = 0
        try:
            for position in positions:
                self._editor_to(position - 1)
                changed += self._translate_current(button, by_click)
        finally:
            self._close_image_editor()
        return changed

    def _editor_to(self, index: int) -> None:
        """Show the image at 0-based `index`, one TAB (the editor's next-image key) at a time, checking
        where the editor is after each: a key that a popup took (the site may open one after any action)
        is pressed again, an overshoot goes back with HOME."""
        for _ in range(index + 6):
            at = int(self.page.evaluate(_EDITOR_INDEX_JS))
            if at == index:
                return
            self.h.dismiss_popups()
            key, expected = ("Tab", at + 1) if 0 <= at < index else ("Home", 0)
            self.page.keyboard.press(key)
            try:
                self.h.wait_js(_EDITOR_AT_JS, expected, timeout_ms=SHORT_TIMEOUT_MS)
            except PlaywrightTimeout:
                continue
        raise Transient(f"the image editor did not move to image {index + 1}")

    def _translate_current(self, button: Locator, by_click: bool) -> int:
        def press_translate() -> None:
            self.page.evaluate(_WATCH_TRANSLATE_JS)  # per attempt: a 5xx notice must not count as a result
            if by_click:
                self.h.click(button)
            else:  # the editor's own shortcut, for when another layer covers its toolbar
                self.page.keyboard.press("t")

        self.h.act(press_translate, method="POST")
        outcome = str(self.h.wait_js(_TRANSLATE_FINISHED_JS, timeout_ms=max(self.h.timeout_ms, 60_000)))
        if S.CREDITS_EXHAUSTED_NOTICE in outcome:
            raise StopAccount(f"translation credits exhausted ({S.CREDITS_EXHAUSTED_NOTICE})")
        if S.NO_TEXT_NOTICE in outcome:
            return 0
        return 1

    def _editor_opener(self, target: str, position: int) -> Locator:
        if target == DETAIL:
            count = self.detail_count()
            self._check_position(position, count, "detail image")
            return self.bulk.locator(S.CARD).nth(position - 1).locator(S.CARD_EDIT).first
        if target == THUMBNAIL:
            count = self.thumbnail_count()
            self._check_position(position, count, "thumbnail")
            return self.active_panel.locator(S.CARD_EDIT).nth(position - 1)
        count = self.option_count()
        self._check_position(position, count, "option image")
        items = self.active_panel.locator(S.OPTION_ITEM).filter(has=self.page.locator(S.OPTION_EDIT))
        return items.nth(position - 1).locator(S.OPTION_EDIT).first

    def _close_image_editor(self) -> None:
        button = self.page.locator(S.TRANSLATE_BUTTON).last
        save = self.page.locator(S.EDITOR_SAVE).last
        for _ in range(3):
            if not button.is_visible():
                return
            self.h.dismiss_popups()
            if save.count() and self.h.is_clickable(save):
                self.h.click(save)
            else:
                self.h.press_escape()
            try:
                button.wait_for(state="hidden", timeout=SHORT_TIMEOUT_MS)
            except PlaywrightTimeout:
                continue
        button.wait_for(state="hidden")

    # --- detail HTML (CKEditor) ---
    def detail_html(self) -> str:
        self.close_bulk()
        self.switch_tab(S.TAB_KEYS["detail"])
        editable = self.active_panel.locator(S.CK_EDITABLE).first
        editable.wait_for(state="visible")
        return editable.inner_html()

    def insert_html(self, html: str) -> None:
        """Insert raw HTML through the toolbar's `HTML 삽입` (raw-html-embed widget)."""
        self.close_bulk()
        self.switch_tab(S.TAB_KEYS["detail"])
        panel = self.active_panel
        widgets = panel.locator(S.CK_HTML_EMBED_SOURCE)
        before = widgets.count()
        self.h.click(panel.locator(S.CK_HTML_EMBED_BUTTON).first)
        self.h.wait_js(
            "([sel, n]) => document.querySelectorAll(sel).length > n", [S.CK_HTML_EMBED_SOURCE, before]
        )
        source = widgets.nth(before)
        source.fill(html)
        save = panel.locator(S.CK_HTML_EMBED_SAVE).nth(before)
        self.h.act(lambda: self.h.click(save), method="POST")

    @staticmethod
    def _check_position(position: int, count: int, what: str) -> None:
        if position < 1 or position > count:
            raise Permanent(f"{what} {position} asked but the product has {count}")
