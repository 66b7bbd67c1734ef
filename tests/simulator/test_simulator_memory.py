"""Leak mode: browser memory climbs with every action and falls after a browser restart."""

from __future__ import annotations

import psutil
import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults

pytestmark = pytest.mark.browser


def _marked_chromium_pids() -> set[int]:
    """Chromium processes started by this pytest session (they inherit its marker variable)."""
    import os

    marker = os.environ["STEPBATCH_TEST_SESSION"]
    pids = set()
    for proc in psutil.process_iter(["name"]):
        try:
            if (
                "chrom" in (proc.info["name"] or "").lower()
                and proc.environ().get("STEPBATCH_TEST_SESSION") == marker
            ):
                pids.add(proc.pid)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


def _pss_mb(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


class _Session:
    """One browser logged in to the list, with CDP metrics and its own process tree."""

    def __init__(self, pw, sim, account) -> None:
        before = _marked_chromium_pids()
        self.browser = testing.launch_chromium(pw)
        self.pids = _marked_chromium_pids() - before
        self.page = self.browser.new_page(viewport={"width": 1600, "height": 900})
        self.cdp = self.page.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")
        testing.login(self.page, sim.url, account)
        self.page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
        self.page.wait_for_selector("tr.ant-table-row")

    def heap_mb(self) -> float:
        self.cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        return metrics["JSHeapUsedSize"] / 2**20

    def pss_mb(self) -> float:
        return _pss_mb(
            self.pids
            | {
                c.pid
                for p in self.pids
                if psutil.pid_exists(p)
                for c in psutil.Process(p).children(recursive=True)
            }
        )

    def act(self, n: int) -> None:
        for _ in range(n):
            self.page.click("button:has-text('새로고침')")
            self.page.wait_for_selector(".ant-spin-spinning", state="detached")

    def close(self) -> None:
        self.browser.close()


@pytest.mark.parametrize(("leak_mb", "actions"), [(1.0, 200), (0.0, 60)])
def test_memory_grows_with_actions_and_falls_after_restart(
    tmp_path, sim_workbook, sim_account, leak_mb, actions
) -> None:
    from stepbatch.browser.playwright_session import playwright_driver

    faults = Faults(leak_mb_per_action=leak_mb)
    pw = playwright_driver()  # one sync driver per thread, shared with the other tests
    with testing.simulator(tmp_path, sim_workbook, faults=faults) as sim:
        s = _Session(pw, sim, sim_account)
        try:
            heap0, pss0 = s.heap_mb(), s.pss_mb()
            s.act(actions)
            heap1, pss1 = s.heap_mb(), s.pss_mb()
        finally:
            s.close()
        s = _Session(pw, sim, sim_account)
        try:
            heap2, pss2 = s.heap_mb(), s.pss_mb()
        finally:
            s.close()
    print(
        f"\nleak {leak_mb} MB/action, {actions} actions: JS heap {heap0:.0f} → {heap1:.0f} MB, "
        f"PSS {pss0:.0f} → {pss1:.0f} MB; after restart: heap {heap2:.0f} MB, PSS {pss2:.0f} MB"
    )
    if leak_mb:
        assert heap1 - heap0 > 0.6 * actions * leak_mb  # retained, not collected
        assert pss1 - pss0 > 0.5 * actions * leak_mb
        assert heap2 < heap1 / 3 and pss2 < pss1 - 0.5 * actions * leak_mb
    else:
        assert heap1 - heap0 < 25
