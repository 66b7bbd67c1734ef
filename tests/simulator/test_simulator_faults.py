"""Each fault happens when enabled and never when disabled."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import httpx
import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults


@pytest.fixture
def make_sim(tmp_path: Path, sim_workbook: Path):
    servers = []

    def make(**faults):
        server = testing.simulator(tmp_path / f"s{len(servers)}", sim_workbook, faults=Faults(**faults))
        server.start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def _median_ms(url: str, n: int = 9) -> float:
    times = []
    with httpx.Client() as client:
        for _ in range(n):
            start = time.perf_counter()
            client.get(url + "/api/health")
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def test_latency(make_sim) -> None:
    slow, fast = make_sim(latency_ms=300), make_sim()
    assert _median_ms(slow.url) >= 150  # mean 300 ms, at least half of it
    assert _median_ms(fast.url) < 150


def test_error_rate_fails_before_changing_anything(make_sim, sim_account) -> None:
    flaky, solid = make_sim(error_rate=0.5), make_sim()
    for sim, expect_errors in ((flaky, True), (solid, False)):
        with testing.ApiClient(sim.url, sim_account) as api:
            ids = [p["id"] for p in api.get("/api/products", size=40)["items"]]
            codes = [
                api.http.post(f"/api/products/{pid}/group", json={"group": "삭제X"}).status_code
                for pid in ids
            ]
            assert set(codes) == ({200, 503} if expect_errors else {200})
            moved = api.get("/api/products", group="삭제X", size=100)["total"] if not expect_errors else None
            audit = api.get("/api/audit")
        assert len(audit) == codes.count(200) == sum(1 for e in audit if e["args"]["group"] == "삭제X")
        assert moved is None or moved >= codes.count(200)


@pytest.mark.browser
def test_error_shows_a_message_and_keeps_the_screen(page, make_sim, sim_account) -> None:
    sim = make_sim(error_rate=1.0)
    page.goto(sim.url + "/signin")  # /api/login is never failed, but the shell's data loads are
    page.fill("input#email", sim_account.email)
    page.fill("input#password", sim_account.password.reveal())
    page.click("text=이메일 로그인")
    page.wait_for_selector(".ant-message-notice-content span:has-text('일시적인 오류가 발생했습니다')")
    assert page.url == sim.url + "/"
    assert page.locator("aside ul.ant-menu").count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("expiry", [0.02, None])
def test_session_expiry_sends_the_page_to_signin(page, make_sim, sim_account, expiry) -> None:
    sim = make_sim(session_expiry_min=expiry)
    testing.login(page, sim.url, sim_account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.wait_for_selector("tr.ant-table-row")
    deadline = time.monotonic() + 3  # 1.2 s expiry; past it the session must be gone (or alive if disabled)
    page.wait_for_function("t => Date.now() > t", arg=(time.time() + 2) * 1000, timeout=10_000)
    status = page.evaluate("fetch('/api/me').then(r => r.status)")
    assert status == (401 if expiry else 200)
    assert time.monotonic() < deadline + 10
    page.click("button:has-text('새로고침')")
    if expiry:
        page.wait_for_url(sim.url + "/signin")
        page.goto(sim.url + "/")
        assert page.url == sim.url + "/signin"
    else:
        page.wait_for_selector("tr.ant-table-row")
        assert page.url == sim.url + "/"


@pytest.mark.browser
@pytest.mark.parametrize("enabled", [True, False])
def test_login_popup(page, make_sim, sim_account, enabled) -> None:
    sim = make_sim(login_popup=enabled)
    testing.login(page, sim.url, sim_account)
    popup = page.locator(".ant-modal.notice-popup")
    if enabled:
        popup.wait_for()
        assert popup.locator(".ant-modal-body img").count() == 1
        assert popup.locator(".ant-modal-footer button").all_inner_texts() == ["다시 보지 않기", "닫기"]
        popup.locator("button:has-text('다시 보지 않기')").click()
        popup.wait_for(state="detached")
        page.reload()
        page.wait_for_selector("aside ul.ant-menu")
    page.wait_for_function("t => Date.now() > t", arg=(time.time() + 2) * 1000)  # past the popup's 0.8 s
    assert popup.count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("rate", [1.0, 0.0])
def test_marketing_popups_after_actions(page, make_sim, sim_account, rate) -> None:
    sim = make_sim(popup_rate=rate)
    testing.login(page, sim.url, sim_account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.wait_for_selector("tr.ant-table-row")
    popup = page.locator(".ant-modal.notice-popup")
    for _ in range(5):
        if popup.count():
            popup.locator("button:has-text('닫기')").click()
            popup.wait_for(state="detached")
        page.click("button:has-text('새로고침')")
        page.wait_for_selector(".ant-spin-spinning", state="detached")
        if rate:
            popup.wait_for()  # every action is followed by one
            assert popup.locator(".ant-modal-body img").count() == 1
    if rate:
        return
    page.wait_for_function("t => Date.now() > t", arg=(time.time() + 0.5) * 1000)
    assert popup.count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("enabled", [True, False])
def test_channel_talk_covers_bottom_right(page, make_sim, sim_account, enabled) -> None:
    sim = make_sim(channel_talk=enabled)
    testing.login(page, sim.url, sim_account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.wait_for_selector("tr.ant-table-row")
    hit = page.evaluate(
        "() => { const e = document.elementFromPoint(innerWidth - 60, innerHeight - 60);"
        " return !!(e && e.closest('#ch-plugin')); }"
    )
    assert hit is enabled
    assert page.locator("iframe#ch-plugin-script-iframe[title='Channel chat']").count() == (
        1 if enabled else 0
    )


@pytest.mark.browser
@pytest.mark.parametrize("linger", [1500, 0])
def test_lingering_modal_wrap_intercepts_clicks(page, make_sim, sim_account, linger) -> None:
    sim = make_sim(linger_modal_ms=linger)
    testing.login(page, sim.url, sim_account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.wait_for_selector("tr.ant-table-row")
    page.locator("tr.ant-table-row").first.locator("label.ant-checkbox-wrapper").click()
    page.click("button:has-text('그룹 지정')")
    page.locator(".ant-modal-footer button:has-text('닫기')").click()
    covered = page.evaluate(
        "() => { const e = document.elementFromPoint(innerWidth / 2, innerHeight / 2);"
        " return e ? e.className : ''; }"
    )
    if linger:
        assert "ant-modal-wrap" in covered and page.locator("div.ant-modal").count() == 0
        with pytest.raises(Exception, match="intercepts pointer events"):
            page.click("button:has-text('새로고침')", timeout=500)
        page.wait_for_selector(".ant-modal-wrap", state="detached", timeout=10_000)
    else:
        assert "ant-modal-wrap" not in covered and page.locator(".ant-modal-wrap").count() == 0
    page.click("button:has-text('새로고침')", timeout=5_000)


def test_translation_credits_run_out(make_sim, sim_account) -> None:
    sim = make_sim(translation_credits=1, translate_ms=0)
    with testing.ApiClient(sim.url, sim_account) as api:
        zh = [
            (p["id"], im["id"])
            for p in api.get("/api/products", size=100)["items"]
            for im in _zh_images(sim.db_path, p["id"])
        ][:2]
        first = api.post(f"/api/products/{zh[0][0]}/translate", {"list": "detail", "image": zh[0][1]})
        second = api.post(f"/api/products/{zh[1][0]}/translate", {"list": "detail", "image": zh[1][1]})
        assert (first["status"], first["credits"], second["status"]) == ("translated", 0, "no_credits")
        assert [e["op"] for e in api.get("/api/audit")] == ["image_translate"]
        assert api.get("/api/me")["credits"] == 0


@pytest.mark.browser
def test_no_credits_message_in_the_editor(page, make_sim, sim_account) -> None:
    sim = make_sim(translation_credits=0, translate_ms=0)
    testing.login(page, sim.url, sim_account)
    page.click("li[data-menu-id$='-1-PRODUCT_MANAGE']")
    page.locator("tr.ant-table-row .product-info").first.click()
    page.wait_for_selector(".ant-drawer-content .ant-tabs-nav-list")
    page.keyboard.press("Alt+5")
    page.locator("xpath=(//span[contains(@class,'FootnoteDescription') and text()='편집하기'])[1]").click()
    page.locator("canvas#pCanvas").wait_for()
    page.keyboard.press("T")
    page.wait_for_selector(".ant-message-notice-content span:text-is('번역 가능 횟수를 모두 사용했습니다')")
    assert httpx.get(sim.url + "/api/audit").json() == []


def _zh_images(db: Path, pid: str) -> list[dict]:
    import json
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        detail = json.loads(conn.execute("SELECT detail FROM products WHERE id=?", (pid,)).fetchone()[0])
    finally:
        conn.close()
    return [im for im in detail if im["zh"] and not im["tr"]]
