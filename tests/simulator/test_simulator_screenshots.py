"""Screenshots of the list and the open drawer for the docs (docs/img/simulator-*.png)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepbatch.simulator import testing

pytestmark = pytest.mark.browser
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_screenshots(chromium, sim, sim_account) -> None:
    context = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="ko-KR")
    try:
        page = context.new_page()
        testing.login(page, sim.url, sim_account)
        page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
        page.wait_for_selector("tr.ant-table-row")
        page.locator("tr.ant-table-row").nth(1).locator("label.ant-checkbox-wrapper").click()
        page.wait_for_function(
            "() => document.querySelectorAll('img').length > 0 && [...document.images].every(i => i.complete)"
        )
        IMG.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMG / "simulator-list.png"))
        page.locator("tr.ant-table-row .product-info").first.click()
        page.wait_for_selector(".ant-drawer-content .ant-tabs-nav-list")
        page.keyboard.press("Alt+6")
        page.wait_for_selector(".ck-toolbar button[data-cke-tooltip-text='HTML 삽입']")
        page.wait_for_function("[...document.images].every(i => i.complete)")
        page.screenshot(path=str(IMG / "simulator-drawer.png"))
    finally:
        context.close()
    for name in ("simulator-list.png", "simulator-drawer.png"):
        data = (IMG / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
