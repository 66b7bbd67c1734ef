"""DOM contract: the adapter's locators against the real site's captured DOM, in headless Chromium.

Each fixture in `fixtures/` reproduces one screen the adapter touches as the public repository of the tool
this project replaces captured it (class names with their styled-components hashes, nesting, whitespace,
Korean texts), with every product name, key, image and seller datum replaced by a fake. Its opening comment
names the capture and what was added where the capture stops. Every locator below is combined the way the
page objects combine it and must find exactly the captured element (the tests name that element by its
`sc-…` hashes; the adapter never does).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.dom_editor import (
    LOADING_OVER_JS,
    OPENED_JS,
    PRESS_JS,
    SAVE_AND_CLOSE_JS,
    SAW_LOADING_JS,
    SHOWN_JS,
    WATCH_LOADING_JS,
)
from stepbatch.sites.percenty.dom_wait import poll_script
from stepbatch.sites.percenty.editor import _COUNT_DRAWERS_JS
from stepbatch.sites.percenty.product_list import _GROUP_FILTER_INDEX_JS, _RESULTS_FOR_JS, _TOTAL_JS
from stepbatch.workbook.groups import ALL_GROUPS, GROUP_NAMES, NO_GROUP

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
_INCLUDE = re.compile(r"^<!--#include (\S+)-->\n", re.MULTILINE)


def read_fixture(name: str) -> str:
    """A fixture's text, each line `<!--#include parts/x.html-->` replaced by that part (path relative to
    `fixtures/`, recursively); a part's opening comment, naming its capture, is dropped from the page."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return _INCLUDE.sub(lambda m: read_fixture(m.group(1)).split("-->\n", 1)[1], text)


# The fixtures' fake rows, in page order: (data-row-key, product name).
ROWS = [
    ("0123456789abcdef0123456a", "가짜 원피스 상품 X00Z2"),
    ("0123456789abcdef0123456b", "가짜 원피스 상품 X01Z2A"),
    ("0123456789abcdef0123456c", "가짜 원피스 상품 X02Z12AB"),
]

# What one element is, for the assertions: tag, class attribute (as written), trimmed text.
_DESCRIBE_JS = "els => els.map(e => [e.tagName.toLowerCase(), e.getAttribute('class'), e.textContent.trim()])"


@pytest.fixture(scope="module")
def browser_page():
    session = start_session(BrowserOptions(offline=True))
    session.page.set_default_timeout(5_000)  # nothing here waits: a miss fails fast
    try:
        yield session.page
    finally:
        session.close()


@pytest.fixture
def load(browser_page):
    def _load(name: str):
        browser_page.set_content(read_fixture(name))
        return browser_page

    return _load


def describe(locator) -> list[list[str]]:
    return locator.evaluate_all(_DESCRIBE_JS)


def test_every_fixture_names_its_capture_and_carries_no_real_data():
    names = sorted(p.name for p in FIXTURES.glob("*.html"))
    assert len(names) >= 9
    for name in names:
        text = read_fixture(name)
        comment, html = text.split("-->", 1)
        assert comment.startswith("<!--\nFixture: "), name
        assert "onepick2019/percenty_project @ cfb9d4d" in comment, name
        for real in ("percenty.co.kr/public", "alicdn.com", "@"):
            assert real not in html, (name, real)


# --- 등록 상품 관리 list ---


def test_rows_are_the_product_rows_not_the_measure_row(load):
    page = load("list_page.html")
    assert page.locator("tbody.ant-table-tbody > tr").count() == 4  # the measure row comes first
    assert page.locator("tr.ant-table-measure-row").count() == 1
    rows = page.locator(S.ROWS)
    assert rows.count() == 3
    assert rows.evaluate_all(f"els => els.map(e => e.getAttribute({S.ROW_KEY_ATTR!r}))") == [
        k for k, _ in ROWS
    ]
    assert (
        rows.evaluate_all("els => els.map(e => e.className)") == ["ant-table-row ant-table-row-level-0"] * 3
    )
    for key, _ in ROWS:
        assert page.locator(S.row_by_key(key)).count() == 1


def test_select_all_is_the_header_checkbox_label(load):
    page = load("list_page.html")
    label = page.locator(S.SELECT_ALL_LABEL)
    assert label.count() == 1
    assert label.locator("input[aria-label='Select all']").count() == 1
    assert label.evaluate("e => e.closest('th').classList.contains('ant-table-selection-column')")


def test_each_row_has_one_checkbox_label_and_no_other_checkbox_is_one(load):
    page = load("list_page.html")
    assert page.locator("label.ant-checkbox-wrapper").count() == 6  # 2 market filters, select-all, 3 rows
    assert page.locator(S.ROW_CHECKBOX_LABEL).count() == 3
    for key, _ in ROWS:
        label = page.locator(S.row_by_key(key)).locator(S.ROW_CHECKBOX_LABEL)
        assert label.count() == 1
        assert label.locator("input.ant-checkbox-input:not([aria-label])").count() == 1


@pytest.mark.parametrize(("key", "name"), ROWS, ids=["Z2", "Z2A", "Z12AB"])
def test_row_name_is_exactly_the_name_span(load, key, name):
    page = load("list_page.html")
    found = page.locator(S.row_by_key(key)).locator(S.ROW_NAME)
    assert describe(found) == [["span", "sc-cQCQeq sc-inyXkq gRsusi ekgdbp", name]]


def test_the_total_is_one_span_and_reads_as_the_list_reads_it(load):
    page = load("list_page.html")
    matching = page.evaluate(
        "(p) => [...document.querySelectorAll('span')].filter(s => new RegExp(p).test(s.textContent))"
        ".map(s => s.outerHTML)",
        S.TOTAL_JS_PATTERN,
    )
    assert matching == ['<span style="padding-left: 16px;">총 249개 상품</span>']
    assert page.evaluate(_TOTAL_JS) == 249
    # thousands separators as logged (docs/4_error.md, docs/61error.md); other spans' texts do not match
    tested = page.evaluate(
        "(p) => ['총 41,644개 상품', '총 2,411개 상품', '총 0개 상품', '총 5개의 썸네일', '등록 상품 목록']"
        ".map(t => new RegExp(p).test(t))",
        S.TOTAL_JS_PATTERN,
    )
    assert tested == [True, True, True, False, False]
    # the settled-results check: every row's name ends with the searched code
    assert page.evaluate(f"(code) => ({_RESULTS_FOR_JS})(code)", "X0") is True
    assert page.evaluate(f"(code) => ({_RESULTS_FOR_JS})(code)", "X01") is False


def test_row_group_select_is_one_per_row_and_never_a_header_select(load):
    page = load("list_page.html")
    assert page.locator(".ant-select").count() == 6  # 상태 filter, 2 header selects, 3 row selects
    assert page.locator(S.ROW_GROUP_SELECT).count() == 3
    shown = []
    for key, _ in ROWS:
        select = page.locator(S.row_by_key(key)).locator(S.ROW_GROUP_SELECT)
        assert select.count() == 1
        assert select.locator(S.SELECT_SELECTOR).count() == 1
        search = select.locator(S.SELECT_SEARCH_INPUT)
        assert search.count() == 1
        assert search.get_attribute("readonly") is None  # the row select is typed into
        shown.append(select.locator(S.SELECT_SELECTION_ITEM).inner_text().strip())
    # row 3 carries the later build's select (other sc- hashes): found all the same
    assert shown == [NO_GROUP, NO_GROUP, "쇼핑몰B2"]


def test_header_selects_page_size_and_group_filter_by_shown_label(load):
    page = load("list_page.html")
    assert page.locator(S.HEADER_SELECT).count() == 2
    size = page.locator(S.PAGE_SIZE_SELECT)
    assert size.count() == 1
    assert size.locator(S.SELECT_SELECTION_ITEM).get_attribute("title") == "50개씩 보기"
    labels = [ALL_GROUPS, NO_GROUP, *GROUP_NAMES]
    index = page.evaluate(f"(labels) => ({_GROUP_FILTER_INDEX_JS})(labels)", labels)
    assert index == 0
    item = page.locator(S.HEADER_SELECT).nth(index).locator(S.SELECT_SELECTION_ITEM)
    assert item.get_attribute("title") == ALL_GROUPS
    # the dropdown opens on the selector; the choice is confirmed by the selection item showing the option
    group_filter = page.locator(S.HEADER_SELECT).nth(index)
    assert group_filter.locator(S.SELECT_SELECTOR).count() == 1
    assert group_filter.locator(S.SELECT_SELECTION_ITEM + S.text_is(ALL_GROUPS)).count() == 1
    assert (
        size.locator(S.SELECT_SELECTION_ITEM + S.text_is(S.PAGE_SIZE_OPTION_TEXT.format(n=50))).count() == 1
    )
    assert (
        size.locator(S.SELECT_SELECTION_ITEM + S.text_is(S.PAGE_SIZE_OPTION_TEXT.format(n=20))).count() == 0
    )
    assert page.locator(S.HEADER_SELECT).nth(1).evaluate("(a, b) => a === b", size.element_handle())


def test_group_assign_button_is_the_header_one_disabled_until_a_row_is_checked(load):
    page = load("list_page.html")
    button = page.locator(S.GROUP_ASSIGN_BUTTON)
    assert button.count() == 1
    assert button.is_disabled()
    assert button.evaluate("e => !!e.closest('thead')")


# --- 그룹 지정 modal ---


def in_any_modal(selector: str) -> str:
    """An adapter selector scoped by GROUP_MODAL, with that scope taken off (checked on its own below)."""
    assert selector.startswith(S.GROUP_MODAL + " ")
    return selector.removeprefix(S.GROUP_MODAL + " ")


def test_group_modal_is_found_by_its_title(load):
    page = load("group_modal.html")
    assert page.locator(S.GROUP_MODAL).count() == 1
    assert page.locator(S.radio_by_group("서버1")).count() == 1
    assert page.locator(f"{S.GROUP_MODAL} {S.MODAL_OK}").count() == 1


def test_group_modal_title_is_nested_as_captured(load):
    page = load("group_modal.html")
    title = page.locator(".ant-modal-title span")
    assert describe(title) == [
        ["span", "sc-cyRcrZ hKcPjJ H5Medium16 CharacterTitle85", "상품 그룹핑/제외하기"]
    ]


def test_group_modal_radio_by_exact_name_and_ok(load):
    page = load("group_modal.html")
    modal = page.locator(S.MODAL)
    assert modal.count() == 1
    assert modal.locator(S.MODAL_RADIO).count() == 10
    for name, value in [
        ("서버1", "00000000-0000-4000-8000-000000000002"),
        ("서버1-1", "00000000-0000-4000-8000-000000000090"),
        ("서버10", "00000000-0000-4000-8000-000000000091"),
        ("신규수집", "00000000-0000-4000-8000-000000000000"),
    ]:
        radio = modal.locator(in_any_modal(S.radio_by_group(name)))
        assert radio.count() == 1, name
        assert radio.locator("input.ant-radio-input").get_attribute("value") == value
    assert modal.locator(in_any_modal(S.radio_by_group("서버"))).count() == 0
    assert modal.locator(in_any_modal(S.radio_by_group(NO_GROUP))).count() == 0  # the modal has no 그룹 없음
    ok = modal.locator(S.MODAL_OK)
    assert describe(ok) == [["button", "ant-btn css-1li46mu ant-btn-primary", "확인"]]


def test_group_modal_checked_state_is_seen_on_the_chosen_radio_only(load):
    page = load("group_modal.html")
    checked = page.locator(in_any_modal(S.radio_by_group("서버1") + S.MODAL_RADIO_CHECKED))
    assert checked.count() == 0
    # antd marks the chosen radio's label (capture docs/percenty_project.md L258-260); done here by hand
    page.locator(in_any_modal(S.radio_by_group("서버10"))).evaluate(
        "e => e.classList.add('ant-radio-wrapper-checked')"
    )
    assert checked.count() == 0
    page.locator(in_any_modal(S.radio_by_group("서버1"))).evaluate(
        "e => e.classList.add('ant-radio-wrapper-checked')"
    )
    assert checked.count() == 1


@pytest.mark.xfail(
    strict=True,
    reason="the captured modal labels the group 복제x (lower-case x); GROUP_NAMES spells it 복제X",
)
def test_every_group_name_of_the_captured_modal_is_found(load):
    page = load("group_modal.html")
    for name in ["신규수집", "번역대기", "서버1", "서버2", "서버3", "삭제X", "중복X", "복제X"]:
        assert name in GROUP_NAMES
        assert page.locator(in_any_modal(S.radio_by_group(name))).count() == 1, name


# --- side menu ---


def test_menu_item_and_its_submenu(load):
    page = load("menu.html")
    assert page.locator(S.APP_LAYOUT).count() == 1
    item = page.locator(S.menu_item(S.MENU_PRODUCT_MANAGE_TEXT))
    assert describe(item) == [["span", "ant-menu-title-content", "등록 상품 관리"]]
    assert item.evaluate("e => e.closest('li').getAttribute('role')") == "menuitem"
    parent = page.locator(S.SUBMENU_TITLE).filter(has_text=S.MENU_PRODUCT_PARENT_TEXT)
    assert parent.count() == 1
    assert parent.evaluate("e => e.nextElementSibling.textContent.includes('등록 상품 관리')")


# --- product edit drawer: header ---


def test_drawer_tabs_each_found_once_with_their_text(load):
    page = load("drawer_thumbnails.html")
    assert page.locator(S.EDIT_DRAWER).count() == 1
    for key, text in S.TAB_TEXTS.items():
        tab = page.locator(S.tab(key))
        assert tab.count() == 1, key
        assert tab.inner_text().strip() == text
        assert tab.locator(S.TAB_BUTTON).count() == 1
        active = S.TAB_ACTIVE_CLASS in (tab.get_attribute("class") or "").split()
        assert active == (key == 0)  # as captured
        assert page.locator(f"{S.tab(key)}.{S.TAB_ACTIVE_CLASS}").count() == (1 if key == 0 else 0)
    assert S.TAB_KEYS["thumbnails"] == 4 and S.TAB_TEXTS[4] == "썸네일"


def test_active_tab_pane_is_empty_and_content_is_outside_the_tabs(load):
    page = load("drawer_thumbnails.html")
    pane = page.locator(f"{S.EDIT_DRAWER} .ant-tabs-tabpane-active")
    assert pane.count() == 1
    assert pane.evaluate("e => e.innerHTML") == ""
    count = page.locator(S.EDIT_DRAWER).locator(S.THUMB_COUNT_TEXT)
    assert count.count() == 1
    assert count.evaluate("e => !e.closest('.ant-tabs') && !!e.closest('.ant-drawer-body')")


def test_drawer_close_icon_first_is_the_drawers_own_not_the_memo_bars(load):
    page = load("drawer_thumbnails.html")
    icons = page.locator(S.DRAWER).last.locator(S.DRAWER_CLOSE_ICON)
    assert icons.count() == 2
    first = icons.first
    assert first.evaluate("e => e.style.fontSize") == "18px"
    assert first.evaluate("e => !e.parentElement.querySelector('.memoContent')")  # not the memo bar's
    assert icons.nth(1).evaluate("e => !!e.parentElement.querySelector('.memoContent')")


# --- 썸네일 tab ---


def test_thumbnail_tab_ready_count_and_cards(load):
    page = load("drawer_thumbnails.html")
    drawer = page.locator(S.EDIT_DRAWER).first
    assert describe(page.locator(S.tab_ready(4))) == [
        ["button", "ant-btn css-1li46mu ant-btn-default", "썸네일 되돌리기"]
    ]
    count = drawer.locator(S.THUMB_COUNT_TEXT + S.VISIBLE)
    assert describe(count) == [["span", "sc-dxlmjS hyVJZU Body2Medium14 CharacterTitle85", "총 5개의 썸네일"]]
    assert S.parse_int(S.THUMB_COUNT_RE, count.inner_text()) == 5
    cards = drawer.locator(S.CARD + S.VISIBLE)
    assert cards.count() == 5  # the Upload tile is a draggable div too, not counted
    assert drawer.locator("div[draggable=false]").count() == 6
    assert cards.evaluate_all("els => els.map(e => e.className)") == ["sc-APcvf kOAuoR"] * 5
    for n in range(5):
        card = cards.nth(n)
        assert card.locator("img").get_attribute("src") == f"/img/fake-thumb-{n + 1}.png"
        assert describe(card.locator(S.CARD_DELETE)) == [
            ["span", "sc-dxlmjS hyVJZU FootnoteDescription ", "삭제"]
        ]
        assert describe(card.locator(S.CARD_EDIT)) == [
            ["span", "sc-dxlmjS hyVJZU FootnoteDescription ", "편집하기"]
        ]
    assert page.locator(S.tab_ready(1)).count() == 0
    assert page.locator(S.tab_ready(5)).count() == 0


# --- 옵션 tab ---


def test_option_items_with_copy_and_edit(load):
    page = load("drawer_options.html")
    drawer = page.locator(S.EDIT_DRAWER).first
    assert page.locator(S.tab_ready(1)).count() == 1
    items = drawer.locator(S.OPTION_ITEM + S.VISIBLE)
    assert items.count() == 3
    with_image = items.filter(has=page.locator(S.OPTION_COPY))  # as the editor counts option images
    assert with_image.count() == 3
    assert items.filter(has=page.locator(S.OPTION_EDIT)).count() == 3
    for n in range(3):
        item = items.nth(n)
        assert describe(item.locator(S.OPTION_COPY)) == [
            ["span", "sc-bCMFDn cwOTpI FootnoteDescription ", "썸네일로 복사"]
        ]
        assert describe(item.locator(S.OPTION_EDIT)) == [
            ["span", "sc-bCMFDn cwOTpI FootnoteDescription ", "편집"]
        ]
        assert item.locator(f"img[src='/img/fake-option-{n + 1}.png']").count() == 1
    assert drawer.locator(S.CARD).count() == 0  # option images are not cards
    assert drawer.locator(S.CARD_EDIT).count() == 0  # 편집하기 is the cards' label, 편집 the options'


# --- 상세페이지 tab and CKEditor ---


def test_detail_tab_bulk_edit_button_is_the_one_with_the_form_icon(load):
    page = load("drawer_detail.html")
    assert page.locator("button:has(span:text-is('일괄 편집'))").count() == 2  # the list toolbar's too
    button = page.locator(S.BULK_EDIT_BUTTON)
    assert describe(button) == [
        ["button", "ant-btn css-1li46mu ant-btn-default sc-knefzF jnxjqd", "일괄 편집"]
    ]
    assert button.evaluate("e => !!e.closest('.ant-drawer-body')")
    ready = page.locator(S.tab_ready(5))
    assert ready.count() == 1
    assert ready.evaluate("e => e.querySelector('[aria-label=form]') !== null")
    assert page.locator(S.EDIT_DRAWER).locator(S.BULK_EDIT_BUTTON + S.VISIBLE).count() == 1


def test_ckeditor_source_button_and_editable(load):
    page = load("drawer_detail.html")
    drawer = page.locator(S.EDIT_DRAWER).first
    source = drawer.locator(S.CK_SOURCE_BUTTON + S.VISIBLE)
    assert source.count() == 1
    assert source.get_attribute("data-cke-tooltip-text") == "소스"
    assert source.inner_text().strip() == "소스"
    assert page.locator("button.ck-button:has(span:text-is('HTML 삽입'))").count() == 1  # not the 소스 button
    editable = drawer.locator(S.CK_EDITABLE + S.VISIBLE)
    assert editable.count() == 1
    assert editable.inner_html() == '<p><img src="/img/fake-detail-1.png"></p><p>가짜 상세 설명</p>'
    assert drawer.locator(S.CK_SOURCE_TEXTAREA).count() == 0


def test_ckeditor_source_mode_shows_the_textarea_instead_of_the_editable(load):
    page = load("drawer_detail_source.html")
    drawer = page.locator(S.EDIT_DRAWER).first
    textarea = drawer.locator(S.CK_SOURCE_TEXTAREA + S.VISIBLE)
    assert textarea.count() == 1
    assert textarea.input_value().startswith("<p><img")
    assert drawer.locator(S.CK_EDITABLE).count() == 1
    assert drawer.locator(S.CK_EDITABLE + S.VISIBLE).count() == 0
    assert drawer.locator(S.CK_SOURCE_BUTTON + S.VISIBLE).count() == 1


# --- 상세페이지 이미지 일괄 편집 drawer ---


def test_bulk_drawer_count_and_cards(load):
    page = load("bulk_drawer.html")
    assert page.locator(S.DRAWER).count() == 2
    assert page.evaluate(_COUNT_DRAWERS_JS) == 2  # both visible, as the editor counts them
    assert page.locator(S.EDIT_DRAWER).count() == 1
    bulk = page.locator(S.BULK_DRAWER)
    assert bulk.count() == 1
    assert bulk.evaluate("e => !e.querySelector('.ant-tabs')")
    count = bulk.locator(S.IMAGE_COUNT_TEXT)
    assert describe(count) == [["span", "sc-bRimrq kCtFmP Body2Medium14 CharacterTitle85", "총 3개의 이미지"]]
    assert S.parse_int(S.IMAGE_COUNT_RE, count.inner_text()) == 3
    cards = bulk.locator(S.CARD)
    assert cards.count() == 3
    assert bulk.locator("div[draggable=false]").count() == 4  # + the Upload tile
    assert cards.evaluate_all("els => els.map(e => e.className)") == ["sc-fInFcU esMzXV"] * 3
    for n in range(3):
        card = cards.nth(n)
        assert card.locator(S.CARD_DELETE).count() == 1
        assert card.locator(S.CARD_EDIT).count() == 1
        assert card.locator("img").get_attribute("src") == f"/img/fake-detail-{n + 1}.png"
    # the top drawer's close icon is the bulk drawer's header close
    close = page.locator(S.DRAWER).last.locator(S.DRAWER_CLOSE_ICON).first
    assert close.evaluate("e => e.style.fontSize") == "18px"
    assert close.evaluate(
        "e => e.closest('.ant-drawer-content').textContent.includes('상세페이지 이미지 일괄 편집')"
    )


def test_bulk_drawer_image_count_regex_takes_thousands():
    assert S.parse_int(S.IMAGE_COUNT_RE, "총 4,253개의 이미지") == 4253
    assert S.parse_int(S.THUMB_COUNT_RE, "총 7개의 썸네일") == 7
    assert S.parse_int(S.THUMB_COUNT_RE, "총 7개의 이미지") is None


# --- image-translation editor ---


def test_editor_strip_canvas_translate_and_save(load):
    page = load("image_editor.html")
    thumbs = page.locator(S.EDITOR_THUMB)
    assert thumbs.count() == 3
    nesting = thumbs.evaluate_all(
        "els => els.map(e => [e.parentElement.tagName, e.parentElement.parentElement.className,"
        " e.parentElement.parentElement.getAttribute('style'), e.nextElementSibling.className])"
    )
    assert (
        nesting
        == [["SPAN", "sc-hMxIkD byPQOP", "z-index: 1;", "ant-btn css-1li46mu ant-btn-text ant-btn-icon-only"]]
        * 3
    )
    assert page.locator(S.EDITOR_CANVAS).count() == 1
    button = page.locator(S.TRANSLATE_BUTTON)
    assert button.count() == 1
    assert button.locator("span[role=img][aria-label=thunderbolt]").count() == 1
    assert S.BUTTON_LOADING_CLASS not in (button.get_attribute("class") or "")
    save = page.locator(S.EDITOR_SAVE)
    assert describe(save) == [["button", "ant-btn css-1li46mu ant-btn-primary", "수정사항 저장"]]


def test_translate_loading_state_is_watched_on_the_captured_button(load):
    page = load("image_editor.html")
    page.evaluate(WATCH_LOADING_JS)
    assert page.evaluate(SAW_LOADING_JS) is False
    assert page.evaluate(LOADING_OVER_JS) is False  # nothing seen yet
    # antd's loading state: the class, and the icon swapped for the spinning loading icon
    page.locator(S.TRANSLATE_BUTTON).evaluate(
        f"""b => {{ b.classList.add({S.BUTTON_LOADING_CLASS!r});
        b.querySelector('.ant-btn-icon').outerHTML = '<span class="ant-btn-icon ant-btn-loading-icon">'
          + '<span role="img" aria-label="loading" class="anticon anticon-loading anticon-spin">'
          + '</span></span>'; }}"""
    )
    assert page.evaluate(LOADING_OVER_JS) is False
    assert page.evaluate(SAW_LOADING_JS) is True
    assert page.locator(S.TRANSLATE_BUTTON).count() == 1  # still found while loading
    page.locator(S.TRANSLATE_BUTTON).evaluate(f"b => b.classList.remove({S.BUTTON_LOADING_CLASS!r})")
    assert page.evaluate(LOADING_OVER_JS) is True


_DRAW_JS = f"""
async (index) => {{
  const thumbs = [...document.querySelectorAll({S.EDITOR_THUMB!r})];
  await Promise.all(thumbs.map(t => t.decode()));
  const canvas = document.querySelector({S.EDITOR_CANVAS!r});
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  if (index >= 0) g.drawImage(thumbs[index], 0, 0, canvas.width, canvas.height);
}}
"""


def test_canvas_comparison_names_the_strip_image_the_canvas_shows(load):
    page = load("image_editor.html")
    page.evaluate("() => { delete window.__sbSignatures; }")
    page.evaluate(_DRAW_JS, -1)
    assert page.evaluate(SHOWN_JS) == []  # blank canvas: none shown
    page.evaluate(_DRAW_JS, 1)
    assert page.evaluate(SHOWN_JS) == [1]
    page.evaluate(_DRAW_JS, 2)
    assert page.evaluate(SHOWN_JS) == [2]
    page.evaluate(_DRAW_JS, 0)
    assert page.evaluate(SHOWN_JS) == [0]


def test_opening_reads_the_settled_canvas_and_the_strip_urls(load):
    page = load("image_editor.html")
    page.evaluate("() => { delete window.__sbSignatures; }")
    srcs = page.locator(S.EDITOR_THUMB).evaluate_all("els => els.map(e => e.currentSrc || e.src)")
    page.evaluate(_DRAW_JS, 2)
    opened = page.evaluate(poll_script(OPENED_JS), [3, 5_000])
    assert opened == {"ok": True, "value": {"at": [2], "srcs": srcs}}
    page.evaluate(_DRAW_JS, -1)  # a blank canvas never settles: [] after the tries
    assert page.evaluate(poll_script(OPENED_JS), [3, 5_000])["value"] == {"at": [], "srcs": srcs}


_LOADING_ON_CLICK_JS = f"""
(ms) => {{
  window.__presses = 0;
  const b = [...document.querySelectorAll('button')]
    .find(e => e.textContent.includes({S.TRANSLATE_BUTTON_TEXT!r}));
  b.scrollIntoView();  // the capture has no modal layout: the button is below the fold
  b.addEventListener('click', () => {{
    window.__presses++;
    b.classList.add({S.BUTTON_LOADING_CLASS!r});
    setTimeout(() => b.classList.remove({S.BUTTON_LOADING_CLASS!r}), ms);
  }});
}}
"""
_COVER_JS = "() => { const d = document.createElement('div'); d.id = 'cover';"
_COVER_JS += " d.style.cssText = 'position:fixed;inset:0;z-index:99999'; document.body.append(d); }"


def test_the_press_clicks_the_captured_button_and_waits_for_its_loading_to_go(load):
    page = load("image_editor.html")
    page.evaluate(_LOADING_ON_CLICK_JS, 120)
    pressed = page.evaluate(PRESS_JS, [3_000, 10_000, 250, "no credits", 500])
    assert pressed == {"pressed": True, "over": "loading", "sawLoading": True, "notice": False}
    assert page.evaluate("() => window.__presses") == 1
    assert page.evaluate(f"() => document.querySelector('.{S.BUTTON_LOADING_CLASS}')") is None


def test_a_covered_translate_button_is_not_pressed(load):
    page = load("image_editor.html")
    page.evaluate(_LOADING_ON_CLICK_JS, 120)
    page.evaluate(_COVER_JS)
    assert page.evaluate(PRESS_JS, [3_000, 10_000, 250, "no credits", 200]) == {
        "pressed": False,
        "clickable": False,
    }
    assert page.evaluate("() => window.__presses") == 0


def test_save_closes_the_editor_in_one_call(load):
    page = load("image_editor.html")
    page.locator(S.EDITOR_SAVE).evaluate(
        f"""b => b.addEventListener('click', () => setTimeout(() => [...document.querySelectorAll('button')]
          .find(e => e.textContent.includes({S.TRANSLATE_BUTTON_TEXT!r})).remove(), 30))"""
    )
    assert page.evaluate(SAVE_AND_CLOSE_JS, 2_000) == {"open": True, "closed": True}
    assert page.evaluate(SAVE_AND_CLOSE_JS, 2_000) == {"open": False}


# --- login ---


def test_login_form_fields_and_submit(load):
    page = load("login.html")
    assert describe(page.locator(S.LOGIN_EMAIL)) == [["input", "ant-input css-1li46mu", ""]]
    assert page.locator(S.LOGIN_PASSWORD).get_attribute("type") == "password"
    assert page.locator(S.LOGIN_PASSWORD).count() == 1
    assert describe(page.locator(S.LOGIN_SUBMIT)) == [
        ["button", "ant-btn css-1li46mu ant-btn-primary signin-form__submit", "이메일 로그인"]
    ]
