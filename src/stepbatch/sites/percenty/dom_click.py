"""A user's click as one script call: the same checks and events as Playwright's click, no extra trips.

Playwright's `Locator.click` costs several round trips (actionability checks, scrolling, then the mouse
events through the browser's input pipeline): about 80 ms on an idle 2-core machine, 34 times per step3
product, which alone was more than the whole per-product budget (bench/step3_profile.py).

`CLICK_JS` does what that click does, in the page: the element must be connected, visible, enabled and
the topmost element at its centre (so a modal wrapper or a popup over it still stops the click, as it
stops a user), and then the pointer and mouse events a real click fires go to that topmost element, in
order, with the click's coordinates. When any check fails it does nothing and says why, and the caller
falls back to Playwright's click, which waits for the element to become clickable and runs the page's
overlay handlers.

Evidence: the old production scripts clicked this site's buttons, checkboxes, tabs and modal buttons
with a DOM `element.click()` (docs/design/real-dom.md, "Clicks"), so the site acts on script-dispatched
clicks. Events from a script are not `isTrusted`; nothing in the captures checks that. Select boxes are
left to Playwright's mouse (`real_mouse=True`): the captures show nothing of how their lists react.
Should the site ever ignore script clicks, `STEPBATCH_REAL_MOUSE=1` sends every click through the mouse.
"""

from __future__ import annotations

import os

from playwright.sync_api import Locator

CLICKED = "clicked"
REAL_MOUSE_ENV = "STEPBATCH_REAL_MOUSE"  # "1": every click through Playwright's mouse (the slower way)

CLICK_JS = """el => {
  if (!el.isConnected) return "detached";
  if (el.disabled || el.getAttribute("aria-disabled") === "true") return "disabled";
  const style = getComputedStyle(el);
  if (style.visibility !== "visible" || style.pointerEvents === "none") return "hidden";
  let box = el.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return "hidden";
  if (box.bottom <= 0 || box.right <= 0 || box.top >= innerHeight || box.left >= innerWidth) {
    el.scrollIntoView({block: "center", inline: "center"});
    box = el.getBoundingClientRect();
  }
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = document.elementFromPoint(x, y);
  if (!hit || !(hit === el || el.contains(hit))) return "covered";
  const at = {bubbles: true, cancelable: true, composed: true, view: window, clientX: x, clientY: y,
              screenX: x, screenY: y, button: 0};
  const pointer = {...at, pointerId: 1, pointerType: "mouse", isPrimary: true};
  hit.dispatchEvent(new PointerEvent("pointerover", pointer));
  hit.dispatchEvent(new MouseEvent("mouseover", at));
  hit.dispatchEvent(new PointerEvent("pointerdown", {...pointer, buttons: 1}));
  hit.dispatchEvent(new MouseEvent("mousedown", {...at, buttons: 1, detail: 1}));
  const focusable = hit.closest("button, a[href], input, select, textarea, [tabindex]");
  if (focusable && document.activeElement !== focusable) focusable.focus({preventScroll: true});
  hit.dispatchEvent(new PointerEvent("pointerup", pointer));
  hit.dispatchEvent(new MouseEvent("mouseup", {...at, detail: 1}));
  hit.dispatchEvent(new MouseEvent("click", {...at, detail: 1}));
  return "clicked";
}"""


# Over the locator's matches, in one call (`Locator.evaluate` costs three: it waits for an element handle,
# evaluates on it and disposes it, about 20 ms more on this machine). One match, as Playwright's strictness.
_CLICK_ONE_JS = f"els => els.length === 1 ? ({CLICK_JS})(els[0]) : (els.length ? 'ambiguous' : 'absent')"


def script_click(target: Locator, timeout_ms: int) -> str:
    """Click `target` in one script call; returns "clicked", or why not (nothing was done then).

    Waits (up to `timeout_ms`) only for the element to exist, like the first step of Playwright's click;
    "ambiguous" when it matches several (Playwright's click then reports the strict-mode violation).
    """
    outcome = str(target.evaluate_all(_CLICK_ONE_JS))
    if outcome == "absent":
        target.wait_for(state="attached", timeout=timeout_ms)
        outcome = str(target.evaluate_all(_CLICK_ONE_JS))
    return outcome


def script_clicks_wanted() -> bool:
    return os.environ.get(REAL_MOUSE_ENV, "").strip() not in ("1", "true", "yes")
