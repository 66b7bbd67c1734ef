"""Browser restart cost, fresh-browser memory (PSS vs USS vs RSS) and the cost of one memory sample,
Playwright and Selenium side by side. Writes the `## Browser` section of docs/benchmarks.md.

    .venv/bin/python bench/browser_restart.py [--restarts 7] [--samples 50] [--no-write]
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.browser.playwright_session import playwright_driver, stop_driver

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
PAGE = "<!doctype html><meta charset=utf-8><title>bench</title><h1>상품 목록</h1>" + "<p>row</p>" * 200


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE.encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def goto(session, url: str) -> None:
    if session.kind == "selenium":
        session.driver.get(url)
    else:
        session.page.goto(url)


def measure(kind: str, url: str, restarts: int, samples: int) -> dict[str, float]:
    options = BrowserOptions(kind=kind, offline=True)
    out: dict[str, float] = {}
    if kind == "playwright":
        t0 = time.perf_counter()
        playwright_driver()
        out["driver_start_s"] = time.perf_counter() - t0
    session = start_session(options)
    goto(session, url)
    out.update(memory_snapshot(session))
    out["sample_ms"] = median_ms(lambda: session._tree.memory_mb(max_age_s=0), samples)
    out["sample_refresh_ms"] = median_ms(
        lambda: (session._tree._refresh(force=True), session._tree.memory_mb(max_age_s=0)), samples
    )
    out["sample_reused_ms"] = median_ms(session.memory_mb, samples)
    closes, starts, firsts, totals = [], [], [], []
    for _ in range(restarts):
        t0 = time.perf_counter()
        session.close()
        t1 = time.perf_counter()
        session = start_session(options)
        t2 = time.perf_counter()
        goto(session, url)
        t3 = time.perf_counter()
        closes.append(t1 - t0)
        starts.append(t2 - t1)
        firsts.append(t3 - t2)
        totals.append(t3 - t0)
    session.close()
    out.update(
        close_s=statistics.median(closes),
        start_s=statistics.median(starts),
        first_page_s=statistics.median(firsts),
        restart_s=statistics.median(totals),
    )
    return out


def memory_snapshot(session) -> dict[str, float]:
    procs = [psutil.Process(p) for p in session.pids]
    full = [p.memory_full_info() for p in procs]
    mb = 1024 * 1024
    return {
        "procs": len(procs),
        "pss_mb": sum(f.pss for f in full) / mb,
        "uss_mb": sum(f.uss for f in full) / mb,
        "rss_mb": sum(f.rss for f in full) / mb,
    }


def median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def render(results: dict[str, dict[str, float]], command: str) -> str:
    pw, se = results["playwright"], results["selenium"]
    rows = [
        ("restart: close + start + first local page (median)", "restart_s", "s", 2),
        ("· close", "close_s", "s", 3),
        ("· start (launch to usable page)", "start_s", "s", 3),
        ("· first page (local HTTP, 127.0.0.1)", "first_page_s", "s", 3),
        ("fresh browser: processes in the tree", "procs", "", 0),
        ("fresh browser: PSS summed (what memory_mb() reports)", "pss_mb", "MB", 0),
        ("fresh browser: USS summed (private pages only)", "uss_mb", "MB", 0),
        ("fresh browser: RSS summed (shared pages counted per process)", "rss_mb", "MB", 0),
        ("one memory_mb() sample, cached process list (median)", "sample_ms", "ms", 1),
        ("one memory_mb() sample with a forced tree refresh (median)", "sample_refresh_ms", "ms", 1),
        ("one memory_mb() answer reused (RSS checked; median)", "sample_reused_ms", "ms", 2),
    ]
    lines = [
        "## Browser",
        "",
        f"Command: `{command}` (headless Chromium 156 from Debian, offline flags, one run, medians).",
        "",
        "| measure | Playwright | Selenium |",
        "|---|---|---|",
    ]
    for label, key, unit, digits in rows:
        lines.append(f"| {label} | {pw[key]:.{digits}f} {unit} | {se[key]:.{digits}f} {unit} |")
    lines += [
        "",
        f"- Playwright driver (Node) start, paid once per process: {pw['driver_start_s']:.2f} s; a browser "
        f"restart reuses the driver, so recycling costs {pw['restart_s']:.2f} s, not "
        f"{pw['restart_s'] + pw['driver_start_s']:.2f} s.",
        f"- RSS / PSS: Playwright {pw['rss_mb'] / pw['pss_mb']:.1f}×, "
        f"Selenium {se['rss_mb'] / se['pss_mb']:.1f}× "
        "— summing RSS over the tree double-counts the pages the Chromium processes share, so memory limits "
        "use PSS (USS, then RSS, where PSS is unavailable: Windows/macOS).",
        f"- Restart ratio Selenium / Playwright: {se['restart_s'] / pw['restart_s']:.2f}×.",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    start = text.find("\n## Browser\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        text = text[: start + 1] + section + (text[end + 1 :] if end != -1 else "")
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--restarts", type=int, default=7)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        results = {
            kind: measure(kind, url, args.restarts, args.samples) for kind in ("playwright", "selenium")
        }
    finally:
        server.shutdown()
        stop_driver()
    command = "python bench/browser_restart.py " + " ".join(sys.argv[1:])
    section = render(results, command.strip())
    print(section)
    if not args.no_write:
        write_section(section)


if __name__ == "__main__":
    main()
