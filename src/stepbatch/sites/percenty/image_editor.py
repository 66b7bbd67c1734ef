"""The image-translation editor (원클릭 이미지 번역): open it on one image, make sure it shows that image,
press translate, wait until the press is over, close it with 수정사항 저장.

What the real site's captures show of the editor is only `canvas#pCanvas`, the strip of
`img.p_tooltip_image_editor_thumb` (nothing marks the shown one), the translate button with its
`ant-btn-loading` state, and 수정사항 저장. So which image is shown is read by comparing the canvas with the
strip's pictures (a small grey signature of each), and every move is checked that way.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from stepbatch.engine.errors import StopAccount, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import SHORT_TIMEOUT_MS, PageHelper
from stepbatch.sites.percenty.dom_editor import (
    CANVAS_PNG_JS,
    LOADING_OVER_JS,
    NOTICE_JS,
    OPENED_JS,
    PRESS_JS,
    SAVE_AND_CLOSE_JS,
    SAW_LOADING_JS,
    SETTLED_SHOWN_JS,
    SHOWS_JS,
    SOURCE_JS,
    WATCH_THEN_CLICKABLE_JS,
)
from stepbatch.sites.percenty.dom_reads import (
    EDITOR_CLOSE_STEP_JS,
    EDITOR_SHOWN_JS,
)

log = logging.getLogger(__name__)

NO_LOADING_WAIT_MS = 3_000  # a press that never shows loading is over after this (production waited ~3 s)
POLL_MS = 250
SETTLE_TRIES = 20
THUMB_CLICK_WAIT_MS = 1_500  # a strip click that moves the editor shows the image within frames
TRANSLATE_TIMEOUT_MS = 60_000  # production's cap for one translation


class ImageEditor:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page
        self.comparable = True  # whether the open editor's canvas could be compared with its strip
        self.thumbs_inert = False  # a strip click once failed to move this editor: keys from then on

    @property
    def button(self) -> Locator:
        return self.page.locator(S.TRANSLATE_BUTTON).last

    def open(self, opener: Locator, index: int) -> str | None:
        """Open the editor with the edit button `opener` and make it show image `index` (0-based).

        The click, the wait for the editor and the settled canvas are one call; returns the image's URL
        as that call read it when the editor showed the image at once (None when it had to move)."""
        opened = self.h.click_until(opener, OPENED_JS, SETTLE_TRIES, timeout_ms=self.h.timeout_ms)
        try:
            at, srcs = opened["at"], opened["srcs"]  # type: ignore[index]
            self.comparable = at is not None
            if at is not None and index in at and index < len(srcs):
                return str(srcs[index])
            self.show(index, at)
            return None
        except BaseException:
            self.close()
            raise

    def picture(self, index: int) -> bytes | None:
        """The picture the editor shows, as PNG: its canvas (what the real tool read), else the image's own
        bytes by its URL; None when neither can be read."""
        try:
            data = self.page.evaluate(CANVAS_PNG_JS)
        except PlaywrightError:
            data = None
        if data:
            return base64.b64decode(data)
        url = self.source(index)
        if not url:
            return None
        try:
            answer = self.page.context.request.get(urljoin(self.page.url, url))
            return answer.body() if answer.ok else None
        except PlaywrightError:
            return None

    def source(self, index: int) -> str:
        """The URL of strip image `index` (a translated image is a new picture, so its URL changes)."""
        return str(self.page.evaluate(SOURCE_JS, index))

    # --- which image is shown ---
    def shown(self) -> list[int] | None:
        """Strip indices the canvas shows once it settles (two reads that agree), or None if unreadable."""
        at = self.page.evaluate(SETTLED_SHOWN_JS, SETTLE_TRIES)
        if at is None:
            return None
        if not at:
            raise Transient("the image editor's canvas shows none of its images")
        return list(at)

    def show(self, index: int, at: list[int] | None = None) -> None:
        """Make the editor show image `index`: checked (`at`: what it shows, just read; [] when it never
        settled), then by a click on its thumb, then HOME and one TAB at a time (each press checked, a press
        a popup took is repeated)."""
        if at is None or not at:
            at = self.shown()
        if at is None:
            log.warning("the editor's pictures cannot be compared; trusting it to show image %d", index + 1)
            return
        if index in at:
            return
        self.h.dismiss_popups()
        self._go(index, at[0] if len(at) == 1 else None)

    def move(self, index: int, current: int) -> None:
        """In the open editor, from image `current` (checked to be shown) to image `index`, checked."""
        if index != current:
            self._go(index, current)

    def _go(self, index: int, current: int | None) -> None:
        """A click on the image's strip thumb (how production went to each image it pressed), else once
        those clicks have failed to move this editor, TAB from `current` (HOME first when not known)."""
        if self.thumbs_inert:
            self._step_to(index, current)
            return
        if self._thumb_click_shows(index):
            return
        self.thumbs_inert = True
        self._step_to(index)  # from HOME: the click may yet move it

    def _thumb_click_shows(self, index: int) -> bool:
        """A click on strip image `index`, and whether the canvas then shows it (the click and the look
        are one call when the thumb is clickable)."""
        thumb = self.page.locator(S.EDITOR_THUMB).nth(index)
        try:
            self.h.click_until(thumb, SHOWS_JS, index, timeout_ms=THUMB_CLICK_WAIT_MS)
            return True
        except PlaywrightTimeout:
            return False

    def _wait_shown(self, index: int, timeout_ms: int = SHORT_TIMEOUT_MS) -> bool:
        """Whether the canvas comes to show image `index` within `timeout_ms` (checked every frame)."""
        try:
            self.h.wait_js(SHOWS_JS, index, timeout_ms=timeout_ms)
            return True
        except PlaywrightTimeout:
            return False

    def _step_to(self, index: int, start: int | None = None) -> None:
        """One TAB at a time up to `index`: from `start` when it is before it (HOME after all when a TAB
        does not land where expected), else from HOME. Each press checked, a press a popup took repeated."""
        if start is not None and start < index and self._tab_up(start, index, misses_allowed=0):
            return
        for _ in range(3):
            self.h.dismiss_popups()
            self.page.keyboard.press(S.EDITOR_FIRST_KEY)
            if self._wait_shown(0):
                break
        else:
            raise Transient("the image editor did not go back to its first image")
        if not self._tab_up(0, index, misses_allowed=2):
            raise Transient(f"the image editor did not move to image {index + 1}")

    def _tab_up(self, at: int, index: int, *, misses_allowed: int) -> bool:
        misses = 0
        while at < index:
            self.page.keyboard.press(S.EDITOR_NEXT_KEY)
            if self._wait_shown(at + 1, THUMB_CLICK_WAIT_MS if not misses_allowed else SHORT_TIMEOUT_MS):
                at += 1
                misses = 0
                continue
            misses += 1
            if misses > misses_allowed:
                return False
            self.h.dismiss_popups()
        return True

    # --- translate ---
    def press(self) -> None:
        """One press, watched until it is over: the click and the watch are one call (`PRESS_JS`) when
        the button is clickable; a 5xx answer repeats the press, as `act_watching` does."""
        outcome: dict = {}

        def press() -> None:
            # per attempt: only this press's loading counts; watched from before the click
            outcome.clear()
            if self.h.script_clicks:
                outcome.update(self.page.evaluate(PRESS_JS, self._press_args()))
            else:
                outcome.update(pressed=False, clickable=bool(self.page.evaluate(WATCH_THEN_CLICKABLE_JS)))
            if outcome["pressed"]:
                return
            if outcome["clickable"]:
                self.h.click(self.button)
            else:  # the editor's own shortcut, for when another layer covers its toolbar
                self.page.keyboard.press(S.TRANSLATE_KEY)

        def settle(answered: Callable[[], bool]) -> None:
            over = outcome.get("over")
            if over == "quiet":
                log.info("the translate press showed no loading state and no answer; taking it as done")
            if over in ("loading", "quiet") or (over == "answer" and answered()):
                return
            if over == "timeout":
                raise Transient(f"the translation did not finish in {TRANSLATE_TIMEOUT_MS // 1000} s")
            self._wait_press_over(answered)

        self.h.act_watching(press, settle, method="POST")
        notice = outcome.get("notice")
        if notice is None:
            notice = self.page.evaluate(NOTICE_JS, S.CREDITS_EXHAUSTED_NOTICE)
        if notice:
            raise StopAccount(f"translation credits exhausted ({S.CREDITS_EXHAUSTED_NOTICE})")

    @staticmethod
    def _press_args() -> list:
        return [
            NO_LOADING_WAIT_MS,
            TRANSLATE_TIMEOUT_MS,
            POLL_MS,
            S.CREDITS_EXHAUSTED_NOTICE,
            SHORT_TIMEOUT_MS,
        ]

    def _wait_press_over(self, answered: Callable[[], bool]) -> None:
        """Over when the loading state has come and gone; when it never shows, once the site answered the
        press, or after a short bounded wait (production saw presses without a loading state)."""
        deadline = time.monotonic() + NO_LOADING_WAIT_MS / 1000
        while True:
            try:
                self.h.wait_js(LOADING_OVER_JS, timeout_ms=POLL_MS)
                return
            except PlaywrightTimeout:
                pass
            if self.page.evaluate(SAW_LOADING_JS):
                self.h.wait_js(LOADING_OVER_JS, timeout_ms=TRANSLATE_TIMEOUT_MS)
                return
            if answered():
                return
            if time.monotonic() > deadline:
                log.info("the translate press showed no loading state and no answer; taking it as done")
                return

    # --- close ---
    def close(self) -> None:
        """수정사항 저장 closes the editor (ESC does not, by the operators' notes)."""
        if self.h.script_clicks:
            state = self.page.evaluate(SAVE_AND_CLOSE_JS, SHORT_TIMEOUT_MS)
            if not state["open"] or state["closed"]:
                return
        save = self.page.locator(S.EDITOR_SAVE).last
        for _ in range(3):
            state = self.page.evaluate(EDITOR_CLOSE_STEP_JS)  # popups dismissed when it is open
            if not state["open"]:
                return
            if state["save"]:
                self.h.click(save)
            else:
                self.h.press_escape()
            try:
                self.h.wait_js(EDITOR_SHOWN_JS, False, timeout_ms=SHORT_TIMEOUT_MS)
                return
            except PlaywrightTimeout:
                continue
        self.h.wait_js(EDITOR_SHOWN_JS, False)


@dataclass
class ShownImage:
    """Image `index` open in the editor (the translation module's view of it); `src`: its URL as the
    editor's opening read it, when it did."""

    editor: ImageEditor
    index: int
    src: str | None = None

    def picture(self) -> bytes | None:
        return self.editor.picture(self.index)

    def source(self) -> str:
        return self.src if self.src is not None else self.editor.source(self.index)

    def press(self) -> None:
        self.editor.press()
