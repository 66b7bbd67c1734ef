"""SeleniumSession with /usr/bin/chromedriver, and the factory the engine calls."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psutil
import pytest
from browser_helpers import alive, wait_until
from selenium.webdriver.support.ui import WebDriverWait

from stepbatch.browser.errors import classify
from stepbatch.browser.factory import BrowserOptions, browser_factory
from stepbatch.browser.orphans import read_record, record_path
from stepbatch.browser.protocol import BrowserSession
from stepbatch.browser.selenium_session import SeleniumSession
from stepbatch.engine.errors import BrowserCrashed
from stepbatch.errors import UserError


@pytest.mark.browser
def test_selenium_session_tree_memory_metrics_and_close():
    s = SeleniumSession(offline=True)
    try:
        pids = s.pids
        names = [psutil.Process(p).name() for p in pids]
        assert names[0] == "chromedriver" and names.count("chromium") >= 3
        s.driver.get("data:text/html,<p>hello</p>")
        inner = s.driver.execute_script("return [innerWidth, innerHeight, navigator.language]")
        assert inner == [1920, 945, "ko-KR"]
        assert 100 < s.memory_mb() < 1500
        assert s.page_metrics()["Nodes"] > 0
        profile = s.profile
    finally:
        s.close()
    assert wait_until(lambda: not alive(pids), 10), alive(pids)
    assert not profile.exists() and s.pids == []


@pytest.mark.browser
def test_selenium_kill_from_another_thread_unblocks_the_driver():
    s = SeleniumSession(offline=True)
    try:
        s.driver.get("data:text/html,<p>waiting</p>")
        threading.Timer(0.5, s.kill).start()
        started = time.monotonic()
        with pytest.raises(Exception) as info:
            WebDriverWait(s.driver, 120).until(lambda d: d.find_elements("css selector", "#never"))
        assert time.monotonic() - started < 60
        assert isinstance(classify(info.value), BrowserCrashed)
        assert not s.is_alive()
    finally:
        s.close()


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["playwright", "selenium"])
def test_factory_sessions_record_their_tree_while_alive(kind: str, state_dir: Path):
    factory = browser_factory(kind, offline=True, state_dir=state_dir, account="acct@example.com")
    session = factory()
    try:
        assert isinstance(session, BrowserSession) and session.kind == kind
        record = read_record(record_path(state_dir, "acct@example.com"))
        assert record is not None and record.kind == kind
        assert {p.pid for p in record.procs} >= set(session.pids)
    finally:
        session.close()
    assert not record_path(state_dir, "acct@example.com").exists()


def test_factory_rejects_bad_options_before_starting_anything(tmp_path: Path):
    with pytest.raises(UserError, match="--browser: unknown kind 'firefox'"):
        browser_factory("firefox")
    missing = tmp_path / "chrome.exe"
    with pytest.raises(UserError) as info:
        browser_factory(BrowserOptions(chrome_binary=missing))
    assert str(missing) in str(info.value) and "\n" not in str(info.value)
