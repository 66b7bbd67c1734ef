"""Page scripts of the image-translation editor: which strip image the canvas shows, its picture, the
translate press watched until it is over, and 수정사항 저장 (image_editor.py says what the captures show)."""

from __future__ import annotations

from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.dom_click import CLICK_JS
from stepbatch.sites.percenty.dom_overlays import DISMISS_POPUPS_JS
from stepbatch.sites.percenty.dom_reads import (
    EDITOR_SHOWN_JS,
    LAST_SAVE_BUTTON_JS,
    LAST_TRANSLATE_BUTTON_JS,
    TRANSLATE_CLICKABLE_JS,
)
from stepbatch.sites.percenty.dom_wait import FRAME_JS

SIGNATURE_SIDE = 12
MAX_SIGNATURE_DISTANCE = 60.0  # mean grey difference (0–255) above which nothing in the strip is shown
SAME_PICTURE = 1.5  # strip pictures this close to the best match are the same picture

# Which strip images the canvas shows: indices whose picture matches best, [] while the canvas shows none
# (still loading, blank), or null when the pictures cannot be read (a tainted canvas).
SHOWN_JS = f"""
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
  // the strip's own loaded <img> when it can be read (same origin), else the picture fetched with CORS
  const load = (thumb) => {{
    const url = thumb.currentSrc || thumb.src;
    if (cache.has(url)) return cache.get(url);
    let own = null;
    if (thumb.complete && thumb.naturalWidth) {{
      try {{ own = signature(thumb); }} catch (e) {{ own = null; }}
    }}
    cache.set(url, own ? Promise.resolve(own) : new Promise((done) => {{
      const im = new Image(); im.crossOrigin = 'anonymous';
      im.onload = () => {{ try {{ done(signature(im)); }} catch (e) {{ done(null); }} }};
      im.onerror = () => done(null); im.src = url;
    }}));
    return cache.get(url);
  }};
  let shown;
  try {{ shown = signature(canvas); }} catch (e) {{ return null; }}
  const pictures = await Promise.all(thumbs.map(load));
  if (pictures.some((p) => p === null)) return null;
  const distance = pictures.map((p) => p.reduce((sum, v, i) => sum + Math.abs(v - shown[i]), 0) / p.length);
  const best = Math.min(...distance);
  if (!(best <= {MAX_SIGNATURE_DISTANCE})) return [];
  return distance.flatMap((d, i) => (d <= best + {SAME_PICTURE} ? [i] : []));
}}
"""

# The real tool read the shown picture as `canvas.toDataURL('image/png')`; a tainted canvas throws.
CANVAS_PNG_JS = f"""
() => {{
  const canvas = document.querySelector({S.EDITOR_CANVAS!r});
  if (!canvas || !canvas.width || !canvas.height) return null;
  try {{ return canvas.toDataURL('image/png').split(',', 2)[1] || null; }} catch (e) {{ return null; }}
}}
"""

TWO_FRAMES_JS = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"
# What the canvas shows once it settles, in one call: reads of `SHOWN_JS` two frames apart until two
# agree on a non-empty answer (up to `tries` pairs): the indices, null when unreadable, [] when it never
# settled.
SETTLED_SHOWN_JS = f"""
async (tries) => {{
  const read = {SHOWN_JS};
  const frames = {TWO_FRAMES_JS};
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
# The canvas shows strip image `index` and has settled on it: two looks in a row, a frame apart, find it
# (as `OPENED_JS` waits after an opening), so the picture read next is not one caught mid-draw. Polled by
# PageHelper.wait_js or right after a click (`click_until`); the count lives for one such call.
SHOWS_JS = f"""
(() => {{
  let agreed = 0;
  const read = {SHOWN_JS};
  return async (index) => {{
    const at = await read();
    agreed = at && at.includes(index) ? agreed + 1 : 0;
    return agreed >= 2;
  }};
}})()
"""
SOURCE_JS = f"""
(i) => {{
  const t = document.querySelectorAll({S.EDITOR_THUMB!r})[i];
  return t ? (t.currentSrc || t.src || '') : '';
}}
"""

# Watches the translate button from before the press, so a loading state shorter than a poll is still seen.
WATCH_LOADING_JS = f"""
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
LOADING_OVER_JS = """
() => {
  const w = window.__sbTranslate; if (!w) return true;
  if (w.busy()) { w.sawLoading = true; return false; }
  if (w.sawLoading) { w.observer.disconnect(); return true; }
  return false;
}
"""
SAW_LOADING_JS = "() => !!window.__sbTranslate && window.__sbTranslate.sawLoading"
NOTICE_JS = f"""
(text) => [...document.querySelectorAll({S.MESSAGE_NOTICE_ANY!r})].some(n => n.textContent.includes(text))
"""

# The watch installed and whether the button is clickable (the press then goes through Playwright's mouse,
# with STEPBATCH_REAL_MOUSE=1).
WATCH_THEN_CLICKABLE_JS = f"() => {{ ({WATCH_LOADING_JS})(); return ({TRANSLATE_CLICKABLE_JS})(); }}"

# The editor opened and its canvas settled (two looks of `SHOWN_JS` in a row, a frame apart, agree: the
# one frame at least between them, as PageHelper.click_until polls right after
# the edit button's click. {at, srcs}: the strip indices shown (null when the pictures cannot be compared,
# [] when it never settled within `tries` pairs of looks) and the strip's URLs.
OPENED_JS = f"""
(() => {{
  let looks = 0, agreed = 0, last = null;
  const read = {SHOWN_JS};
  const srcs = () => [...document.querySelectorAll({S.EDITOR_THUMB!r})].map(t => t.currentSrc || t.src || '');
  return async (tries) => {{
    if (!(({EDITOR_SHOWN_JS})(true))) return null;
    const at = await read();
    if (at === null) return {{at: null, srcs: srcs()}};
    const same = at.length > 0 && last !== null && at.join() === last;
    agreed = same ? agreed + 1 : 0;
    last = at.length ? at.join() : null;
    if (agreed >= 1) return {{at, srcs: srcs()}};  // two looks, a frame apart at least, agree
    return ++looks >= 3 * tries ? {{at: [], srcs: srcs()}} : null;
  }};
}})()
"""

# One press of the translate button, watched until it is over, in one call. The button must be shown and
# hit at its centre, notice popups over it dismissed, within `coveredMs` (else {pressed: false, clickable},
# nothing done: the caller clicks it with Playwright, or uses the editor's shortcut when it stays covered).
# Over:
# 'loading' (its loading state came and went), 'answer' (no loading state, but the page got an answer to a
# call it made since the press, at least `POLL_MS` after it), 'quiet' (neither, for `noLoadingMs`), or
# 'timeout'. `notice`: the credits-exhausted notice shows.
PRESS_JS = f"""
async ([noLoadingMs, timeoutMs, pollMs, noticeText, coveredMs]) => {{
  const frame = {FRAME_JS};
  const clickable = {TRANSLATE_CLICKABLE_JS};
  const until = performance.now() + coveredMs;
  while (!clickable()) {{  // a notice popup over the editor takes its clicks and keys: dismissed first
    if (performance.now() >= until) return {{pressed: false, clickable: false}};
    ({DISMISS_POPUPS_JS})();
    await frame();
  }}
  ({WATCH_LOADING_JS})();
  const w = window.__sbTranslate;
  let answered = false, observer = null;
  try {{
    observer = new PerformanceObserver((list) => {{
      if (list.getEntries().some(e => e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest'))
        answered = true;
    }});
    observer.observe({{type: 'resource'}});
  }} catch (e) {{ observer = null; }}
  const t0 = performance.now();
  let over = 'timeout';
  try {{
    const clicked = ({CLICK_JS})(({LAST_TRANSLATE_BUTTON_JS})());
    if (clicked !== 'clicked') return {{pressed: false, clickable: true}};
    for (;;) {{
      const elapsed = performance.now() - t0;
      if (w.busy()) w.sawLoading = true;
      else if (w.sawLoading) {{ over = 'loading'; break; }}
      else if (answered && elapsed >= pollMs) {{ over = 'answer'; break; }}
      else if (elapsed >= noLoadingMs) {{ over = 'quiet'; break; }}
      if (elapsed >= timeoutMs) break;
      await frame();
    }}
  }} finally {{
    if (observer) observer.disconnect();
    if (over !== 'timeout') w.observer.disconnect();  // else the caller's own wait goes on watching
  }}
  return {{pressed: true, over, sawLoading: w.sawLoading, notice: ({NOTICE_JS})(noticeText)}};
}}
"""

# 수정사항 저장 pressed and the editor gone, in one call: {open: false} when it was not open, else
# {open: true, closed} (closed false when the button was not clickable or the editor stayed; popups first
# dismissed as PageHelper.dismiss_popups).
SAVE_AND_CLOSE_JS = f"""
async (timeoutMs) => {{
  const shown = {EDITOR_SHOWN_JS};
  const frame = {FRAME_JS};
  if (!shown(true)) return {{open: false}};
  ({DISMISS_POPUPS_JS})();
  const save = ({LAST_SAVE_BUTTON_JS})();
  if (!save || ({CLICK_JS})(save) !== 'clicked') return {{open: true, closed: false}};
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {{
    if (shown(false)) return {{open: true, closed: true}};
    await frame();
  }}
  return {{open: true, closed: false}};
}}
"""
