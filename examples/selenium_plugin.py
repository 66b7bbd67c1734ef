"""Example plugin processor written with Selenium, run by stepbatch's engine.

An operator's existing Selenium step code can live inside a class like this one: the engine hands it a
`SeleniumSession` (its `.driver` is a `webdriver.Chrome`), calls `open()` once per browser and
`process()` once per provider code, and records every product through `ctx` so a crash never repeats
work. This one does what step2 does on the site: move every product of a code from 신규수집 to the
code's target group, with the per-row group select.

    from stepbatch.browser.factory import browser_factory
    from stepbatch.engine.runner import run_account
    run_account(..., processor=SeleniumMoveProcessor(base_url),
                browser_factory=browser_factory("selenium", state_dir=state, account=account.nickname))
"""

from __future__ import annotations

from typing import Any

from selenium.common.exceptions import ElementNotInteractableException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from stepbatch.browser.errors import classify
from stepbatch.engine.errors import Permanent, SessionExpired
from stepbatch.engine.protocol import ItemStatus, UnitContext, UnitResult, UnitStatus
from stepbatch.workbook.models import Account, Unit

SOURCE_GROUP = "신규수집"
SEARCH_INPUT = "input.ant-input[placeholder='상품명 입력']"
ROWS = "tr.ant-table-row[data-row-key]"
SPINNING = ".ant-table-wrapper .ant-spin-spinning"
MENU_ITEM = (
    "//li[@role='menuitem']//span[contains(@class,'ant-menu-title-content')]"
    "[normalize-space()='등록 상품 관리']"
)
SUBMENU = "//div[contains(@class,'ant-menu-submenu-title')][contains(., '상품 관리')]"
OPEN_DROPDOWN_XPATH = (
    "//div[contains(@class,'ant-select-dropdown') and not(contains(@class,'ant-select-dropdown-hidden'))]"
)
HIDE_OVERLAYS_CSS = "#ch-plugin, #floating-button-portal { display: none !important; }"

# Settled when nothing spins and every row belongs to the searched code (or the list is empty).
RESULTS_FOR_JS = f"""
const code = arguments[0];
if (document.querySelector({SPINNING!r})) return false;
const rows = [...document.querySelectorAll({ROWS!r})];
if (rows.length === 0) return !!document.querySelector('tr.ant-table-placeholder');
return rows.every(r => r.textContent.includes(code));
"""


class SeleniumMoveProcessor:
    """Moves each code's products to its target group (step2), through Selenium."""

    step = "step2"

    def __init__(self, base_url: str, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.driver: Any = None

    # --- StepProcessor ----------------------------------------------------------------------

    def open(self, browser: Any, account: Account) -> None:
        self.driver = browser.driver
        try:
            self.driver.get(self.base_url + "/signin")
            self._find("input#email").send_keys(account.email)
            self._find("input#password").send_keys(account.password.reveal())
            self._find_xpath("//button[.//span[normalize-space()='이메일 로그인']]").click()
            self._wait(lambda d: d.current_url.rstrip("/") == self.base_url, "the app after login")
            self._find("aside.ant-layout-sider ul.ant-menu")
            self.driver.execute_script(
                "const s = document.createElement('style'); s.textContent = arguments[0];"
                " document.head.appendChild(s);",
                HIDE_OVERLAYS_CSS,
            )
        except WebDriverException as exc:
            raise classify(exc) from exc

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        try:
            return self._process(unit, ctx)
        except WebDriverException as exc:
            raise classify(exc) from exc

    # --- the step -----------------------------------------------------------------------------

    def _process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        self._open_product_list()
        self._choose_in_group_filter(SOURCE_GROUP)
        total = self._search(unit.provider_code)
        ctx.set_total(total)
        done = 0
        while not ctx.should_stop():
            ids = self._row_ids()
            if not ids:
                return UnitResult(UnitStatus.DONE, items_done=done, total_found=total)
            item_id = ids[0]
            record = ctx.item_state(item_id)
            if record is None or record.status == ItemStatus.INTENT:
                ctx.item_started(item_id, [f"move to {unit.target_group}"])
                ctx.item_edited(item_id)  # a pure move: nothing to edit
            self._move_row(item_id, unit.target_group)
            ctx.item_done(item_id)
            done += 1
        return UnitResult(UnitStatus.PARTIAL, items_done=done, total_found=total, message="stopped")

    def _open_product_list(self) -> None:
        self._close_popups()
        if self.driver.find_elements(By.CSS_SELECTOR, SEARCH_INPUT):
            return
        if "/signin" in self.driver.current_url:
            raise SessionExpired("redirected to /signin")
        items = self.driver.find_elements(By.XPATH, MENU_ITEM)
        if not items or not items[0].is_displayed():
            self._click(self._find_xpath(SUBMENU))
        self._click(self._find_xpath(MENU_ITEM))
        self._find(SEARCH_INPUT)

    def _choose_in_group_filter(self, group: str) -> None:
        selects = self.driver.find_elements(By.CSS_SELECTOR, ".list-header-right .ant-select")
        group_select = next(s for s in selects if self._selection_text(s) in {"전체", "그룹 없음", group})
        if self._selection_text(group_select) == group:
            return
        self._click(group_select.find_element(By.CSS_SELECTOR, ".ant-select-selector"))
        self._click(self._option(group))
        self._wait(lambda d: self._selection_text(group_select) == group, f"group filter {group}")

    def _search(self, code: str) -> int:
        box = self._find(SEARCH_INPUT)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(code, Keys.ENTER)
        self._wait(lambda d: d.execute_script(RESULTS_FOR_JS, code), f"search results for {code}")
        text = self._find_xpath("//span[starts-with(normalize-space(), '총 ')][contains(., '개 상품')]").text
        return int("".join(ch for ch in text if ch.isdigit()))

    def _row_ids(self) -> list[str]:
        return [r.get_attribute("data-row-key") for r in self.driver.find_elements(By.CSS_SELECTOR, ROWS)]

    def _move_row(self, item_id: str, group: str) -> None:
        row = self._find(f"tr.ant-table-row[data-row-key='{item_id}']")
        select = row.find_element(By.CSS_SELECTOR, ".ant-select.ant-select-show-search")
        self._click(select.find_element(By.CSS_SELECTOR, ".ant-select-selector"))
        search = select.find_element(By.CSS_SELECTOR, "input.ant-select-selection-search-input")
        search.send_keys(group)
        option = self._option(group)
        try:
            option.click()
        except ElementNotInteractableException:
            # chromedriver finds the filtered option "not interactable" (virtual list); the select
            # takes Enter for its active option, which is the only one left after typing the name.
            search.send_keys(Keys.ENTER)
        self._wait(
            lambda d: not d.find_elements(By.CSS_SELECTOR, f"tr.ant-table-row[data-row-key='{item_id}']"),
            f"product {item_id} to leave {SOURCE_GROUP}",
        )

    # --- small Selenium helpers ---------------------------------------------------------------------

    def _option(self, text: str) -> WebElement:
        xpath = (
            OPEN_DROPDOWN_XPATH
            + f"//div[contains(@class,'ant-select-item-option-content')][normalize-space()='{text}']"
        )
        try:
            # Present, not "displayed": Selenium's visibility heuristics reject the options of this
            # virtual list although a real click lands on them (chromedriver hit-tests the click).
            return self._wait(lambda d: next(iter(d.find_elements(By.XPATH, xpath)), None), f"option {text}")
        except TimeoutException as exc:
            raise Permanent(f"group {text!r} is not offered by the select") from exc

    def _selection_text(self, select: WebElement) -> str:
        items = select.find_elements(By.CSS_SELECTOR, ".ant-select-selection-item")
        return (items[0].get_attribute("title") or items[0].text).strip() if items else ""

    def _close_popups(self) -> None:
        for button in self.driver.find_elements(
            By.XPATH, "//div[contains(@class,'ant-modal-wrap')]//button[.//span[normalize-space()='닫기']]"
        ):
            if button.is_displayed():
                self._click(button)

    def _click(self, element: WebElement) -> None:
        element.click()

    def _find(self, css: str) -> WebElement:
        return self._wait(lambda d: _visible(d.find_elements(By.CSS_SELECTOR, css)), css)

    def _find_xpath(self, xpath: str) -> WebElement:
        return self._wait(lambda d: _visible(d.find_elements(By.XPATH, xpath)), xpath)

    def _wait(self, condition: Any, what: str) -> Any:
        return WebDriverWait(self.driver, self.timeout_s).until(condition, f"waiting for {what}")


def _visible(elements: list[WebElement]) -> WebElement | None:
    return next((e for e in elements if e.is_displayed()), None)
