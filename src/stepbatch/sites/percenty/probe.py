"""`stepbatch probe` on Percenty: read-only checks that every element the adapter relies on is still found.

On the first product of one provider code it visits the screens step3 uses and records, per selector, one
`LocatorCheck`: what it should match and what it matched. It opens and closes, never confirms, deletes,
copies, translates, moves, toggles 소스 or saves a change; 수정사항 저장 only closes the image editor after
nothing was changed in it (ESC does not close it on the real site). What depends on a missing element is
recorded as skipped; the walk goes on where it can.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.browser.protocol import BrowserSession
from stepbatch.engine.errors import StepError, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import SHORT_TIMEOUT_MS
from stepbatch.sites.percenty.editor import ProductEditor
from stepbatch.sites.percenty.scrub import Scrubber
from stepbatch.sites.percenty.site import PercentySite
from stepbatch.vision import OcrUnavailable, load_detector
from stepbatch.workbook.models import Account

log = logging.getLogger(__name__)
T = TypeVar("T")

FOUND, MISSING, AMBIGUOUS, SKIPPED, ERROR = "found", "missing", "ambiguous", "skipped", "error"
PROBE_TIMEOUT_MS = 10_000  # the page objects' waits (a missing tab marker costs this once)
CHECK_WAIT_MS = 3_000  # how long a check waits for its element to show
ESCAPE_ATTEMPTS = 2
MAX_CODES = 30  # step3 codes searched for one with products before giving up

_UNSELECTED_JS = f"""
(sel) => {{ const r = document.querySelector(sel);
  return !!r && !r.classList.contains({S.ROW_SELECTED_CLASS!r}); }}
"""


@dataclass
class LocatorCheck:
    """One selector on one screen: how many elements it matched against how many it should."""

    name: str  # the selectors.py constant (`TAB[4]`: S.tab(4)), or the action that failed
    screen: str
    expected: str  # `exactly 1`, `at least 1`, `equal to N`, `a list`, or `-` for an action
    count: int | None
    status: str  # found / missing / ambiguous / skipped / error
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == FOUND

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Want:
    kind: str  # "exactly", "at least" or "equal to"
    n: int = 1

    @property
    def text(self) -> str:
        return f"{self.kind} {self.n}"

    def judge(self, count: int) -> str:
        if count == 0 and self.n > 0:
            return MISSING
        if self.kind == "at least":
            return FOUND if count >= self.n else MISSING
        return FOUND if count == self.n else AMBIGUOUS


ONE, SOME = Want("exactly"), Want("at least")


# The tabs the adapter uses, in the order visited, and what each must show. The thumbnail cards are checked
# against the tab's own count. 소스 is only looked at, never pressed: leaving the source mode commits an edit.
TAB_CHECKS: dict[str, dict[str, Want]] = {
    "options": {"OPTION_ITEM": SOME, "OPTION_COPY": SOME, "OPTION_EDIT": SOME},
    "thumbnails": {},
    "detail": {"BULK_EDIT_BUTTON": ONE, "CK_EDITABLE": ONE, "CK_SOURCE_BUTTON": ONE},
}


def equal_to(n: int | None) -> Want:
    """`equal to n` for a count read from the page; `at least 1` when none could be read (or it is 0)."""
    return Want("equal to", n) if n else SOME


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


class Probe:
    """Walks list → row select → group modal → drawer tabs → bulk drawer → image editor, changing nothing."""

    page: Page
    editor: ProductEditor

    def __init__(self, base_url: str, out_dir: Path, timeout_ms: int = PROBE_TIMEOUT_MS) -> None:
        self.site = PercentySite(base_url, timeout_ms=timeout_ms)
        self.out_dir = Path(out_dir)
        self.checks: list[LocatorCheck] = []
        self.code: str | None = None  # the provider code whose first product was probed
        self.scrub = Scrubber("", "")
        self._skip: str | None = None  # while set, checks are recorded as skipped, for this reason
        self._screens = 0

    # --- recording ---
    def _add(self, name: str, screen: str, want: str, count: int | None, status: str, note: str = "") -> bool:
        self.checks.append(LocatorCheck(name, screen, want, count, status, self.scrub.text(note)))
        return status == FOUND

    def _check(
        self, name: str, screen: str, scope: Page | Locator, selector: str, want: Want, note: str = ""
    ) -> bool:
        """Count the visible matches of `selector` in `scope` and record it. Waits a little for them,
        unless `note` holds the error of an action that already waited for them."""
        if self._skip:
            return self._add(name, screen, want.text, None, SKIPPED, self._skip)
        locator = scope.locator(selector + S.VISIBLE)
        try:
            if not note:
                with suppress(PlaywrightTimeout):  # nothing showed: counted as missing below
                    locator.first.wait_for(state="visible", timeout=CHECK_WAIT_MS)
            count = locator.count()
        except PlaywrightError as exc:
            return self._add(name, screen, want.text, None, ERROR, _first_line(exc))
        return self._add(name, screen, want.text, count, want.judge(count), note)

    def _checks(self, screen: str, scope: Page | Locator, wants: dict[str, Want]) -> dict[str, bool]:
        return {name: self._check(name, screen, scope, getattr(S, name), w) for name, w in wants.items()}

    def _value(self, action: Callable[[], T]) -> tuple[T | None, str]:
        """Run an action: (its result, '') or (None, the first line of its error); never raises."""
        if self._skip:
            return None, SKIPPED
        try:
            return action(), ""
        except (PlaywrightError, StepError) as exc:
            return None, _first_line(exc)

    def _attempt(self, label: str, screen: str, action: Callable[[], object]) -> bool:
        """`_value`, recording a failure as an `error` row named after the action."""
        error = self._value(action)[1]
        if error and error != SKIPPED:
            self._add(label, screen, "-", None, ERROR, error)
        return not error

    def _derived(self, name: str, screen: str, action: Callable[[], T | None], describe: str) -> None:
        """A row for something read rather than counted (the list total, the canvas comparison)."""
        value, error = self._value(action)
        if self._skip:
            self._add(name, screen, "a value", None, SKIPPED, self._skip)
        elif value is None:
            self._add(name, screen, "a value", None, ERROR if error else MISSING, error or "unreadable")
        else:
            self._add(name, screen, "a value", 1, FOUND, describe.format(value))

    @contextmanager
    def _unless(self, ok: bool, reason: str) -> Iterator[None]:
        """Checks inside are recorded as skipped (for `reason`) unless `ok`."""
        if ok or self._skip:
            yield
            return
        self._skip = reason
        try:
            yield
        finally:
            self._skip = None

    def capture(self, slug: str) -> None:
        """`NN-slug.png` (the account's e-mail masked) and sanitized `NN-slug.html` of the page as it is."""
        page = self.site.page
        if self._skip or page is None or page.is_closed():
            return
        self._screens += 1
        stem = self.out_dir / f"{self._screens:02d}-{slug}"
        masks = [page.get_by_text(self.scrub.email)] if self.scrub.email else []
        try:
            page.screenshot(path=str(stem.with_suffix(".png")), mask=masks, timeout=10_000)
            stem.with_suffix(".html").write_text(self.scrub.html(page.content()), encoding="utf-8")
        except PlaywrightError as exc:
            log.warning("saving the %s screen failed: %s", slug, _first_line(exc))

    # --- the walk ---
    def run(self, browser: BrowserSession, account: Account, codes: list[str]) -> list[LocatorCheck]:
        self.scrub = Scrubber(account.password.reveal(), account.email)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if not self._attempt("login", "login", lambda: self.site.open(browser, account)):
            self.capture("login")
            return self.checks
        assert self.site.page is not None
        self.page, self.editor = self.site.page, self.site.editor
        listed = self._attempt("open the list", "list", self.site.ensure_list)
        item_id = self._find_product(codes) if listed else None
        if item_id is None:
            self.capture("list")
        with self._unless(item_id is not None, "no product to probe"):
            row = self.site.list.row(item_id or "")
            self._list(row)
            self._row_select(row)
            self._group_modal(item_id or "", row)
            self._drawer(row)
        return self.checks

    def _find_product(self, codes: list[str]) -> str | None:
        """The first product of the first code (in workbook order) whose search shows any."""
        for code in codes[:MAX_CODES]:
            total, error = self._value(lambda c=code: self.site.list.search(c))
            if error:
                self._add("ROWS", "list", SOME.text, None, ERROR, f"search {code}: {error}")
                return None
            ids = self.site.list.row_ids() if total else []
            if ids:
                self.code = code
                return ids[0]
        note = f"no products listed for the first {min(len(codes), MAX_CODES)} step3 code(s) of the workbook"
        self._add("ROWS", "list", SOME.text, 0, MISSING, note)
        return None

    def _list(self, row: Locator) -> None:
        self._checks("list", self.page, {"SEARCH_INPUT": ONE, "ROWS": SOME})
        self._checks("list", row, {"ROW_NAME": ONE, "ROW_CHECKBOX_LABEL": ONE, "ROW_GROUP_SELECT": ONE})
        self._checks("list", self.page, {"SELECT_ALL_LABEL": ONE, "PAGE_SIZE_SELECT": ONE})
        self._derived("TOTAL_JS_PATTERN", "list", self.site.list.total, "total {}")
        self.capture("list")

    def _escape_closes(self, selector: str) -> None:
        """Escape until `selector` is hidden (how the dropdown and the group modal are left); a notice popup
        on top, which would take the Escape, is dismissed first."""
        target = self.page.locator(selector + S.VISIBLE).first
        for _ in range(ESCAPE_ATTEMPTS):
            self.site.h.dismiss_popups()
            self.site.h.press_escape()
            try:
                target.wait_for(state="hidden", timeout=SHORT_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                continue
        raise Transient(f"still open after {ESCAPE_ATTEMPTS} presses of Escape")

    def _row_select(self, row: Locator) -> None:
        """Open the row's group select, look, and close it with Escape: nothing is chosen."""
        screen, select = "row select", row.locator(S.ROW_GROUP_SELECT).first
        opener = select.locator(S.SELECT_SELECTOR).first  # where the adapter clicks it
        self._attempt(
            "open the row's group select", screen, lambda: self.site.h.click(opener, real_mouse=True)
        )
        self._check("OPEN_DROPDOWN", screen, self.page, S.OPEN_DROPDOWN, ONE)
        self.capture("row-select")
        self._attempt("close the dropdown (Escape)", screen, partial(self._escape_closes, S.OPEN_DROPDOWN))

    def _group_modal(self, item_id: str, row: Locator) -> None:
        """Tick the row, open 그룹 지정, look, close the modal with Escape (never 확인), untick the row."""
        screen = "group modal"
        ticked = self._attempt("tick the row", screen, lambda: self.site.list.select_row(item_id))
        with self._unless(ticked, "the row could not be ticked"):
            button = self._check("GROUP_ASSIGN_BUTTON", screen, self.page, S.GROUP_ASSIGN_BUTTON, ONE)
            with self._unless(button, "GROUP_ASSIGN_BUTTON missing"):
                self._attempt("open the group modal", screen, self._open_group_modal)
                shown = self._check("GROUP_MODAL", screen, self.page, S.GROUP_MODAL, ONE)
                with self._unless(shown, "GROUP_MODAL missing"):
                    modal = self.page.locator(S.GROUP_MODAL).first
                    self._checks(screen, modal, {"MODAL_RADIO": SOME, "MODAL_OK": ONE})
            self.capture("group-modal")  # the modal, or the list with the row ticked and no button
            with self._unless(button, "GROUP_ASSIGN_BUTTON missing"):
                close = partial(self._escape_closes, S.GROUP_MODAL)
                self._attempt("close the group modal (Escape, no 확인)", screen, close)
        self._attempt("untick the row", screen, lambda: self._untick(item_id, row))

    def _open_group_modal(self) -> None:
        self.site.h.click(self.page.locator(S.GROUP_ASSIGN_BUTTON).first)
        self.page.locator(S.GROUP_MODAL).first.wait_for(state="visible")

    def _untick(self, item_id: str, row: Locator) -> None:
        if S.ROW_SELECTED_CLASS in (row.get_attribute("class") or "").split():
            self.site.h.click(row.locator(S.ROW_CHECKBOX_LABEL).first)
            self.site.h.wait_js(_UNSELECTED_JS, S.row_by_key(item_id))

    def _drawer(self, row: Locator) -> None:
        error = self._value(lambda: self.editor.open(row))[1]
        drawer = self._check("EDIT_DRAWER", "drawer", self.page, S.EDIT_DRAWER, ONE, note=error)
        with self._unless(drawer, "EDIT_DRAWER missing"):
            for key in S.TAB_TEXTS:
                self._check(f"TAB[{key}]", "drawer", self.page, S.tab(key), ONE)
            found = {name: self._tab(name, wants) for name, wants in TAB_CHECKS.items()}
            with self._unless(found["detail"]["BULK_EDIT_BUTTON"], "BULK_EDIT_BUTTON missing"):
                self._bulk_drawer()
        self._attempt("close the drawer", "drawer", self.editor.close)

    def _tab(self, name: str, wants: dict[str, Want]) -> dict[str, bool]:
        """Switch to the tab as the adapter does, check its marker and `wants` (the thumbnail cards)."""
        key = S.TAB_KEYS[name]
        screen = f"tab {key} {name}"
        error = self._value(lambda: self.editor.switch_tab(key))[1]
        self._check(f"TAB_READY_TEXT[{key}]", screen, self.page, S.tab_ready(key), ONE, note=error)
        found = self._checks(screen, self.editor.drawer, wants)
        if name == "thumbnails":
            self._cards(screen, self.editor.drawer, "THUMB_COUNT_TEXT", S.THUMB_COUNT_RE)
        self.capture(f"tab-{name}")
        return found

    def _cards(
        self, screen: str, scope: Locator, count_name: str, pattern: re.Pattern[str]
    ) -> tuple[int | None, bool]:
        """The `총 N개의 …` text, N cards, the first card's delete and edit: (N, whether edit was found)."""
        selector, n = getattr(S, count_name), None
        if self._check(count_name, screen, scope, selector, ONE):
            text = self._value(lambda: scope.locator(selector + S.VISIBLE).first.inner_text())[0]
            n = S.parse_int(pattern, text or "")
        with self._unless(self._check("CARD", screen, scope, S.CARD, equal_to(n)), "CARD missing"):
            first = scope.locator(S.CARD + S.VISIBLE).first
            found = self._checks(screen, first, {"CARD_DELETE": ONE, "CARD_EDIT": ONE})
        return n, found["CARD_EDIT"]

    def _bulk_drawer(self) -> None:
        screen, bulk = "bulk drawer", self.editor.bulk
        self._attempt("open the bulk-edit drawer", screen, self._open_bulk)
        opened = self._check("BULK_DRAWER", screen, self.page, S.BULK_DRAWER, ONE)
        with self._unless(opened, "BULK_DRAWER missing"):
            n, edit = self._cards(screen, bulk, "IMAGE_COUNT_TEXT", S.IMAGE_COUNT_RE)
            self.capture("bulk-drawer")
            with self._unless(edit, "CARD_EDIT missing"):
                self._image_editor(bulk.locator(S.CARD + S.VISIBLE).first.locator(S.CARD_EDIT).first, n)
        self._attempt("close the bulk-edit drawer", screen, self.editor.close_bulk)

    def _open_bulk(self) -> None:
        self.site.h.click(self.editor.content(S.BULK_EDIT_BUTTON).first)
        self.editor.bulk.wait_for(state="visible")

    def _image_editor(self, edit: Locator, n: int | None) -> None:
        """Open the editor from the first card's 편집하기, look, and close it without changing anything."""
        screen = "image editor"
        self._attempt("open the image editor", screen, lambda: self.site.h.click(edit))
        wants = {"TRANSLATE_BUTTON": SOME, "EDITOR_CANVAS": ONE, "EDITOR_THUMB": equal_to(n)}
        found = self._checks(screen, self.page, {**wants, "EDITOR_SAVE": SOME})
        with self._unless(found["EDITOR_CANVAS"] and found["EDITOR_THUMB"], "canvas or strip missing"):
            # The comparison of the canvas with the strip, which the adapter checks every move by.
            self._derived("ImageEditor.shown", screen, self.editor.images.shown, "shows strip image {}")
            # What the translation gate reads (the canvas's PNG), and what the OCR makes of it.
            self._derived("ImageEditor.picture", screen, self._read_picture, "{}")
        self.capture("image-editor")
        self._attempt("close the image editor (수정사항 저장, nothing changed)", screen, self._close_editor)

    def _read_picture(self) -> str | None:
        picture = self.editor.images.picture(0)
        if not picture:
            return None
        try:
            verdict = load_detector().detect(picture)
        except OcrUnavailable as exc:
            return f"{len(picture):,} bytes PNG; {exc}"
        seen = f"Chinese text {verdict.found}" if verdict.has_chinese else "no Chinese text"
        return f"{len(picture):,} bytes PNG; OCR ({verdict.engine}, {verdict.ms} ms): {seen}"

    def _close_editor(self) -> None:
        """수정사항 저장, through `ImageEditor.close()` (which finds the editor by its translate button) or
        directly when that button is what went missing. Nothing was changed, so nothing is saved."""
        save = self.page.locator(S.EDITOR_SAVE + S.VISIBLE).last
        if self.editor.images.button.is_visible():
            self.editor.images.close()
        elif save.is_visible():
            self.site.h.click(save)
            save.wait_for(state="hidden")
