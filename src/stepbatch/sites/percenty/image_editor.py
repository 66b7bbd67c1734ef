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
from stepbatch.sites.percenty.dom_reads import (
    EDITOR_CLOSE_STEP_JS,
    EDITOR_SHOWN_JS,
    TRANSLATE_CLICKABLE_JS,
)

log = logging.getLogger(__name__)

NO_LOADING_WAIT_MS = 3_000  # a press that never shows loading is over after this (production waited ~3 s)
POLL_MS = 250
THUMB_CLICK_WAIT_MS = 1_500  # a strip click that moves the editor shows the image within frames
TRANSLATE_TIMEOUT_MS = 60_000  # production's cap for one translation
SIGNATURE_SIDE = 12
MAX_SIGNATURE_DISTANCE = 60.0  # mean grey difference (0–255) above which nothing in the strip is shown
SAME_PICTURE = 1.5  # strip pictures this close to the best match are the same picture

# Which strip images the canvas shows: indices whose picture matches best, [] while the canvas shows none
# (still loading, blank), or null when the pictures cannot be read (a tainted canvas).
_SHOWN_JS = f"""
async () => {{
  const N = {SIGNATURE_SIDE};
  const canvas = document.querySelector({S.EDITOR_CANVAS!r});
  const thumbs = [...document.querySelectorAll({S.EDITOR_THUMB!r})];
  if (!canvas || !thumbs.length) return [];
  const signature = (source) => {{
    const c = document.createElement('canvas'); c.width = N; c.height = N;
    const g = c.getContext('2d'); g.drawImage(source, 0, 0, N, N);
    const d = g.getImageData(0, 0, N, N).data, out = [];
    for (let i = 0; i < d.length; i += 4) out.push((d[i] + d[i + 1] + d[i + 2]) / 3);
    return out;
  }};
  const cache = window.__sbSignatures || (window.__sbSignatures = new Map());
  const load = (url) => {{
    if (!cache.has(url)) cache.set(url, new Promise((done) => {{
      const im = new Image(); im.crossOrigin = 'anonymous';
      im.onload = () => {{ try {{ done(signature(im)); }} catch (e) {{ done(null); }} }};
      im.onerror = () => done(null); im.src = url;
    }}));
    return cache.get(url);
  }};
  let shown;
  try {{ shown = signature(canvas); }} catch (e) {{ return null; }}
  const pictures = await Promise.all(thumbs.map((t) => load(t.currentSrc || t.src)));
  if (pictures.some((p) => p === null)) return null;
  const distance = pictures.map((p) => p.reduce((sum, v, i) => sum + Math.abs(v - shown[i]), 0) / p.length);
  const best = Math.min(...distance);
  if (!(best <= {MAX_SIGNATURE_DISTANCE})) return [];
  return distance.flatMap((d, i) => (d <= best + {SAME_PICTURE} ? [i] : []));
}}
"""

# The real tool read the shown picture as `canvas.toDataURL('image/png')`; a tainted canvas throws.
_CANVAS_PNG_JS = f"""
() => {{
  const canvas = document.querySelector({S.EDITOR_CANVAS!r});
  if (!canvas || !canvas.width || !canvas.height) return null;
  try {{ return canvas.toDataURL('image/png').split(',', 2)[1] || null; }} catch (e) {{ return null; }}
}}
"""

_TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
# What the canvas shows once it settles, in one call: reads of `_SHOWN_JS` two frames apart until two
# agree on a non-empty answer (up to `tries` pairs): the indices, null when unreadable, [] when it never
# settled.
_SETTLED_SHOWN_JS = f"""
async (tries) => {{
  const read = {_SHOWN_JS};
  const frames = {_TWO_FRAMES_JS};
  for (let i = 0; i < tries; i++) {{
    const first = await read();
    if (first === null) return null;
    await frames();
    const second = await read();
    if (second === null) return null;
    if (second.length && second.join() === first.join()) return second;
  }}
  return [];
}}
"""
# The canvas shows strip image `index` (polled by PageHelper.wait_js).
_SHOWS_JS = f"async (index) => {{ const at = await ({_SHOWN_JS})(); return !!at && at.includes(index); }}"
SETTLE_TRIES = 20
_SOURCE_JS = f"""
(i) => {{
  const t = document.querySelectorAll({S.EDITOR_THUMB!r})[i];
  return t ? (t.currentSrc || t.src || '') : '';
}}
"""

# Watches the translate button from before the press, so a loading state shorter than a poll is still seen.
_WATCH_LOADING_JS = f"""
() => {{
  const w = {{sawLoading: false}};
  window.__sbTranslate = w;
  const busy = () => [...document.querySelectorAll('button.' + {S.BUTTON_LOADING_CLASS!r})]
    .some(b => b.textContent.includes({S.TRANSLATE_BUTTON_TEXT!r}));
  w.busy = busy;
  w.observer = new MutationObserver(() => {{ if (busy()) w.sawLoading = true; }});
  w.observer.observe(document.body, {{subtree: true, childList: true, attributes: true,
                                     attributeFilter: ['class']}});
}}
"""
_WATCH_THEN_CLICKABLE_JS = f"() => {{ ({_WATCH_LOADING_JS})(); return ({TRANSLATE_CLICKABLE_JS})(); }}"
_LOADING_OVER_JS = """
() => {
  const w = window.__sbTranslate; if (!w) return true;
  if (w.busy()) { w.sawLoading = true; return false; }
  if (w.sawLoading) { w.observer.disconnect(); return true; }
  return false;
}
"""
_SAW_LOADING_JS = "() => !!window.__sbTranslate && window.__sbTranslate.sawLoading"
_NOTICE_JS = f"""
(text) => [...document.querySelectorAll({S.MESSAGE_NOTICE_ANY!r})].some(n => n.textContent.includes(text))
"""


class ImageEditor:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper
        self.page = helper.page

    @property
    def button(self) -> Locator:
        return self.page.locator(S.TRANSLATE_BUTTON).last

    def open(self, opener: Callable[[], Locator], index: int) -> None:
        """Open the editor with the edit button `opener()` returns and make it show image `index`
        (0-based)."""
        self.h.click(opener())
        self.h.wait_js(EDITOR_SHOWN_JS, True, timeout_ms=self.h.timeout_ms)
        try:
            self.show(index)
        except BaseException:
            self.close()
            raise

    def picture(self, index: int) -> bytes | None:
        """The picture the editor shows, as PNG: its canvas (what the real tool read), else the image's own
        bytes by its URL; None when neither can be read."""
        try:
            data = self.page.evaluate(_CANVAS_PNG_JS)
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
        return str(self.page.evaluate(_SOURCE_JS, index))

    # --- which image is shown ---
    def shown(self) -> list[int] | None:
        """Strip indices the canvas shows once it settles (two reads that agree), or None if unreadable."""
        at = self.page.evaluate(_SETTLED_SHOWN_JS, SETTLE_TRIES)
        if at is None:
            return None
        if not at:
            raise Transient("the image editor's canvas shows none of its images")
        return list(at)

    def show(self, index: int) -> None:
        """Make the editor show image `index`: checked, then by a click on its thumb, then HOME and one
        TAB at a time (each press checked, a press a popup took is repeated)."""
        at = self.shown()
        if at is None:
            log.warning("the editor's pictures cannot be compared; trusting it to show image %d", index + 1)
            return
        if index in at:
            return
        self.h.dismiss_popups()
        self.page.locator(S.EDITOR_THUMB).nth(index).click()
        if self._wait_shown(index, THUMB_CLICK_WAIT_MS):
            return
        self._step_to(index)

    def _wait_shown(self, index: int, timeout_ms: int = SHORT_TIMEOUT_MS) -> bool:
        """Whether the canvas comes to show image `index` within `timeout_ms` (checked every frame)."""
        try:
            self.h.wait_js(_SHOWS_JS, index, timeout_ms=timeout_ms)
            return True
        except PlaywrightTimeout:
            return False

    def _step_to(self, index: int) -> None:
        for _ in range(3):
            self.h.dismiss_popups()
            self.page.keyboard.press(S.EDITOR_FIRST_KEY)
            if self._wait_shown(0):
                break
        else:
            raise Transient("the image editor did not go back to its first image")
        at = 0
        misses = 0
        while at < index:
            self.page.keyboard.press(S.EDITOR_NEXT_KEY)
            if self._wait_shown(at + 1):
                at += 1
                misses = 0
                continue
            misses += 1
            if misses > 2:
                raise Transient(f"the image editor did not move to image {at + 2}")
            self.h.dismiss_popups()

    # --- translate ---
    def press(self) -> None:
        def press() -> None:
            # per attempt: only this press's loading counts; watched from before the click
            if self.page.evaluate(
                f"() => {{ ({_WATCH_LOADING_JS})(); return ({TRANSLATE_CLICKABLE_JS})(); }}"
            ):
                self.h.click(self.button)
            else:  # the editor's own shortcut, for when another layer covers its toolbar
                self.page.keyboard.press(S.TRANSLATE_KEY)

        self.h.act_watching(press, self._wait_press_over, method="POST")
        if self.page.evaluate(_NOTICE_JS, S.CREDITS_EXHAUSTED_NOTICE):
            raise StopAccount(f"translation credits exhausted ({S.CREDITS_EXHAUSTED_NOTICE})")

    def _wait_press_over(self, answered: Callable[[], bool]) -> None:
        """Over when the loading state has come and gone; when it never shows, once the site answered the
        press, or after a short bounded wait (production saw presses without a loading state)."""
        deadline = time.monotonic() + NO_LOADING_WAIT_MS / 1000
        while True:
            try:
                self.h.wait_js(_LOADING_OVER_JS, timeout_ms=POLL_MS)
                return
            except PlaywrightTimeout:
                pass
            if self.page.evaluate(_SAW_LOADING_JS):
                self.h.wait_js(_LOADING_OVER_JS, timeout_ms=TRANSLATE_TIMEOUT_MS)
                return
            if answered():
                return
            if time.monotonic() > deadline:
                log.info("the translate press showed no loading state and no answer; taking it as done")
                return

    # --- close ---
    def close(self) -> None:
        """수정사항 저장 closes the editor (ESC does not, by the operators' notes)."""
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
    """Image `index` open in the editor (the translation module's view of it)."""

    editor: ImageEditor
    index: int

    def picture(self) -> bytes | None:
        return self.editor.picture(self.index)

    def source(self) -> str:
        return self.editor.source(self.index)

    def press(self) -> None:
        self.editor.press()
