"""The page in real headless Chromium during a real `stepbatch run` against the simulator: the product
count rises without a reload, an ETA shows, and the report link appears at the end and opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import launch_chromium, make_workbook, running_simulator, wait_until

pytestmark = pytest.mark.browser

TOKEN = "web-token-8c1d2e"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT = ROOT / "docs" / "img" / "web-status.png"  # refreshed with STEPBATCH_WEB_SCREENSHOT=1


def start_web(state: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    cmd = [sys.executable, "-m", "stepbatch", "web", "--state-dir", str(state), "--port", "0",
           "--token", TOKEN, "--poll-s", "0.5"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    line = wait_until(
        lambda: (
            next((w for w in log.read_text("utf-8").split() if w.startswith("http://")), None)
            or (proc.poll() is not None and "exited")
        ),
        30,
        what="the web server's ready line",
    )
    assert proc.poll() is None, log.read_text("utf-8")
    return proc, line.rstrip("/")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def products(page) -> int:
    text = page.text_content("#accounts tbody tr td.products") or "0"
    return int(text.split("/")[0].strip() or 0) if text.strip() != "-" else 0


def test_the_page_follows_a_real_run_and_links_its_report(tmp_path: Path):
    from stepbatch.browser.playwright_session import playwright_driver

    workbook = make_workbook(tmp_path, accounts=1, codes=2, seed=5, step2_share=0.0)
    state = tmp_path / "state"
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=3) as sim:
        account = sim.book.accounts[0]
        web, url = start_web(state, tmp_path / "web.log")
        run_cmd = [sys.executable, "-m", "stepbatch", "run", "step3", "--workbook", str(workbook),
                   "--account", account.email, "--base-url", sim.url, "--state-dir", str(state),
                   "--translate-all", "--batch-size", "2"]  # fmt: skip
        run = subprocess.Popen(run_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            # the process-wide driver: a second sync driver in one thread fails
            browser = launch_chromium(playwright_driver())
            try:
                page = browser.new_page(viewport={"width": 1500, "height": 420})
                page.goto(url + "/?lang=en")
                page.evaluate("window.__sameDocument = true")
                page.wait_for_selector("#accounts tbody tr .st-running", timeout=90_000)
                first = products(page)
                wait_until(lambda: products(page) > first, 90, interval=0.2, what="products rising")
                wait_until(
                    lambda: (page.text_content("#accounts tbody tr td.eta") or "-").strip() != "-",
                    90, interval=0.2, what="an ETA",
                )  # fmt: skip
                if os.environ.get("STEPBATCH_WEB_SCREENSHOT"):
                    page.screenshot(path=str(SCREENSHOT), full_page=True)
                body = page.content() + page.evaluate("fetch('/api/status').then(r => r.text())")
                assert account.password.reveal() not in body and TOKEN not in body
                out, _ = run.communicate(timeout=180)
                assert run.returncode == 0, out.decode("utf-8", "replace")
                page.wait_for_selector("#accounts tbody tr a.report", timeout=30_000)
                assert page.text_content("#accounts tbody tr .status") == "done"
                assert page.evaluate("window.__sameDocument") is True  # never reloaded
                href = page.get_attribute("#accounts tbody tr a.report", "href")
                report = browser.new_page()
                report.goto(url + href)
                assert report.title().startswith("stepbatch ") and "step3" in report.title()
                assert account.password.reveal() not in report.content()
            finally:
                browser.close()
        finally:
            stop(run)
            stop(web)
