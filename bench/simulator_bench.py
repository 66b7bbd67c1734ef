"""Simulator speed and leak-mode memory: writes the `## Simulator` section of docs/benchmarks.md.

Usage: .venv/bin/python bench/simulator_bench.py [--samples 30] [--actions 150] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults
from stepbatch.workbook import load_workbook

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADING = "## Simulator"


def api_latencies(url: str, account: object, samples: int) -> dict[str, float]:
    with testing.ApiClient(url, account) as api:  # type: ignore[arg-type]
        items = api.get("/api/products", group="신규수집", size=100)["items"]
        out: dict[str, list[float]] = {"list (50 rows)": [], "product detail": [], "group move": []}
        for i in range(samples):
            for name, call in (
                ("list (50 rows)", lambda: api.get("/api/products", group="신규수집", size=50)),
                ("product detail", lambda i=i: api.get(f"/api/products/{items[i % len(items)]['id']}")),
                (
                    "group move",
                    lambda i=i: api.post(
                        f"/api/products/{items[i % len(items)]['id']}/group", {"group": "대기1"}
                    ),
                ),
            ):
                start = time.perf_counter()
                call()
                out[name].append((time.perf_counter() - start) * 1000)
    return {k: statistics.median(v) for k, v in out.items()}


def tree_pss_mb(pids: set[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


def browser_run(pw: object, url: str, account: object, actions: int) -> dict[str, float]:
    me = psutil.Process(os.getpid())
    before = {p.pid for p in me.children(recursive=True)}
    browser = testing.launch_chromium(pw)

    def pss() -> float:  # the renderer appears after launch: take the tree at each sample
        return tree_pss_mb({p.pid for p in me.children(recursive=True)} - before)

    page = browser.new_page(viewport={"width": 1600, "height": 900})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")

    def heap() -> float:
        cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return metrics["JSHeapUsedSize"] / 2**20

    testing.login(page, url, account)  # type: ignore[arg-type]
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.wait_for_selector("tr.ant-table-row")
    h0, p0 = heap(), pss()
    reloads = []
    for _ in range(actions):
        start = time.perf_counter()
        page.click("button:has-text('새로고침')")
        page.wait_for_selector(".ant-spin-spinning", state="detached")
        reloads.append((time.perf_counter() - start) * 1000)
    h1, p1 = heap(), pss()
    browser.close()
    return {
        "heap0": h0,
        "heap1": h1,
        "pss0": p0,
        "pss1": p1,
        "reload_ms": statistics.median(reloads) if reloads else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--actions", type=int, default=150)
    parser.add_argument("--leak-mb", type=float, default=1.0)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        wb = testing.make_workbook(folder, accounts=1, codes=12, seed=2)
        account = load_workbook(wb).accounts[0]
        with testing.simulator(folder / "a", wb) as sim:
            api = api_latencies(sim.url, account, args.samples)
        with sync_playwright() as pw:
            runs = {}
            for leak in (0.0, args.leak_mb):
                with testing.simulator(
                    folder / f"b{leak}", wb, faults=Faults(leak_mb_per_action=leak)
                ) as sim:
                    runs[leak] = browser_run(pw, sim.url, account, args.actions)
            with testing.simulator(folder / "c", wb) as sim:
                fresh = browser_run(pw, sim.url, account, 0)
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        f"Command: `.venv/bin/python bench/simulator_bench.py --samples {args.samples}"
        f" --actions {args.actions}"
        f" --leak-mb {args.leak_mb}` (one run; thread-mode server, headless Chromium, load average"
        f" {load:.1f} at the end: the machine is shared).",
        "",
        "| API call (no faults) | median ms |",
        "|---|---|",
        *[f"| {name} | {ms:.1f} |" for name, ms in api.items()],
        "",
        f"| browser, {args.actions} list reloads (`새로고침`) | JS heap before → after (MB)"
        " | tree PSS before → after"
        " (MB) | median reload (ms) |",
        "|---|---|---|---|",
    ]
    for leak, r in runs.items():
        lines.append(
            f"| leak {leak:g} MB/action | {r['heap0']:.0f} → {r['heap1']:.0f} | {r['pss0']:.0f} → "
            f"{r['pss1']:.0f} | {r['reload_ms']:.0f} |"
        )
    lines.append(f"| fresh browser after a restart | {fresh['heap0']:.0f} | {fresh['pss0']:.0f} | - |")
    leak_run = runs[args.leak_mb]
    growth = (leak_run["heap1"] - leak_run["heap0"]) / max(args.actions, 1)
    lines += [
        "",
        f"Leak mode retains {growth:.2f} MB of JS heap per action (set: {args.leak_mb:g}); "
        "a restart "
        f"returns to {fresh['heap0']:.0f} MB heap / {fresh['pss0']:.0f} MB PSS.",
        "",
    ]
    section = "\n".join(lines)
    print(section)
    if not args.no_write:
        write_section(section)


def write_section(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    start = text.find(f"\n{HEADING}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + (text[end:] if end != -1 else "")
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
