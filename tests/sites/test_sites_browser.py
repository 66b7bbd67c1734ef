"""Page objects in headless Chromium against the simulator: login, list state, failure artifacts."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.engine.errors import SessionExpired, StopAccount, Transient
from stepbatch.simulator.faults import Faults
from stepbatch.sites.percenty.base import playwright_errors
from stepbatch.sites.percenty.dom_click import REAL_MOUSE_ENV
from stepbatch.sites.percenty.editor import DETAIL
from stepbatch.sites.percenty.site import PercentySite
from stepbatch.workbook.models import Account, Secret

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import simulator

pytestmark = pytest.mark.browser


@pytest.fixture
def session():
    s = start_session(BrowserOptions(offline=True))
    yield s
    s.close()


def test_login_list_state_and_failure_artifacts(tmp_path: Path, session):
    with simulator(tmp_path, faults=Faults(login_popup=True, channel_talk=True), codes=3, per_code=3) as sim:
        account = sim.book.accounts[0]
        site = PercentySite(sim.url)
        site.open(session, account)
        site.ensure_list()
        assert site.list.current_group() == "신규수집"
        assert site.list.current_page_size() == "50개씩 보기"
        code = sim.book.units(account, "step3")[0].provider_code
        # the login notice opens 800 ms after login, whenever that is on a loaded machine: wait for it,
        # then the next action must close it for good (다시 보지 않기)
        session.page.wait_for_function(
            "() => !!document.querySelector('.notice-popup') || localStorage.getItem('sim_notice_hidden')"
        )
        assert site.list.search(code) == 3
        assert len(site.list.row_ids()) == 3
        assert session.page.evaluate("() => localStorage.getItem('sim_notice_hidden')") == "1"
        assert not session.page.locator(".notice-popup .ant-modal-content").is_visible()
        # Channel Talk is hidden by the injected style
        assert not session.page.locator("#ch-plugin").is_visible()

        files = site.capture_failure(tmp_path / "artifacts" / "X12@서버1-1-Transient")
        assert files["screenshot"].stat().st_size > 1000
        html = files["html"].read_text(encoding="utf-8")
        assert "총 3개 상품" in html
        assert account.password.reveal() not in html

        session.page.context.clear_cookies()  # the session is gone: the next API call answers 401
        with pytest.raises(SessionExpired):
            site.list.search(code)


def test_wrong_password_stops_the_account(tmp_path: Path, session):
    with simulator(tmp_path, codes=2, per_code=1) as sim:
        real = sim.book.accounts[0]
        wrong = Account(real.email, Secret("not-the-password"), real.operator, real.nickname, real.index)
        with pytest.raises(StopAccount) as info:
            PercentySite(sim.url).open(session, wrong)
        assert "not-the-password" not in str(info.value)


def test_clearing_overlays_removes_lingering_wrappers_but_keeps_live_modals_closable(tmp_path: Path, session):
    """The overlay clean-up must not take the mask of an open modal: such a modal can no longer close."""
    with simulator(tmp_path, faults=Faults(linger_modal_ms=60_000), codes=2, per_code=2) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        page = session.page
        page_errors: list[str] = []
        page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        page.locator("tr.ant-table-row").first.locator("label.ant-checkbox-wrapper").click()
        page.click("button:has-text('그룹 지정')")
        dialog = page.locator(".ant-modal").filter(has_text="상품 그룹핑").first
        dialog.wait_for(state="visible")

        assert site.h.clear_overlays() == 0
        assert page.locator(".ant-modal-mask").count() == 1

        # closed by a DOM click: a Playwright action would let the adapter's own overlay handler run first
        page.evaluate(
            "() => [...document.querySelectorAll('.ant-modal-footer button')]"
            ".find(b => b.textContent.trim() === '닫기').click()"
        )
        assert page.evaluate("() => document.querySelectorAll('.ant-modal').length") == 0
        assert page.evaluate("() => document.querySelectorAll('.ant-modal-wrap').length") == 1  # lingers
        assert site.h.clear_overlays() == 1
        assert page.locator(".ant-modal-wrap, .ant-modal-mask").count() == 0
        page.click("button:has-text('새로고침')", timeout=5_000)
        assert page_errors == []


_COUNT_POPUPS_JS = """
() => {
  window.__popups = 0;
  new MutationObserver((records) => {
    for (const r of records) for (const n of r.addedNodes)
      if (n.nodeType === 1 && n.querySelector('.notice-popup')) window.__popups++;
  }).observe(document.body, {childList: true});
}
"""


def test_translating_every_image_survives_a_popup_after_every_action(tmp_path: Path, session):
    """The site may open a marketing popup after any action: it takes the editor's TAB key when it does."""
    with simulator(tmp_path, faults=Faults(popup_rate=1.0, translate_ms=0), codes=2, per_code=3) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        unit = sim.book.units(sim.book.accounts[0], "step3")[0]
        site.list.search(unit.provider_code)
        product = site.list.row_ids()[0]
        site.editor.open(site.list.row(product))
        images = site.editor.detail_count()
        session.page.evaluate(_COUNT_POPUPS_JS)

        pressed = site.editor.translate(DETAIL, list(range(1, images + 1)))
        site.editor.close()

        conn = sqlite3.connect(sim.db_path)
        try:
            audit = [
                json.loads(args)
                for (args,) in conn.execute(
                    "SELECT args FROM audit WHERE product=? AND op='image_translate'", (product,)
                )
            ]
            row = conn.execute("SELECT detail FROM products WHERE id=?", (product,)).fetchone()
            detail = json.loads(row[0])
        finally:
            conn.close()
        assert images >= 3 and session.page.evaluate("() => window.__popups") >= 2
        assert pressed == images
        assert sorted(a["position"] for a in audit) == list(range(1, images + 1))  # each pressed once
        by_position = sorted(audit, key=lambda a: a["position"])
        assert [a["had_text"] for a in by_position] == [im["zh"] for im in detail]
        assert any(im["zh"] for im in detail)
        assert all(im["tr"] for im in detail if im["zh"])  # every image with Chinese text was translated


_SWALLOW_FIRST_OPTION_CLICK_JS = """
() => {
  window.__swallowed = 0;
  document.addEventListener('click', (ev) => {
    if (window.__swallowed || !ev.target.closest('.ant-select-item-option')) return;
    window.__swallowed++;
    ev.stopPropagation();
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape', bubbles: true}));
  }, true);
}
"""


def test_a_dropdown_that_closes_under_the_click_is_opened_again(tmp_path: Path, session):
    """A list dropdown closed under the adapter's click (seen after a re-login): the choice still lands."""
    with simulator(tmp_path, codes=1, per_code=1) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        assert site.list.current_page_size() == "50개씩 보기"
        session.page.evaluate(_SWALLOW_FIRST_OPTION_CLICK_JS)
        site.list.set_page_size(20)
        assert site.list.current_page_size() == "20개씩 보기"
        assert session.page.evaluate("() => window.__swallowed") == 1


def test_the_group_modal_confirms_again_after_a_5xx(tmp_path: Path, session):
    """A 5xx to 확인 leaves the modal open and changes nothing: the adapter confirms again."""
    with simulator(tmp_path, codes=2, per_code=2) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        unit = sim.book.units(sim.book.accounts[0], "step3")[0]
        site.list.search(unit.provider_code)
        rows = site.list.row_ids()
        failed: list[str] = []

        def fail_once(route):
            if failed:
                route.continue_()
            else:
                failed.append(route.request.url)
                route.fulfill(status=503, body="{}", content_type="application/json")

        session.page.route("**/api/products/group", fail_once)
        site.list.select_all()
        site.modal.assign_selected(unit.target_group)
        site.h.wait_js("() => !document.querySelector('.ant-modal')")
        conn = sqlite3.connect(sim.db_path)
        try:
            groups = {
                r[0]
                for r in conn.execute(
                    f"SELECT grp FROM products WHERE id IN ({','.join('?' * len(rows))})", rows
                )
            }
        finally:
            conn.close()
        assert len(failed) == 1 and groups == {unit.target_group}


NAVIGATE_UNDER_EVALUATE = (
    "(to) => { setTimeout(() => { location.href = to; }, 50); return new Promise(() => {}); }"
)


def test_an_action_broken_by_a_navigation_to_sign_in_is_a_session_expiry(tmp_path: Path, session):
    """Playwright reports the broken action before the new URL: it must still count as SessionExpired
    (a re-login that costs no attempt), and a navigation elsewhere must not."""
    with simulator(tmp_path, codes=2, per_code=1) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        with pytest.raises(Transient), playwright_errors(session.page):
            session.page.evaluate(NAVIGATE_UNDER_EVALUATE, "/?elsewhere")
        session.page.context.clear_cookies()  # the session is gone, so /signin stays the sign-in page
        with pytest.raises(SessionExpired), playwright_errors(session.page):
            session.page.evaluate(NAVIGATE_UNDER_EVALUATE, "/signin")


def test_a_login_overtaken_by_the_sites_own_redirect_to_sign_in_is_never_a_transient(tmp_path: Path, session):
    """An expired session: the site's JS sends the page to /signin while the adapter's re-login opens it.

    The goto that the site's navigation overtook must not fail the attempt (it used to say
    `net::ERR_ABORTED`, a Transient that cost one of the code's attempts). A redirect that lands after
    the login is a new session expiry, which the engine re-logs in for free.
    """
    with simulator(tmp_path, codes=2, per_code=1) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        outcomes = []
        for delay_ms in (0, 5, 10) * 4:
            session.page.context.clear_cookies()
            session.page.evaluate(
                "(ms) => setTimeout(() => { location.href = '/signin?by=site'; }, ms)", delay_ms
            )
            try:
                site.login()
                outcomes.append("logged in")
            except SessionExpired:
                outcomes.append("expired again")
            session.page.wait_for_load_state()
        assert set(outcomes) <= {"logged in", "expired again"} and "logged in" in outcomes, outcomes
        site.login()
        site.ensure_list()
        assert site.list.current_group() == "신규수집"


def test_a_sign_in_page_loaded_again_after_the_submit_is_filled_in_again(tmp_path: Path, session):
    """The first login answer carries no session: the site lands on a fresh sign-in page. The adapter
    must see the form it submitted is gone and sign in again, not wait out its timeout."""
    with simulator(tmp_path, codes=2, per_code=1) as sim:
        answered: list[int] = []

        def first_without_session(route):
            answered.append(len(answered) + 1)
            if len(answered) == 1:
                route.fulfill(status=200, body="{}", content_type="application/json")
            else:
                route.continue_()

        session.page.route("**/api/login", first_without_session)
        site = PercentySite(sim.url, timeout_ms=8_000)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        assert answered == [1, 2]
        assert site.list.current_group() == "신규수집"


def test_with_every_click_through_playwrights_mouse_deletes_and_presses_land_once(
    tmp_path: Path, session, monkeypatch
):
    """STEPBATCH_REAL_MOUSE=1 (the way back should a live site ignore script clicks) takes no script path."""
    monkeypatch.setenv(REAL_MOUSE_ENV, "1")
    with simulator(tmp_path, faults=Faults(translate_ms=0), codes=1, per_code=1) as sim:
        site = PercentySite(sim.url)
        site.open(session, sim.book.accounts[0])
        site.ensure_list()
        assert not site.h.script_clicks
        unit = sim.book.units(sim.book.accounts[0], "step3")[0]
        site.list.search(unit.provider_code)
        product = site.list.row_ids()[0]
        session.page.evaluate(
            "() => { window.__untrusted = 0; document.addEventListener('click',"
            " e => { if (!e.isTrusted) window.__untrusted++; }, true); }"
        )
        site.editor.open(site.list.row(product))
        before = site.editor.detail_count()
        site.editor.delete_detail(before)
        assert site.editor.detail_count() == before - 1
        assert site.editor.translate(DETAIL, [1]) == 1
        site.editor.close()
        conn = sqlite3.connect(sim.db_path)
        try:
            ops = [
                op
                for (op,) in conn.execute("SELECT op FROM audit WHERE product=? ORDER BY rowid", (product,))
            ]
        finally:
            conn.close()
        assert session.page.evaluate("() => window.__untrusted") == 0  # every click was the browser's own
        assert ops.count("image_translate") == 1
        assert ops.count("detail_image_delete") == 1, ops
