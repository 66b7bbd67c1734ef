"""Every selector the Percenty adapter uses, in one place (Playwright selector syntax).

Each rests on a DOM capture of the real site or on a selector that worked in production (the evidence for
every constant is in docs/design/real-dom.md; a test keeps the two in step). Visible text, ARIA attributes
and stable Ant Design / CKEditor classes only. Never used: styled-component classes (`sc-*`, they changed
between the site's builds), generated ids (`rc_select_<n>`, `rc-tabs-<n>`, `:rNN:`), positions in the
document and screen coordinates.
"""

from __future__ import annotations

import json
import re

SIGNIN_PATH = "/signin"

# --- login (§1) ---
LOGIN_EMAIL = "input#email"
LOGIN_PASSWORD = "input#password"
LOGIN_SUBMIT = "button:has-text('이메일 로그인')"
LOGIN_REFUSED_TEXT = "일치하지"  # in "이메일 또는 비밀번호가 일치하지 않습니다."

# --- overlays (§7) ---
POPUP_DONT_SHOW_AGAIN_TEXT = "다시 보지 않기"
POPUP_DONT_SHOW_AGAIN = f".ant-modal-wrap:visible button:has-text('{POPUP_DONT_SHOW_AGAIN_TEXT}')"
MODAL_WRAP = ".ant-modal-wrap"
MODAL = ".ant-modal"
MODAL_MASK = ".ant-modal-mask"
BODY_MODAL_OPEN_CLASS = "ant-modal-open"  # antd's scroll lock on <body> while a modal is open
LINGERING_WRAP = (
    ".ant-modal-wrap:not(:has(.ant-modal))"  # the dialog is gone, the wrapper still catches clicks
)
CHANNEL_TALK_STYLE_ID = "channel-talk-blocker-style"
CHANNEL_TALK_CSS = (
    "#ch-plugin, #ch-plugin-entry, #ch-plugin-script, #floating-button-portal"
    " { display: none !important; pointer-events: none !important; }"
)
MESSAGE_NOTICE = ".ant-message-notice"
MESSAGE_NOTICE_ANY = ".ant-message-notice, .ant-message-notice-content"

# --- shell after login (§1) ---
APP_LAYOUT = ".ant-layout"
LOGIN_ERRORS = ".ant-form-item-explain-error, .ant-alert-error"

# --- shell / menu (§1) ---
MENU_ITEM_TITLE = "li.ant-menu-item[role=menuitem] span.ant-menu-title-content"
SUBMENU_TITLE = "li.ant-menu-submenu .ant-menu-submenu-title"
MENU_PRODUCT_MANAGE_TEXT = "등록 상품 관리"
MENU_PRODUCT_PARENT_TEXT = "상품 관리"

# --- 등록 상품 관리 list (§2) ---
SEARCH_INPUT = "input.ant-input[placeholder='상품명 입력']"
# The list's total, `총 N개 상품`, as a pattern for `new RegExp` in page scripts.
TOTAL_JS_PATTERN = r"^\s*총\s*([0-9,]+)\s*개 상품\s*$"
# The list header has borderless single selects (sort order, group filter, page size); the group filter
# is the one showing a group name (or 전체 / 그룹 없음), the page size the one showing `N개씩 보기`.
HEADER_SELECT = ".ant-select-borderless.ant-select-single"
PAGE_SIZE_SELECT = HEADER_SELECT + ":has(.ant-select-selection-item:text-matches('개씩 보기$'))"
SELECT_SELECTOR = ".ant-select-selector"
SELECT_SELECTION_ITEM = ".ant-select-selection-item"
OPEN_DROPDOWN = ".ant-select-dropdown:not(.ant-select-dropdown-hidden)"
DROPDOWN_OPTION = ".ant-select-item-option"
DROPDOWN_OPTION_CONTENT = ".ant-select-item-option-content"
VIRTUAL_LIST_HOLDER = ".rc-virtual-list-holder"
PAGE_SIZE_OPTION_TEXT = "{n}개씩 보기"

TABLE = ".ant-table"
ROWS = "tr.ant-table-row[data-row-key]"
ROW_KEY_ATTR = "data-row-key"
EMPTY_PLACEHOLDER = "tr.ant-table-placeholder"
SPINNING = ".ant-table-wrapper .ant-spin-spinning"
SELECT_ALL_LABEL = "th .ant-table-selection label.ant-checkbox-wrapper"
ROW_CHECKBOX_LABEL = "td.ant-table-selection-column label.ant-checkbox-wrapper"
ROW_SELECTED_CLASS = "ant-table-row-selected"
ROW_GROUP_SELECT = ".ant-select.ant-select-show-search"
SELECT_SEARCH_INPUT = "input.ant-select-selection-search-input"
GROUP_ASSIGN_TEXT = "그룹 지정"
GROUP_ASSIGN_BUTTON = f"button:has(span:text-is('{GROUP_ASSIGN_TEXT}'))"
# The product name: the first span of the row's vertical flex (whatever step1 appended to it). A click on it
# opens the edit drawer.
ROW_NAME = "td:not(.ant-table-selection-column) .ant-flex-vertical > span:first-child"
PAGINATION_NEXT = "ul.ant-pagination li.ant-pagination-next"
PAGINATION_DISABLED_CLASS = "ant-pagination-disabled"

# --- group modal (§3) ---
# The captured title holds its text in a nested span (.ant-modal-title > .ant-row > .ant-col > span).
GROUP_MODAL = ".ant-modal:has(.ant-modal-title:has-text('상품 그룹핑/제외하기'))"
MODAL_RADIO = "label.ant-radio-wrapper"
MODAL_RADIO_CHECKED = ".ant-radio-wrapper-checked"
MODAL_OK = ".ant-modal-footer button.ant-btn-primary:has-text('확인')"

# --- product edit drawer (§4) ---
DRAWER = ".ant-drawer-content[role=dialog]"
EDIT_DRAWER = ".ant-drawer-content[role=dialog]:has(.ant-tabs)"
# The drawer's close is the first of the header's bare close icons (the memo bar has another one).
DRAWER_CLOSE_ICON = ".ant-drawer-header span[role=img][aria-label=close]"
TAB = ".ant-tabs-nav-list .ant-tabs-tab[data-node-key='{key}']"
TAB_BUTTON = "[role=tab]"
TAB_ACTIVE_CLASS = "ant-tabs-tab-active"
TAB_KEYS = {"name": 0, "options": 1, "price": 2, "keywords": 3, "thumbnails": 4, "detail": 5, "upload": 6}
TAB_TEXTS = {
    0: "상품명 / 카테고리",
    1: "옵션",
    2: "가격",
    3: "키워드",
    4: "썸네일",
    5: "상세페이지",
    6: "업로드",
}
# The header's active tab pane is always empty: a tab's content is rendered elsewhere in the drawer. A tab is
# ready when its marker button shows (what production waited for); only visible elements count, since the
# other tabs' content may stay in the page, hidden.
TAB_READY_TEXT = {
    0: "카테고리 추천 받기",
    1: "옵션 추가",
    2: "배송비용 계산기",
    3: "키워드 추가 enter",
    4: "썸네일 되돌리기",
    5: "일괄 편집",
    6: "쿠팡 개별 업로드",
}
VISIBLE = ":visible"

# 상세페이지 tab → the image bulk-edit drawer (§4.1, §4.2). The list header also has a text-only
# `일괄 편집`, hence the form icon.
BULK_EDIT_BUTTON = "button:has(span:text-is('일괄 편집')):has(span[role=img][aria-label=form])"
BULK_DRAWER = ".ant-drawer-content[role=dialog]:has-text('상세페이지 이미지 일괄 편집')"
IMAGE_COUNT_RE = re.compile(r"총\s*([0-9,]+)\s*개의 이미지")
IMAGE_COUNT_TEXT = "span:text-matches('총 *[0-9,]+ *개의 이미지')"
# An image card; the Upload tile after the cards is a draggable div too, but holds no image.
CARD = ".ant-row .ant-col > div[draggable=false]:has(img)"
CARD_DELETE = "span.FootnoteDescription:text-is('삭제')"
CARD_EDIT = "span.FootnoteDescription:text-is('편집하기')"

# 썸네일 tab (§4.3)
THUMB_COUNT_RE = re.compile(r"총\s*([0-9,]+)\s*개의 썸네일")
THUMB_COUNT_TEXT = "span:text-matches('총 *[0-9,]+ *개의 썸네일')"

# 옵션 tab (§4.4)
OPTION_ITEM = "li.ant-list-item[aria-roledescription=sortable]"
OPTION_COPY = "span.FootnoteDescription:text-is('썸네일로 복사')"
OPTION_EDIT = "span.FootnoteDescription:text-is('편집')"

# image-translation editor (§4.5). Its root was never captured: only these parts are relied on.
TRANSLATE_BUTTON_TEXT = "원클릭 이미지 번역"
TRANSLATE_BUTTON = f"button:has(span:text-is('{TRANSLATE_BUTTON_TEXT}'))"
TRANSLATE_KEY = "t"  # the editor's shortcut for the same button
EDITOR_CANVAS = "canvas#pCanvas"
EDITOR_THUMB = "img.p_tooltip_image_editor_thumb"  # the editor's strip; nothing marks the shown one
EDITOR_NEXT_KEY, EDITOR_FIRST_KEY = "Tab", "Home"
EDITOR_SAVE = "button.ant-btn-primary:has(span:text-is('수정사항 저장'))"
BUTTON_LOADING_CLASS = "ant-btn-loading"
# assumption: the text of a notice when credits run out was never captured (see real-dom.md).
CREDITS_EXHAUSTED_NOTICE = "번역 가능 횟수를 모두 사용했습니다"

# CKEditor (§4.1)
CK_EDITABLE = ".ck-editor__editable"
CK_SOURCE_BUTTON = "button.ck-source-editing-button"
CK_SOURCE_TEXTAREA = ".ck-source-editing-area textarea"
# L = YES inserts what the real tool inserted: an empty image with this alt text.
IMAGE_TAG_HTML = '<img src="" alt="상품이미지">'
IMAGE_TAG_MARKER = "상품이미지"


def text_is(value: str) -> str:
    """A Playwright `:text-is()` argument that is safe for any text (quotes, backslashes)."""
    return f":text-is({json.dumps(value, ensure_ascii=False)})"


def menu_item(text: str) -> str:
    return f"{MENU_ITEM_TITLE}{text_is(text)}"


def option_by_text(text: str) -> str:
    """An option of the open select dropdown whose label is exactly `text`."""
    return f"{OPEN_DROPDOWN} {DROPDOWN_OPTION_CONTENT}{text_is(text)}"


def radio_by_group(name: str) -> str:
    """The group modal's radio for exactly `name` (not a prefix: 서버1 vs 서버1-1)."""
    return f"{GROUP_MODAL} {MODAL_RADIO}:has(> span{text_is(name)})"


def row_by_key(item_id: str) -> str:
    return f"{ROWS}[{ROW_KEY_ATTR}={json.dumps(item_id)}]"


def tab(key: int) -> str:
    return f"{EDIT_DRAWER} " + TAB.format(key=key)


def tab_ready(key: int) -> str:
    """The marker button of tab `key`, visible only while that tab's content shows."""
    return f"{EDIT_DRAWER} button:has(span{text_is(TAB_READY_TEXT[key])}){VISIBLE}"


def parse_int(pattern: re.Pattern[str], text: str) -> int | None:
    match = pattern.search(text or "")
    return int(match.group(1).replace(",", "")) if match else None
