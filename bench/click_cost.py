"""What one click and one read cost on a product drawer of the simulator, by how they are sent.

Headless Chromium, logged in, one product drawer open; each way is timed over `--n` calls (median, min):
a bare `page.evaluate`, `Locator.count` (resolved in Playwright's utility world), `Locator.evaluate`
(element handle, evaluate, dispose), `Locator.evaluate_all` (one call), a tab click by each of the two
script-click paths and by Playwright's mouse, and the same click as `page.evaluate` over a CSS selector.

Usage: .venv/bin/python bench/click_cost.py [--n 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stepbench import bench_workbook, simulator, table
from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.simulator.faults import Faults
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.dom_click import CLICK_JS, script_click
from stepbatch.sites.percenty.site import PercentySite


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="click-cost-"))
    workbook = bench_workbook(folder, 2, ops=None)
    session = start_session(BrowserOptions(offline=True))
    try:
        with simulator(folder, workbook, Faults(), per_code=3) as sim:
            account = sim.book.accounts[0]
            site = PercentySite(sim.url)
            site.open(session, account)
            site.ensure_list()
            site.list.search(sim.book.units(account, "step3")[0].provider_code)
            site.editor.open(site.list.row(site.list.row_ids()[0]))
            rows = measure(session.page, args.n)
    finally:
        session.close()
    print(table(["call (tab button of the product drawer)", "median ms", "min ms"], rows))
    return 0


def measure(page, n: int) -> list[list[object]]:
    keys = [S.TAB_KEYS["detail"], S.TAB_KEYS["thumbnails"]]
    turn = [0]

    def tab(next_tab: bool = True):
        if next_tab:
            turn[0] ^= 1
        return page.locator(S.tab(keys[turn[0]])).first.locator(S.TAB_BUTTON).first

    css = S.tab(keys[0]) + " " + S.TAB_BUTTON
    ways: list[tuple[str, Callable[[], object]]] = [
        ("page.evaluate (nothing)", lambda: page.evaluate("() => 1")),
        ("Locator.count", lambda: tab(False).count()),
        ("Locator.evaluate (nothing)", lambda: tab(False).evaluate("el => 1")),
        ("Locator.evaluate_all (nothing)", lambda: tab(False).evaluate_all("els => els.length")),
        ("tab click: CLICK_JS by Locator.evaluate", lambda: tab().evaluate(CLICK_JS)),
        ("tab click: script_click (evaluate_all)", lambda: script_click(tab(), 4000)),
        ("tab click: Playwright's mouse", lambda: tab().click()),
        (
            "tab click: page.evaluate over CSS",
            lambda: page.evaluate(f"s => ({CLICK_JS})(document.querySelector(s))", css),
        ),
    ]
    rows = []
    for name, fn in ways:
        values = timed(fn, n)
        rows.append([name, f"{statistics.median(values):.1f}", f"{min(values):.1f}"])
    return rows


if __name__ == "__main__":
    sys.exit(main())
