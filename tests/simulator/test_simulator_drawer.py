"""The edit drawer in real headless Chromium: tabs, 일괄 편집, every image operation, editor, HTML inserts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from stepbatch.simulator import testing

pytestmark = pytest.mark.browser
BULK = "div.ant-drawer-content:has(.ant-drawer-title span:text-is('상세페이지 이미지 일괄 편집'))"


def product(db: Path, pid: str) -> dict:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM products WHERE id=?", (pid,)).fetchone()
        return {k: json.loads(row[k]) if k in ("detail", "thumbs", "options") else row[k] for k in row.keys()}  # noqa: SIM118 (sqlite3.Row)
    finally:
        conn.close()


def audit(db: Path) -> list[tuple[str, str, dict]]:
    conn = sqlite3.connect(db)
    try:
        return [
            (p, op, json.loads(a))
            for p, op, a in conn.execute("SELECT product, op, args FROM audit ORDER BY id")
        ]
    finally:
        conn.close()


def open_drawer(page, sim, account) -> str:
    testing.login(page, sim.url, account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    first = page.locator("tr.ant-table-row").first
    pid = first.get_attribute("data-row-key")
    first.locator(".ant-flex-vertical > span").first.evaluate("e => e.click()")  # JS click on the name span
    page.wait_for_selector("div.ant-drawer-content[role=dialog] .ant-tabs-nav-list")
    return pid


def notice(page, text: str) -> None:
    page.wait_for_selector(f".ant-message-notice-content span:text-is('{text}')")


def test_drawer_tabs_bulk_edit_and_translation(page, sim, sim_account) -> None:
    pid = open_drawer(page, sim, sim_account)
    p = product(sim.db_path, pid)
    drawer = page.locator("div.ant-drawer-content[role=dialog]").first
    assert drawer.locator("span.memoContent").inner_text() == p["memo"]
    # as captured: one tab pane, empty, in the header; the content is in the drawer body
    assert drawer.locator(".ant-tabs-tabpane").count() == 1
    assert drawer.locator(".ant-tabs-tabpane-active").inner_html() == ""
    assert drawer.locator(".ant-drawer-body button:has-text('카테고리 추천 받기')").is_visible()
    closes = drawer.locator(".ant-drawer-header span[role=img][aria-label=close]")
    assert closes.count() == 2 and "18px" in closes.first.get_attribute("style")
    tab5 = drawer.locator("div.ant-tabs-tab[data-node-key='5'] div[role=tab]")
    assert tab5.get_attribute("id").startswith("rc-tabs-") and tab5.inner_text() == "상세페이지"
    page.keyboard.press("Alt+6")  # Alt+1..7 → data-node-key 0..6
    assert tab5.get_attribute("aria-selected") == "true"
    drawer.locator(
        "xpath=.//button[contains(@class,'ant-btn')][.//span[text()='일괄 편집']]"
        "[.//span[@role='img' and @aria-label='form']]"
    ).click()
    bulk = page.locator(BULK)
    n = len(p["detail"])
    bulk.locator(f"span:text-is('총 {n}개의 이미지')").wait_for()

    # 삭제 on the first card
    bulk.locator("xpath=(.//span[contains(@class,'FootnoteDescription') and text()='삭제'])[1]").click()
    bulk.locator(f"span:text-is('총 {n - 1}개의 이미지')").wait_for()
    after = product(sim.db_path, pid)
    assert [i["id"] for i in after["detail"]] == [i["id"] for i in p["detail"][1:]]
    # 썸네일로 복사 on the (new) second card
    bulk.locator("xpath=(.//span[text()='썸네일로 복사'])[2]").click()
    expected_events = [
        (pid, "detail_image_delete", {"position": 1, "image": p["detail"][0]["orig"], "count_before": n}),
        (pid, "detail_image_copy", {"position": 2, "image": p["detail"][2]["orig"]}),
    ]
    page.wait_for_function("n => fetch('/api/audit').then(r => r.json()).then(a => a.length === n)", arg=2)
    assert audit(sim.db_path) == expected_events
    assert product(sim.db_path, pid)["thumbs"][-1]["orig"] == p["detail"][2]["orig"]

    # the image editor on a Chinese-text image: T translates once, again is a no-op; TAB moves on
    detail = product(sim.db_path, pid)["detail"]
    k = next(i for i, im in enumerate(detail) if im["zh"])
    bulk.locator(
        f"xpath=(.//span[contains(@class,'FootnoteDescription') and text()='편집하기'])[{k + 1}]"
    ).click()
    editor = page.locator("div.ant-modal.image-editor-modal")
    editor.locator("canvas#pCanvas").wait_for()
    thumbs = editor.locator("img.p_tooltip_image_editor_thumb")
    assert thumbs.count() == len(detail)
    # captured nesting, no `selected` class: the shown one differs only in its wrapper's style class
    wrappers = thumbs.evaluate_all("ts => ts.map(t => t.parentElement.parentElement.className)")
    assert all(t.split()[0] == wrappers[0].split()[0] for t in wrappers)
    assert [i for i, c in enumerate(wrappers) if wrappers.count(c) == 1] == [k]
    assert not any("selected" in (c or "") for c in thumbs.evaluate_all("ts => ts.map(t => t.className)"))
    button = editor.locator("xpath=.//button[.//span[text()='원클릭 이미지 번역']]")
    page.keyboard.press("t")
    page.wait_for_function("b => b.classList.contains('ant-btn-loading')", arg=button.element_handle())
    page.wait_for_function("b => !b.classList.contains('ant-btn-loading')", arg=button.element_handle())
    assert page.locator(".ant-message-notice").count() == 0  # no notice the evidence does not show
    thumbs.nth(k).wait_for()
    page.wait_for_function(
        "k => document.querySelectorAll('img.p_tooltip_image_editor_thumb')[k].src.endsWith('-tr.png')", arg=k
    )
    assert product(sim.db_path, pid)["detail"][k]["tr"] is True
    assert audit(sim.db_path)[-1] == (
        pid,
        "image_translate",
        {"target": "detail", "position": k + 1, "image": detail[k]["orig"], "had_text": True},
    )
    button.click()  # a second press costs a credit again (as every press does) and translates nothing
    testing.poll_until(lambda: len(audit(sim.db_path)) >= 4, timeout=10)  # the server's answer, in its db
    assert len(audit(sim.db_path)) == 4
    assert audit(sim.db_path)[-1][2]["had_text"] is False
    page.wait_for_function("b => !b.classList.contains('ant-btn-loading')", arg=button.element_handle())
    page.keyboard.press("Tab")
    page.wait_for_function(
        """([k, n]) => {
          const ws = [...document.querySelectorAll('img.p_tooltip_image_editor_thumb')]
            .map(t => t.parentElement.parentElement.className);
          return ws.filter(c => c === ws[(k + 1) % n]).length === 1;
        }""",
        arg=[k, len(detail)],
    )

    # ESC does not close the editor (operators' notes), 수정사항 저장 does; ESC closes the drawers
    page.keyboard.press("Escape")
    assert editor.is_visible()
    editor.locator("button:has-text('수정사항 저장')").click()
    editor.wait_for(state="detached")
    assert bulk.is_visible()
    bulk.locator("img").nth(k).wait_for()
    assert bulk.locator("img").nth(k).get_attribute("src").endswith("-tr.png")
    page.keyboard.press("Escape")
    bulk.wait_for(state="detached")
    assert drawer.is_visible()
    page.keyboard.press("Escape")
    page.wait_for_selector(".ant-drawer", state="detached")
    credits = page.locator("header .credits").inner_text()
    assert credits == "이미지 번역 가능 횟수 9,998회"  # two presses, two credits


def test_thumbnail_option_and_html_operations(page, sim, sim_account) -> None:
    pid = open_drawer(page, sim, sim_account)
    p = product(sim.db_path, pid)
    drawer = page.locator("div.ant-drawer-content[role=dialog]").first
    drawer.locator("div.ant-tabs-tab[data-node-key='4'] span").evaluate("e => e.click()")
    nt = len(p["thumbs"])
    drawer.locator(f"span:text-is('총 {nt}개의 썸네일')").wait_for()
    drawer.locator("xpath=(.//span[contains(@class,'FootnoteDescription') and text()='삭제'])[2]").click()
    drawer.locator(f"span:text-is('총 {nt - 1}개의 썸네일')").wait_for()

    page.keyboard.press("Alt+2")
    options = drawer.locator("li.ant-list-item[role=button][aria-roledescription=sortable]")
    assert options.count() == len(p["options"])
    options.nth(0).locator("span:text-is('썸네일로 복사')").click()
    page.wait_for_function("n => fetch('/api/audit').then(r => r.json()).then(a => a.length === n)", arg=2)
    page.keyboard.press("Alt+5")  # the 썸네일 tab shows the copy at the end
    drawer.locator(f"span:text-is('총 {nt}개의 썸네일')").wait_for()

    drawer.locator("div.ant-tabs-tab[data-node-key='5']").click()
    drawer.locator(
        "xpath=.//button[contains(@class,'ck-button')][.//span[contains(text(),'HTML 삽입')]]"
    ).click()
    embed = drawer.locator("div.raw-html-embed[data-html-embed-label='HTML 코드 조각']")
    embed.locator("textarea.raw-html-embed__source").fill('<p class="notice">배송 안내</p>')
    embed.locator("button.raw-html-embed__save-button").click()
    drawer.locator(".ck-content p.notice").wait_for()
    drawer.locator("button.ck-source-editing-button").click()
    source = drawer.locator(".ck-source-editing-area textarea")
    source.wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement.tagName === 'TEXTAREA'")
    assert source.evaluate("t => t.selectionStart") == 0  # the caret starts at the beginning (CKEditor)
    page.keyboard.type('<p class="head">머리말</p>')
    drawer.locator("button.ck-source-editing-button").click()
    drawer.locator(".ck-content p.head").wait_for()
    drawer.locator("button.ck-source-editing-button").click()
    source.wait_for()
    source.press("Control+End")
    page.keyboard.insert_text('<img src="" alt="상품이미지">')
    drawer.locator("button.ck-source-editing-button").click()
    drawer.locator(".ck-content img[alt='상품이미지']").wait_for()

    events = audit(sim.db_path)
    assert [e[1] for e in events] == [
        "thumbnail_delete",
        "option_image_copy",
        "html_insert",
        "html_insert",
        "html_insert",
    ]
    assert events[0][2] == {"position": 2, "image": p["thumbs"][1]["orig"], "count_before": nt}
    assert events[1][2] == {"position": 1, "image": p["options"][0]["image"]["orig"]}
    assert events[2][2] == {
        "source": "html",
        "via": "embed",
        "at": "end",
        "html": '<p class="notice">배송 안내</p>',
    }
    assert events[3][2] == {
        "source": "html",
        "via": "source",
        "at": "start",
        "html": '<p class="head">머리말</p>',
    }
    assert events[4][2] == {
        "source": "tag",
        "via": "source",
        "at": "end",
        "html": '<img src="" alt="상품이미지">',
    }
    end = product(sim.db_path, pid)
    assert [t["orig"] for t in end["thumbs"]] == (
        [t["orig"] for t in p["thumbs"][:1] + p["thumbs"][2:]] + [p["options"][0]["image"]["orig"]]
    )
    assert end["html_head"] == '<p class="head">머리말</p>'
    assert end["html"] == '<p class="notice">배송 안내</p>\n<img src="" alt="상품이미지">'
