"""The report opened in real headless Chromium: the chart is drawn, markers match restarts, JS filters."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_eventgen import generate_run

from stepbatch.browser.flags import chromium_args
from stepbatch.browser.playwright_session import playwright_driver
from stepbatch.report.html import write_report

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.mark.browser
def test_report_chart_draws_in_chromium_and_screenshot(runs_root: Path) -> None:
    run_dir, exp = generate_run(runs_root, codes=14, batch_size=4, stop_account=True, seed=3)
    html_path = write_report(run_dir)
    pw = playwright_driver()  # the process-wide driver: a second sync driver in one thread fails
    browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=chromium_args(offline=True))
    try:
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        failed_requests: list[str] = []
        page.on("requestfailed", lambda r: failed_requests.append(r.url))
        page.goto(html_path.as_uri())
        line = page.locator("svg.memory-chart path.mem-line")
        line.wait_for(timeout=30_000)
        d = line.get_attribute("d") or ""
        assert d.startswith("M") and d.count("L") == exp.memory_samples - 1
        box = line.bounding_box()
        assert box is not None and box["width"] > 500 and box["height"] > 50  # really laid out
        assert page.locator("svg.memory-chart circle.mem-point").count() == exp.memory_samples
        markers = page.locator("svg.memory-chart g.restart-marker")
        assert markers.count() == len(exp.restarts)
        reasons = [markers.nth(i).get_attribute("data-reason") for i in range(markers.count())]
        assert reasons == exp.restarts
        assert page.locator("svg.timeline g.batch-bar").count() == 4
        assert page.locator("#outcome").inner_text() == "stopped"

        rows = page.locator("#codes tbody tr[data-status]")
        assert rows.count() == len(exp.statuses)
        page.locator("#only-problems").check()
        visible = [r for r in rows.all() if r.is_visible()]
        assert len(visible) == sum(v in ("failed", "partial") for v in exp.statuses.values())
        page.locator("#only-problems").uncheck()
        page.locator("#code-filter").fill("C12")
        page.wait_for_function("document.getElementById('shown-count').textContent.startsWith('1 /')")

        page.locator("#code-filter").fill("")
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shot = DOCS_IMG / "report-example.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
        assert failed_requests == []

        page.locator("#codes a.shot").first.click()  # the Korean/@ file name must survive URL encoding
        page.wait_for_url("**/artifacts/*.png")
        assert page.evaluate("document.images.length && document.images[0].naturalWidth") == 1
    finally:
        browser.close()
