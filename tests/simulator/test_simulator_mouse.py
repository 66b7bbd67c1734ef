"""Real mouse clicks in headless Chromium: short select lists and popups stacked over drawers."""

from __future__ import annotations

import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults

pytestmark = pytest.mark.browser
OPEN_DROPDOWN = "div.ant-select-dropdown:not(.ant-select-dropdown-hidden)"
HIT_AT_CENTRE = """e => { const r = e.getBoundingClientRect();
    return e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)); }"""
BULK = "div.ant-drawer-content:has(.ant-drawer-title span:text-is('상세페이지 이미지 일괄 편집'))"


def open_list(page, sim, account) -> None:
    testing.login(page, sim.url, account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.locator("tr.ant-table-row").first.wait_for()


def test_short_select_list_options_take_a_mouse_click(page, sim, sim_account) -> None:
    open_list(page, sim, sim_account)
    size = page.locator(
        "xpath=//div[contains(@class,'ant-select-single') and .//span[contains(text(),'개씩')]]"
    )
    size.locator("div.ant-select-selector").click()
    option = page.locator(f"{OPEN_DROPDOWN} div.ant-select-item-option[title='50개씩 보기']")
    box = option.bounding_box()
    assert box is not None and box["height"] > 0
    option.click()  # a real mouse click: no force, no keyboard, no JS click
    page.locator(OPEN_DROPDOWN).wait_for(state="detached")
    assert size.locator("span.ant-select-selection-item").get_attribute("title") == "50개씩 보기"

    # the per-row group select filtered down to a few matches by typing
    row = page.locator("tr.ant-table-row").first
    pid = row.get_attribute("data-row-key")
    row.locator("div.ant-select-show-search div.ant-select-selector").click()
    row.locator("input.ant-select-selection-search-input").press_sequentially("검수")
    options = page.locator(f"{OPEN_DROPDOWN} div.ant-select-item-option")
    assert options.count() == 4  # 번역검수, 검수1, 검수2, 검수3
    page.locator(f"{OPEN_DROPDOWN} div.ant-select-item-option-content:text-is('검수2')").click()
    page.wait_for_selector(".ant-message-notice-content span:text-is('그룹이 변경되었습니다.')")
    with testing.ApiClient(sim.url, sim_account) as client:
        assert client.get(f"/api/products/{pid}")["group"] == "검수2"


def test_editor_and_popup_stack_above_the_bulk_edit_drawer(page, sim, sim_account) -> None:
    open_list(page, sim, sim_account)
    page.locator("tr.ant-table-row").first.locator("div.product-info").click()
    drawer = page.locator("div.ant-drawer-content[role=dialog]").first
    drawer.locator("div.ant-tabs-tab[data-node-key='5'] div[role=tab]").click()
    drawer.locator(
        "xpath=.//button[contains(@class,'ant-btn')][.//span[text()='일괄 편집']]"
        "[.//span[@role='img' and @aria-label='form']]"
    ).click()
    bulk = page.locator(BULK)
    bulk.locator("xpath=(.//span[contains(@class,'FootnoteDescription') and text()='편집하기'])[1]").click()
    editor = page.locator("div.ant-modal.image-editor-modal")
    editor.locator("canvas#pCanvas").wait_for()
    assert editor.evaluate(HIT_AT_CENTRE)
    button = editor.locator("xpath=.//button[.//span[text()='원클릭 이미지 번역']]")
    button.click()  # a real mouse click reaches the editor over both drawers
    page.wait_for_function(
        "() => fetch('/api/audit').then(r => r.json()).then(a => a.length > 0)"
        " || !!document.querySelector('.ant-btn-loading')"
    )
    editor.locator("xpath=.//button[.//span[text()='수정사항 저장']]").click()
    editor.wait_for(state="detached")
    assert bulk.is_visible()


def test_marketing_popup_stacks_above_the_drawers(page, tmp_path, sim_workbook, sim_account) -> None:
    with testing.simulator(tmp_path, sim_workbook, faults=Faults(popup_rate=1.0)) as sim:
        open_list(page, sim, sim_account)
        popup = page.locator("div.ant-modal.notice-popup")
        popup.locator("xpath=.//button[.//span[text()='닫기']]").click()
        popup.wait_for(state="detached")
        page.locator("tr.ant-table-row").first.locator("div.product-info").click()
        drawer = page.locator("div.ant-drawer-content[role=dialog]").first
        drawer.wait_for()
        popup.wait_for()  # opening the drawer was an API-backed action
        assert popup.evaluate(HIT_AT_CENTRE)
        popup.locator("xpath=.//button[.//span[text()='닫기']]").click()
        popup.wait_for(state="detached")
        assert drawer.is_visible()
