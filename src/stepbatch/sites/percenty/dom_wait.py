"""Waits that run in the page: a predicate polled on every animation frame, alone or right after a click.

A wait polled from Python costs a round trip per look, and Playwright's own `wait_for` backs off to
100–500 ms between looks. These scripts look on every frame (or every 50 ms where frames are throttled)
and answer once, so a wait lasts as long as its condition and no longer.

`click_until_script` is a user's click (`dom_click.CLICK_JS`) and the wait for what it brings, in one
call: the round trip between the two was a large part of every tab switch, delete and editor step. While
it waits it watches the page's own answers (the Resource Timing API's `responseStatus`): a 5xx or 401
answer ends the wait at once, so the caller's retry or session check runs without waiting the timeout.
Where the status is not exposed (a cross-origin API without CORS timing), the wait simply lasts until its
condition or its timeout, and the caller's answer check still sees the status: slower, never wrong.
"""

from __future__ import annotations

import functools

from stepbatch.sites.percenty.dom_click import CLICK_JS

FRAME_JS = """() => new Promise(r => {
    const t = setTimeout(r, 50);
    requestAnimationFrame(() => { clearTimeout(t); r(); });
  })"""

# Failed answers (5xx, 401) of the page's fetch/XHR calls that end after `watch()`: `watch().failed()`.
_WATCH_ANSWERS_JS = """() => {
    let failed = 0, observer = null;
    try {
      observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) {
          const api = e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest';
          if (api && (e.responseStatus >= 500 || e.responseStatus === 401)) failed = e.responseStatus;
        }
      });
      observer.observe({type: 'resource'});
    } catch (e) { observer = null; }
    return {failed: () => failed, stop: () => observer && observer.disconnect()};
  }"""


@functools.lru_cache(maxsize=256)
def poll_script(predicate: str) -> str:
    """`predicate(arg)` polled until it returns a truthy value or `timeoutMs` passes: {ok, value}."""
    return f"""async ([arg, timeoutMs]) => {{
  const test = ({predicate});
  const frame = {FRAME_JS};
  const deadline = performance.now() + timeoutMs;
  for (;;) {{
    const value = await test(arg);
    if (value) return {{ok: true, value}};
    if (performance.now() >= deadline) return {{ok: false}};
    await frame();
  }}
}}"""


@functools.lru_cache(maxsize=256)
def click_until_script(predicate: str) -> str:
    """For `Locator.evaluate_all`: click the locator's one match, then poll `predicate(arg)`.

    Answers {outcome} when the click was not made (`dom_click` reasons: nothing was done), else
    {outcome: 'clicked', ok, value, failed}: `ok` when the predicate held (its `value`), `failed` the status
    of a failed answer that ended the wait early (0 when none did)."""
    return f"""async (els, [arg, timeoutMs]) => {{
  const test = ({predicate});
  const frame = {FRAME_JS};
  if (els.length !== 1) return {{outcome: els.length ? 'ambiguous' : 'absent'}};
  const answers = ({_WATCH_ANSWERS_JS})();
  try {{
    const outcome = ({CLICK_JS})(els[0]);
    if (outcome !== 'clicked') return {{outcome}};
    const deadline = performance.now() + timeoutMs;
    for (;;) {{
      const value = await test(arg);
      if (value) return {{outcome, ok: true, value, failed: 0}};
      if (answers.failed()) return {{outcome, ok: false, failed: answers.failed()}};
      if (performance.now() >= deadline) return {{outcome, ok: false, failed: 0}};
      await frame();
    }}
  }} finally {{ answers.stop(); }}
}}"""


# Where a real mouse click on the locator's one match would land: the centre of its box once the box is
# stable (the same over two animation frames, as Playwright's click waits: a dropdown still sliding open
# would move its options under the pointer), when the element is enabled and topmost there; else why not
# (as dom_click's reasons).
MOUSE_POINT_JS = f"""async els => {{
  if (els.length !== 1) return {{outcome: els.length ? 'ambiguous' : 'absent'}};
  const el = els[0];
  const frame = {FRAME_JS};
  if (el.disabled || el.getAttribute('aria-disabled') === 'true') return {{outcome: 'disabled'}};
  const style = getComputedStyle(el);
  if (style.visibility !== 'visible' || style.pointerEvents === 'none') return {{outcome: 'hidden'}};
  let box = el.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return {{outcome: 'hidden'}};
  if (box.bottom <= 0 || box.right <= 0 || box.top >= innerHeight || box.left >= innerWidth) {{
    el.scrollIntoView({{block: 'center', inline: 'center'}});
  }}
  for (let i = 0; ; i++) {{
    box = el.getBoundingClientRect();
    await frame();
    const now = el.getBoundingClientRect();
    if (now.x === box.x && now.y === box.y && now.width === box.width && now.height === box.height) break;
    if (i >= 30) return {{outcome: 'moving'}};
  }}
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === el || el.contains(hit))) return {{outcome: 'covered'}};
  return {{outcome: 'clicked', x, y}};
}}"""


CSS_STATE_JS = """([selector, state]) => {
  const el = document.querySelector(selector);
  if (state === 'detached') return !el;
  if (state === 'attached') return !!el;
  const box = el ? el.getBoundingClientRect() : null;
  const shown = !!el && box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
  return state === 'visible' ? shown : !shown;
}"""
