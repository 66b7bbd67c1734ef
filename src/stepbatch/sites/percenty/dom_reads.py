"""Page scripts that read in one call what several locator queries read, over the same selectors and texts.

Playwright-only selector parts are spelled out here as the same checks: `:visible` (a non-empty box and
no `visibility: hidden`), `:text-is(t)` (whitespace-normalised text equal to t), `:has-text(t)` (contains
t), `:text-matches(re)` (the normalised text matches re); `.first`/`.last` are document order. The CSS
parts are the constants of selectors.py themselves (Chromium evaluates their `:has()`); texts and patterns
are taken out of those constants, so nothing here names an element that selectors.py does not.
"""

from __future__ import annotations

import json
import re

from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.dom_overlays import DISMISS_POPUPS_JS


def _has_text_is(selector: str) -> tuple[str, str]:
    """`CSS:has(span:text-is('T'))` → (CSS, T)."""
    match = re.fullmatch(r"(.+?):has\(span:text-is\('(.+)'\)\)", selector)
    if not match:
        raise ValueError(f"not a `:has(span:text-is())` selector: {selector}")
    return match.group(1), match.group(2)


def _has_text(selector: str) -> tuple[str, str]:
    """`CSS:has-text('T')` → (CSS, T)."""
    match = re.fullmatch(r"(.+?):has-text\('(.+)'\)", selector)
    if not match:
        raise ValueError(f"not a `:has-text()` selector: {selector}")
    return match.group(1), match.group(2)


def _text_matches(selector: str) -> tuple[str, str]:
    """`CSS:text-matches('RE')` → (CSS, RE)."""
    match = re.fullmatch(r"(.+?):text-matches\('(.+)'\)", selector)
    if not match:
        raise ValueError(f"not a `:text-matches()` selector: {selector}")
    return match.group(1), match.group(2)


_BULK_CSS, _BULK_TEXT = _has_text(S.BULK_DRAWER)
_TRANSLATE_CSS, _TRANSLATE_TEXT = _has_text_is(S.TRANSLATE_BUTTON)
_SAVE_CSS, _SAVE_TEXT = _has_text_is(S.EDITOR_SAVE)
_COUNTS = {
    "image": (*_text_matches(S.IMAGE_COUNT_TEXT), S.IMAGE_COUNT_RE.pattern),
    "thumb": (*_text_matches(S.THUMB_COUNT_TEXT), S.THUMB_COUNT_RE.pattern),
}

# Shared helpers of the scripts below (a JS prelude).
_PRELUDE = f"""
const norm = (t) => (t || '').replace(/\\s+/g, ' ').trim();
const vis = (e) => {{
  if (!e) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden';
}};
const textIs = (root, css, text) => [...root.querySelectorAll(css)]
  .filter(b => [...b.querySelectorAll('span')].some(s => norm(s.textContent) === text));
const editDrawer = () => document.querySelector({S.EDIT_DRAWER!r});
const bulkDrawer = () => [...document.querySelectorAll({_BULK_CSS!r})]
  .find(d => norm(d.textContent).includes({_BULK_TEXT!r})) || null;
const counts = {json.dumps(_COUNTS, ensure_ascii=False)};
const readyTexts = {json.dumps(S.TAB_READY_TEXT, ensure_ascii=False)};
const readCount = (scope, kind) => {{
  if (!scope || !counts[kind]) return null;
  const [css, shown, parse] = counts[kind];
  const node = [...scope.querySelectorAll(css)]
    .find(n => vis(n) && new RegExp(shown).test(norm(n.textContent)));
  if (!node) return null;
  const m = new RegExp(parse).exec(node.innerText);
  return m ? parseInt(m[1].replace(/,/g, ''), 10) : null;
}};
const tabState = (key) => {{
  const tab = document.querySelector({S.EDIT_DRAWER!r} + ' ' + {S.TAB!r}.replace('{{key}}', String(key)));
  const active = !!tab && tab.classList.contains({S.TAB_ACTIVE_CLASS!r});
  const ready = textIs(document, {S.EDIT_DRAWER!r} + ' button', readyTexts[key]).some(vis);
  return {{active, activeShown: active && vis(tab), ready}};
}};
"""

# The product drawer at a glance: is the bulk drawer shown, is tab `key` active and ready, and the
# count `count` ("image": in the bulk drawer, "thumb": in the product drawer) when it shows.
DRAWER_STATE_JS = f"""
(arg) => {{
  {_PRELUDE}
  const tab = arg.key === null ? null : tabState(arg.key);
  const scope = arg.count === 'image' ? bulkDrawer() : editDrawer();
  return {{bulk: vis(bulkDrawer()), tab, count: arg.count ? readCount(scope, arg.count) : null}};
}}
"""

# Tab `key` is active (its tab shown) and its ready marker shows: what `switch_tab` waits for.
TAB_READY_JS = f"""
(key) => {{
  {_PRELUDE}
  const s = tabState(key);
  return s.activeShown && s.ready;
}}
"""

# The count once it shows, as {{n}} (a count of 0 is still an answer).
COUNT_SHOWN_JS = f"""
(kind) => {{
  {_PRELUDE}
  const n = readCount(kind === 'image' ? bulkDrawer() : editDrawer(), kind);
  return n === null ? null : {{n}};
}}
"""

# One step of closing the image editor: when its translate button (the last one) shows, press
# `다시 보지 않기` on notice popups (as PageHelper.dismiss_popups) and say whether 수정사항 저장 shows.
EDITOR_CLOSE_STEP_JS = f"""
() => {{
  {_PRELUDE}
  const last = (list) => list.length ? list[list.length - 1] : null;
  if (!vis(last(textIs(document, {_TRANSLATE_CSS!r}, {_TRANSLATE_TEXT!r})))) return {{open: false}};
  ({DISMISS_POPUPS_JS})();
  return {{open: true, save: vis(last(textIs(document, {_SAVE_CSS!r}, {_SAVE_TEXT!r})))}};
}}
"""

# Is the editor's translate button (the last one) shown and really hit by a click at its centre?
TRANSLATE_CLICKABLE_JS = f"""
() => {{
  {_PRELUDE}
  const all = textIs(document, {_TRANSLATE_CSS!r}, {_TRANSLATE_TEXT!r});
  const el = all.length ? all[all.length - 1] : null;
  if (!vis(el)) return false;
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit));
}}
"""

# Waits (PageHelper.wait_js polls them on every frame; Locator.wait_for backs off to 100-500 ms).
# The product drawer (`EDIT_DRAWER`, the first) shows.
DRAWER_SHOWN_JS = f"() => {{ {_PRELUDE} return vis(editDrawer()); }}"

# The bulk drawer shows with its image count (what `open_bulk` waits for), or is hidden (`close_bulk`).
BULK_READY_JS = f"""
() => {{
  {_PRELUDE}
  const b = bulkDrawer();
  const n = vis(b) ? readCount(b, 'image') : null;
  return n === null ? null : {{n}};
}}
"""
BULK_HIDDEN_JS = f"() => {{ {_PRELUDE} return !vis(bulkDrawer()); }}"

# The count `kind` shows the number `want` (after a delete or a copy).
COUNT_IS_JS = f"""
([kind, want]) => {{
  {_PRELUDE}
  return readCount(kind === 'image' ? bulkDrawer() : editDrawer(), kind) === want;
}}
"""

# The image editor's translate button (the last one) shows (`want` true) or does not (false).
EDITOR_SHOWN_JS = f"""
(want) => {{
  {_PRELUDE}
  const all = textIs(document, {_TRANSLATE_CSS!r}, {_TRANSLATE_TEXT!r});
  return vis(all.length ? all[all.length - 1] : null) === want;
}}
"""

# The page's last translate button and last 수정사항 저장 (the image editor's own, as `.last` of their
# selectors), or null.
LAST_TRANSLATE_BUTTON_JS = f"""
() => {{
  {_PRELUDE}
  const all = textIs(document, {_TRANSLATE_CSS!r}, {_TRANSLATE_TEXT!r});
  return all.length ? all[all.length - 1] : null;
}}
"""
LAST_SAVE_BUTTON_JS = f"""
() => {{
  {_PRELUDE}
  const all = textIs(document, {_SAVE_CSS!r}, {_SAVE_TEXT!r});
  return all.length ? all[all.length - 1] : null;
}}
"""
