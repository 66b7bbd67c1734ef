"""등록 상품 관리: menu, group filter, page size, search, totals, rows, selection, per-row group select."""

from __future__ import annotations

import logging

from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import Permanent, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import SHORT_TIMEOUT_MS, PageHelper
from stepbatch.workbook.groups import ALL_GROUPS, GROUP_NAMES, NO_GROUP

_GROUP_LABELS = [ALL_GROUPS, NO_GROUP, *GROUP_NAMES]

# Which header select shows a group label: found by what it shows, never by its position.
_GROUP_FILTER_INDEX_JS = f"""
(labels) => {{
  const selects = [...document.querySelectorAll({S.HEADER_SELECT!r})];
  return selects.findIndex(s => {{
    const item = s.querySelector({S.SELECT_SELECTION_ITEM!r});
    return !!item && labels.includes((item.getAttribute('title') || item.textContent).trim());
  }});
}}
"""

log = logging.getLogger(__name__)
PICK_ATTEMPTS = 3

# The list is settled for `code` when nothing spins, the total is shown and every row matches the code.
# True on the sign-in page too, so that the session check after the wait fails at once.
_RESULTS_FOR_JS = f"""
(code) => {{
  if (location.pathname.replace(/\\/$/, '').endsWith('{S.SIGNIN_PATH}')) return true;
  if (document.querySelector({S.SPINNING!r})) return false;
  const totalRe = new RegExp({S.TOTAL_JS_PATTERN!r});
  const total = [...document.querySelectorAll('span')].some(s => totalRe.test(s.textContent));
  if (!total) return false;
  const rows = [...document.querySelectorAll({S.ROWS!r})];
  if (rows.length === 0) return !!document.querySelector({S.EMPTY_PLACEHOLDER!r});
  return rows.every(r => r.textContent.includes(code));
}}
"""

# The rows' keys once the list is settled for `code` (as `_RESULTS_FOR_JS`); `{ids: []}` on the sign-in page.
_SETTLED_IDS_JS = f"""
(code) => {{
  if (!({_RESULTS_FOR_JS})(code)) return null;
  return {{ids: [...document.querySelectorAll({S.ROWS!r})].map(r => r.getAttribute('data-row-key'))}};
}}
"""

_TOTAL_JS = f"""
() => {{
  const totalRe = new RegExp({S.TOTAL_JS_PATTERN!r});
  for (const s of document.querySelectorAll('span')) {{
    const m = totalRe.exec(s.textContent);
    if (m) return parseInt(m[1].replace(/,/g, ''), 10);
  }}
  return null;
}}
"""

_ROW_IDS_JS = f"() => [...document.querySelectorAll({S.ROWS!r})].map(r => r.getAttribute('data-row-key'))"

# Scroll the open dropdown's virtual list one screen down; returns false at the bottom.
_SCROLL_HOLDER_JS = f"""
() => {{
  const dd = document.querySelector({S.OPEN_DROPDOWN!r});
  const holder = dd && dd.querySelector({S.VIRTUAL_LIST_HOLDER!r});
  if (!holder) return false;
  const before = holder.scrollTop;
  holder.scrollTop = before + Math.max(holder.clientHeight - 8, 16);
  holder.dispatchEvent(new Event('scroll'));
  return holder.scrollTop > before;
}}
"""


# Is the option really what a click at its centre would hit (not clipped or covered)?
_HIT_JS = f"""
(el) => {{
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit) return false;
  return hit === el || el.contains(hit) || (hit.contains(el) && hit.matches({S.DROPDOWN_OPTION!r}));
}}
"""
_ACTIVE_LABEL_JS = """
(input) => {
  const id = input.getAttribute('aria-activedescendant');
  const el = id && document.getElementById(id);
  return el ? el.getAttribute('aria-label') : null;
}
"""


class ProductList:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page

    # --- navigation ---
    def is_open(self) -> bool:
        return self.page.locator(S.SEARCH_INPUT).first.is_visible()

    def open(self) -> None:
        """Go to 등록 상품 관리 through the left menu (expanding 상품 관리 when it is folded)."""
        self.h.check_session()
        item = self.page.locator(S.menu_item(S.MENU_PRODUCT_MANAGE_TEXT)).first
        if not item.is_visible():
            parent = self.page.locator(S.SUBMENU_TITLE).filter(has_text=S.MENU_PRODUCT_PARENT_TEXT).first
            self.h.click(parent)
            item.wait_for(state="visible")
        self.h.click(item)
        self.page.locator(S.SEARCH_INPUT).first.wait_for(state="visible")
        self.wait_settled()

    def group_filter(self) -> Locator:
        index = self.h.wait_js(f"(labels) => ({_GROUP_FILTER_INDEX_JS})(labels) + 1", _GROUP_LABELS)
        return self.page.locator(S.HEADER_SELECT).nth(int(index) - 1)

    # --- selects ---
    def _selection_text(self, select: Locator) -> str:
        item = select.locator(S.SELECT_SELECTION_ITEM).first
        return (item.get_attribute("title") or item.inner_text()).strip() if item.count() else ""

    def _pick_in_select(self, select: Locator, option_text: str) -> None:
        """Open a non-searchable select and click the option, scrolling its virtual list to reach it.

        The dropdown can close under the click (seen after a re-login, with popups and lingering modal
        wrappers about): then the choice is checked and, if it did not take, made again from the start.
        """
        for attempt in range(1, PICK_ATTEMPTS + 1):
            if self._selection_text(select) == option_text:
                return
            self.h.clear_overlays()
            self.h.click(select.locator(S.SELECT_SELECTOR).first, real_mouse=True)
            self.page.locator(S.OPEN_DROPDOWN).first.wait_for(state="visible")
            option = self.page.locator(S.option_by_text(option_text)).first
            while not option.is_visible():
                if not self.page.evaluate(_SCROLL_HOLDER_JS):
                    self.h.press_escape()
                    raise Permanent(f"option {option_text!r} not found in the dropdown")
            chosen = select.locator(S.SELECT_SELECTION_ITEM + S.text_is(option_text)).first
            try:
                self._choose(select, option, option_text, method="GET")
                chosen.wait_for(state="visible", timeout=SHORT_TIMEOUT_MS)
                return
            except (Transient, PlaywrightTimeout):
                if attempt == PICK_ATTEMPTS:
                    raise
                log.info("choosing %r in a dropdown did not take (attempt %d); again", option_text, attempt)

    def _choose(self, select: Locator, option: Locator, text: str, *, method: str) -> None:
        """Click the rendered option; when something covers it, walk the list with the keyboard instead
        (ArrowDown until the active option, as announced by aria-activedescendant, is `text`; Enter)."""
        if option.evaluate(_HIT_JS):  # an option that went away is not waited for long: the caller reopens
            self.h.act(
                lambda: self.h.click(option, final_timeout_ms=SHORT_TIMEOUT_MS, real_mouse=True),
                method=method,
            )
            return
        box = select.locator(S.SELECT_SEARCH_INPUT).first
        seen: set[str | None] = set()
        while True:
            label = box.evaluate(_ACTIVE_LABEL_JS)
            if label == text:
                self.h.act(lambda: box.press("Enter"), method=method)
                return
            if label in seen:
                self.h.press_escape()
                raise Permanent(f"option {text!r} cannot be chosen in the dropdown")
            seen.add(label)
            box.press("ArrowDown")

    def select_group(self, group: str) -> None:
        self._pick_in_select(self.group_filter(), group)
        self.wait_settled()

    def set_page_size(self, size: int) -> None:
        self._pick_in_select(
            self.page.locator(S.PAGE_SIZE_SELECT).first, S.PAGE_SIZE_OPTION_TEXT.format(n=size)
        )
        self.wait_settled()

    def current_group(self) -> str:
        return self._selection_text(self.group_filter())

    def current_page_size(self) -> str:
        return self._selection_text(self.page.locator(S.PAGE_SIZE_SELECT).first)

    # --- search and reading ---
    def wait_settled(self) -> None:
        self.h.wait_js(
            f"() => !document.querySelector({S.SPINNING!r}) && (!!document.querySelector("
            f"{S.ROWS!r}) || !!document.querySelector({S.EMPTY_PLACEHOLDER!r}))"
        )

    def search(self, code: str) -> int:
        """Search the product name for `code`, wait for its results, return the site's total."""
        box = self.page.locator(S.SEARCH_INPUT).first
        box.fill(code)
        self.h.act(lambda: box.press("Enter"), method="GET")
        self.wait_results(code)
        return self.total()

    def wait_results(self, code: str) -> None:
        self.h.check_session()
        self.h.wait_js(_RESULTS_FOR_JS, code)
        self.h.check_session()

    def results_row_ids(self, code: str) -> list[str]:
        """`wait_results(code)`, then `row_ids()`, in one wait."""
        self.h.check_session()
        shown = self.h.wait_js(_SETTLED_IDS_JS, code)
        self.h.check_session()
        return list(shown["ids"])  # type: ignore[index]

    def total(self) -> int:
        value = self.page.evaluate(_TOTAL_JS)
        if value is None:
            raise Transient("product total (총 N개 상품) not shown")
        return int(value)

    def row_ids(self) -> list[str]:
        return list(self.page.evaluate(_ROW_IDS_JS))

    def row(self, item_id: str) -> Locator:
        return self.page.locator(S.row_by_key(item_id))

    def has_next_page(self) -> bool:
        nxt = self.page.locator(S.PAGINATION_NEXT).first
        if not nxt.count() or not nxt.is_visible():
            return False
        return S.PAGINATION_DISABLED_CLASS not in (nxt.get_attribute("class") or "").split()

    def next_page(self) -> None:
        before = self.row_ids()
        self.h.act(lambda: self.h.click(self.page.locator(S.PAGINATION_NEXT).first), method="GET")
        self.h.wait_js(
            f"(before) => {{ const ids = [...document.querySelectorAll({S.ROWS!r})]"
            ".map(r => r.getAttribute('data-row-key'));"
            " return ids.join() !== before.join(); }",
            before,
        )

    def wait_row_gone(self, item_id: str, timeout_ms: int | None = None) -> bool:
        try:
            self.h.wait_css(S.row_by_key(item_id), "detached", timeout_ms=timeout_ms)
            return True
        except PlaywrightTimeout:
            return False

    # --- selection ---
    def select_all(self) -> int:
        """Tick the header checkbox through its label (the input itself is hidden); returns rows selected."""
        label = self.page.locator(S.SELECT_ALL_LABEL).first
        self.h.click(label)
        self.h.wait_js(
            f"() => {{ const rows = document.querySelectorAll({S.ROWS!r});"
            " return rows.length > 0"
            f" && [...rows].every(r => r.classList.contains({S.ROW_SELECTED_CLASS!r})); }}"
        )
        return len(self.row_ids())

    def select_row(self, item_id: str) -> None:
        row = self.row(item_id)
        if S.ROW_SELECTED_CLASS in (row.get_attribute("class") or ""):
            return
        self.h.click(row.locator(S.ROW_CHECKBOX_LABEL).first)
        self.h.wait_js(
            f"(sel) => {{ const r = document.querySelector(sel);"
            f" return !!r && r.classList.contains({S.ROW_SELECTED_CLASS!r}); }}",
            S.row_by_key(item_id),
        )

    # --- per-row group select (§5) ---
    def move_row_via_select(self, item_id: str, group: str) -> None:
        """Type the group into the row's searchable select and pick the exact option."""
        self.wait_settled()
        row = self.row(item_id)
        select = row.locator(S.ROW_GROUP_SELECT).first
        self.h.click(select.locator(S.SELECT_SELECTOR).first, real_mouse=True)
        search = select.locator(S.SELECT_SEARCH_INPUT).first
        search.fill(group)
        option = self.page.locator(S.option_by_text(group)).first
        try:
            option.wait_for(state="visible", timeout=SHORT_TIMEOUT_MS * 2)
        except PlaywrightTimeout as exc:
            self.h.press_escape()
            raise Permanent(f"group {group!r} is not offered by the row's group select") from exc
        self._choose(select, option, group, method="POST")
