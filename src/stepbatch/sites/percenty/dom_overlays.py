"""Page scripts for the layers over the UI: Channel Talk's widget, notice popups, lingering modal wrappers."""

from __future__ import annotations

from stepbatch.sites.percenty import selectors as S

# Injected once per document so Channel Talk never covers the UI, even after a reload or re-login.
CHANNEL_TALK_SCRIPT = f"""
(() => {{
  const add = () => {{
    if (document.getElementById('{S.CHANNEL_TALK_STYLE_ID}')) return;
    const s = document.createElement('style');
    s.id = '{S.CHANNEL_TALK_STYLE_ID}';
    s.textContent = {S.CHANNEL_TALK_CSS!r};
    (document.head || document.documentElement).appendChild(s);
  }};
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', add); else add();
}})();
"""

# A wrap is lingering when it holds no visible modal (the dialog closed but the wrapper stayed). It goes
# with the mask beside it. A live modal's mask is never touched: the site removes it itself when the
# modal closes, and a modal whose mask is already gone can no longer close.
REMOVE_LINGERING_JS = f"""
() => {{
  const live = (wrap) => {{
    const modal = wrap.querySelector({S.MODAL!r});
    return !!modal && modal.getClientRects().length > 0 && getComputedStyle(wrap).display !== 'none';
  }};
  const siblings = (node, sel) =>
    node.parentElement ? [...node.parentElement.children].filter(c => c.matches(sel)) : [];
  let removed = 0;
  for (const wrap of document.querySelectorAll({S.MODAL_WRAP!r})) {{
    if (live(wrap)) continue;
    for (const mask of siblings(wrap, {S.MODAL_MASK!r})) {{ mask.remove(); removed++; }}
    wrap.remove(); removed++;
  }}
  for (const mask of document.querySelectorAll({S.MODAL_MASK!r})) {{
    if (!siblings(mask, {S.MODAL_WRAP!r}).some(live)) {{ mask.remove(); removed++; }}
  }}
  if (![...document.querySelectorAll({S.MODAL_WRAP!r})].some(live)) {{
    document.body.classList.remove({S.BODY_MODAL_OPEN_CLASS!r});
    document.body.style.overflow = '';
  }}
  return removed;
}}
"""


HIT_JS = """
(el) => {
  const r = el.getBoundingClientRect();
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return !!hit && (hit === el || el.contains(hit));
}
"""


DISMISS_POPUPS_JS = f"""
() => {{
  let closed = 0;
  for (const wrap of document.querySelectorAll({S.MODAL_WRAP!r})) {{
    if (!wrap.getClientRects().length) continue;
    const button = [...wrap.querySelectorAll('button')]
      .find(b => b.textContent.trim() === {S.POPUP_DONT_SHOW_AGAIN_TEXT!r});
    if (button) {{ button.click(); closed++; }}
  }}
  return closed;
}}
"""
