"""The product list in real headless Chromium: login, filters, virtual list, search, paging, group moves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.testing import query

pytestmark = pytest.mark.browser
GROUP_FILTER = "(//div[contains(@class,'ant-select-single')])[3]"
OPEN_DROPDOWN = ".ant-select-dropdown:not(.ant-select-dropdown-hidden)"


def code_counts(db: Path, email: str) -> dict[str, int]:
    """Products per workbook code still in 신규수집 (what a code search in that group finds)."""
    rows = query(
        db,
        "SELECT code, SUM(grp = '신규수집') FROM products WHERE account=? AND code IS NOT NULL GROUP BY code",
        email,
    )
    return dict(rows)


def open_list(page, sim, account) -> None:
    testing.login(page, sim.url, account)
    # like the old automation: a JS click on the menu item's inner span (works by bubbling)
    page.evaluate(
        "document.querySelector(\"li[data-menu-id$='-1-PRODUCT_MANAGE'] span.ant-menu-title-content\")"
        ".click()"
    )
    page.wait_for_selector("tr.ant-table-row, tr.ant-table-placeholder")


def total_text(page) -> int:
    text = page.locator("xpath=//span[contains(text(),'총') and contains(text(),'개 상품')]").inner_text()
    return int(re.sub(r"[^0-9]", "", text))


def wait_total(page, n: int) -> None:
    try:
        _wait_total(page, n)
    except Exception:
        shown = page.locator(
            "xpath=//span[contains(text(),'총') and contains(text(),'개 상품')]"
        ).all_inner_texts()
        raise AssertionError(f"expected 총 {n}개 상품, the page shows {shown}") from None


def _wait_total(page, n: int) -> None:
    page.wait_for_function(
        "n => [...document.querySelectorAll('span')]"
        ".some(s => s.textContent === `총 ${n.toLocaleString('ko-KR')}개 상품`)"
        " && !document.querySelector('.ant-spin-spinning')",
        arg=n,
    )


# Scroll the virtual list's holder by three rows and resolve once the holder's scroll event was handled
# (the list re-renders its window in its own, earlier registered, listener); false at the list's end.
SCROLL_ONE_STEP = """h => new Promise(resolve => {
    const top = h.scrollTop;
    h.scrollTop += 96;
    if (h.scrollTop === top) { resolve(false); return; }
    h.addEventListener("scroll", () => resolve(true), {once: true});
})"""


def pick_group_filter(page, name: str) -> None:
    """Open the group filter, scroll its virtual list until `name` is rendered, pick it."""
    option = page.locator(f"{OPEN_DROPDOWN} .ant-select-item-option[title='{name}']")
    for _ in range(3):  # a re-render between locating and clicking can put another option there
        page.locator(GROUP_FILTER).click()
        holder = page.locator(f"{OPEN_DROPDOWN} .rc-virtual-list-holder")
        for _ in range(40):
            if option.count() or not holder.evaluate(SCROLL_ONE_STEP):
                break
        option.evaluate("o => o.scrollIntoView({block: 'nearest'})")
        page.wait_for_function(
            "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))) .then(() => true)"
        )
        option.click()
        chosen = page.locator(GROUP_FILTER).locator(".ant-select-selection-item").get_attribute("title")
        if chosen == name:
            return
    raise AssertionError(f"could not pick {name}")


def test_sign_in_errors_then_lands_on_root(page, sim, sim_account) -> None:
    page.goto(sim.url + "/")
    assert page.url == sim.url + "/signin"
    page.fill("input#email", sim_account.email)
    page.fill("input#password", "not-the-password")
    page.click("text=이메일 로그인")
    page.wait_for_selector("text=이메일 또는 비밀번호가 일치하지 않습니다.")
    assert page.url == sim.url + "/signin"
    page.locator("label:has(#saveId)").click()
    assert page.locator("#saveId").is_checked()
    page.fill("input#password", sim_account.password.reveal())
    page.click("text=이메일 로그인")
    page.wait_for_url(sim.url + "/")
    menu_id = page.locator("li.ant-menu-item:has-text('등록 상품 관리')").get_attribute("data-menu-id")
    assert re.fullmatch(r"rc-menu-uuid-\d+-1-PRODUCT_MANAGE", menu_id)
    assert query(sim.db_path, "SELECT COUNT(*) FROM audit") == [(0,)]


def test_group_filter_virtual_list_page_size_search_and_paging(page, sim, sim_account) -> None:
    open_list(page, sim, sim_account)
    email = sim_account.email
    all_count = query(sim.db_path, "SELECT COUNT(*) FROM products WHERE account=?", email)[0][0]
    wait_total(page, all_count)
    selects = page.locator(".ant-select-single")
    assert "ant-select-outlined" in selects.nth(0).get_attribute("class")  # 상태 first
    assert "ant-select-borderless" in selects.nth(2).get_attribute("class")
    assert selects.nth(2).locator("input").get_attribute("readonly") is not None
    assert re.fullmatch(r"rc_select_\d+", selects.nth(2).locator("input").get_attribute("id"))

    page.locator(GROUP_FILTER).click()
    rendered = page.locator(f"{OPEN_DROPDOWN} .ant-select-item-option")
    assert 8 <= rendered.count() <= 12  # a window over 52 options
    assert page.locator(f"{OPEN_DROPDOWN} .ant-select-item-option[title='대기3']").count() == 0
    page.keyboard.press("Escape")
    assert page.locator(".ant-select-dropdown.ant-select-dropdown-hidden").count() >= 1  # stays in the DOM

    moved = query(sim.db_path, "SELECT id FROM products WHERE account=? AND code IS NOT NULL LIMIT 3", email)
    for (pid,) in moved:
        query(sim.db_path, "UPDATE products SET grp='대기3' WHERE id=?", pid)
    waiting = query(sim.db_path, "SELECT COUNT(*) FROM products WHERE account=? AND grp='대기3'", email)[0][0]
    pick_group_filter(page, "대기3")  # the 41st group: needs scrolling the holder
    wait_total(page, waiting)
    assert page.locator(GROUP_FILTER).locator(".ant-select-selection-item").get_attribute("title") == "대기3"

    pick_group_filter(page, "신규수집")
    counts = code_counts(sim.db_path, email)
    big = max(counts, key=counts.get)
    new_total = query(sim.db_path, "SELECT COUNT(*) FROM products WHERE account=? AND grp='신규수집'", email)[
        0
    ][0]
    wait_total(page, new_total)
    assert page.locator("tr.ant-table-row").count() == 20
    page.locator(
        "xpath=//div[contains(@class,'ant-select-single') and .//span[contains(text(),'개씩')]]"
        "//div[contains(@class,'ant-select-selector')]"
    ).click()
    page.locator(
        "xpath=//div[contains(@class,'ant-select-dropdown') and not(contains(@class,'hidden'))]"
        "//div[@class='ant-select-item-option-content' and contains(., '50')]"
    ).click()
    page.wait_for_function("document.querySelectorAll('tr.ant-table-row').length === 50")

    page.fill("input.ant-input[placeholder='상품명 입력']", big)
    page.press("input.ant-input[placeholder='상품명 입력']", "Enter")
    wait_total(page, counts[big])
    assert counts[big] > 50
    assert page.locator("tr.ant-table-row").count() == 50
    assert page.locator("tbody tr").first.get_attribute("class") == "ant-table-measure-row"
    keys = page.locator("tr.ant-table-row").evaluate_all("rs => rs.map(r => r.dataset.rowKey)")
    assert all(re.fullmatch(r"[0-9a-f]{24}", k) for k in keys)
    names = page.locator("tr.ant-table-row .ant-flex-vertical > span:first-child").all_inner_texts()
    assert all(re.search(rf"{big}Z\d{{1,2}}[A-Z]*$", n) for n in names)
    assert any(re.search(r"Z\d{1,2}$", n) for n in names) and any(
        re.search(r"Z\d{1,2}[A-Z]+$", n) for n in names
    )
    page.click("li.ant-pagination-next[title='다음 페이지']")
    page.wait_for_function(f"document.querySelectorAll('tr.ant-table-row').length === {counts[big] - 50}")
    assert "ant-pagination-item-active" in page.locator("li.ant-pagination-item-2").get_attribute("class")
    page.click("li.ant-pagination-prev[title='이전 페이지']")
    page.wait_for_function("document.querySelectorAll('tr.ant-table-row').length === 50")

    empty = next(c for c, n in sorted(counts.items()) if n == 0) if 0 in counts.values() else "Q00ZZ"
    page.fill("input[placeholder='상품명 입력']", empty)
    page.click("#filter_search_button_id")
    page.wait_for_selector("tr.ant-table-placeholder:has-text('등록된 상품이 없습니다.')")
    assert page.locator("ul.ant-pagination").count() == 0
    assert query(sim.db_path, "SELECT COUNT(*) FROM audit") == [(0,)]  # reading changes nothing


def test_select_all_by_label_and_group_modal(page, sim, sim_account) -> None:
    open_list(page, sim, sim_account)
    counts = code_counts(sim.db_path, sim_account.email)
    code = next(c for c, n in counts.items() if 3 <= n <= 20)
    pick_group_filter(page, "신규수집")
    page.fill("input[placeholder='상품명 입력']", code)
    page.press("input[placeholder='상품명 입력']", "Enter")
    wait_total(page, counts[code])
    group_button = page.locator(
        "xpath=//div[contains(@class,'ant-btn-group')]//button[.//span[text()='그룹 지정']]"
    )
    assert group_button.is_disabled()
    select_all = page.locator("div.ant-table-selection input.ant-checkbox-input[aria-label='Select all']")
    assert select_all.evaluate("e => getComputedStyle(e).opacity") == "0"
    page.locator("div.ant-table-selection label.ant-checkbox-wrapper").click()
    assert page.locator("tr.ant-table-row-selected").count() == counts[code]
    group_button.click()
    modal = page.locator("div.ant-modal[role=dialog]")
    assert re.fullmatch(r":r[0-9a-z]+:", modal.get_attribute("aria-labelledby"))
    assert modal.locator(".ant-modal-title").inner_text() == "상품 그룹핑/제외하기"
    assert modal.locator("label.ant-radio-wrapper").count() == 50
    modal.locator("xpath=.//label[contains(@class,'ant-radio-wrapper')][./span[text()='대기2']]").click()
    assert "ant-radio-wrapper-checked" in modal.locator(
        "label.ant-radio-wrapper:has-text('대기2')"
    ).get_attribute("class")
    modal.locator(".ant-modal-footer button.ant-btn-primary:has-text('확인')").click()
    page.wait_for_selector("tr.ant-table-placeholder")
    rows = query(
        sim.db_path,
        "SELECT grp, COUNT(*) FROM products WHERE code=? AND account=? GROUP BY grp",
        code,
        sim_account.email,
    )
    assert rows == [("대기2", counts[code])]
    audit = query(sim.db_path, "SELECT op, args FROM audit")
    assert len(audit) == counts[code]
    assert all(
        op == "group_move" and json.loads(a) == {"group": "대기2", "previous": "신규수집", "via": "modal"}
        for op, a in audit
    )


def test_per_row_group_select_filters_and_moves_at_once(page, sim, sim_account) -> None:
    open_list(page, sim, sim_account)
    pick_group_filter(page, "신규수집")
    counts = code_counts(sim.db_path, sim_account.email)
    code = next(c for c, n in counts.items() if 2 <= n <= 20)
    page.fill("input[placeholder='상품명 입력']", code)
    page.press("input[placeholder='상품명 입력']", "Enter")
    wait_total(page, counts[code])
    first = page.locator("tr.ant-table-row").first
    pid = first.get_attribute("data-row-key")
    row_select = first.locator("div.ant-select-show-search")
    assert row_select.locator(".ant-select-selection-item").inner_text() == "신규수집"
    row_select.click()
    search = row_select.locator("input.ant-select-selection-search-input:not([readonly])")
    search.press_sequentially("서버3")
    options = page.locator(f"{OPEN_DROPDOWN} .ant-select-item-option-content")
    page.wait_for_function(
        "() => { const d = document.querySelector('.ant-select-dropdown:not(.ant-select-dropdown-hidden)');"
        " return d && d.querySelectorAll('.ant-select-item-option').length === 1; }"
    )
    assert options.all_inner_texts() == ["서버3"]
    options.first.click()
    wait_total(page, counts[code] - 1)
    assert page.locator(f"tr[data-row-key='{pid}']").count() == 0
    assert query(sim.db_path, "SELECT grp FROM products WHERE id=?", pid) == [("서버3",)]
    assert query(sim.db_path, "SELECT product, op, args FROM audit") == [
        (
            pid,
            "group_move",
            json.dumps({"group": "서버3", "previous": "신규수집", "via": "row"}, ensure_ascii=False),
        )
    ]
