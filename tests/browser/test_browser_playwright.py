"""PlaywrightSession in real headless Chromium: process tree, memory, kill, crash mapping."""

from __future__ import annotations

import os
import socket
import threading
import time

import psutil
import pytest
from browser_helpers import alive, wait_until

from stepbatch.browser.errors import classify
from stepbatch.browser.playwright_session import PlaywrightSession
from stepbatch.engine.errors import BrowserCrashed, Transient
from stepbatch.errors import UserError

pytestmark = pytest.mark.browser


def test_start_gives_a_chromium_tree_and_close_ends_it():
    s = PlaywrightSession(offline=True)
    pids = s.pids
    profile = s.profile
    assert len(pids) >= 3  # browser, zygotes, renderer, utilities
    root = psutil.Process(pids[0])
    assert "chrom" in root.name().lower()
    assert set(pids[1:]) <= {p.pid for p in root.children(recursive=True)}
    assert any(str(profile) in arg for arg in root.cmdline())
    assert s.page.evaluate("[innerWidth, innerHeight, navigator.language]") == [1920, 945, "ko-KR"]
    s.close()
    assert wait_until(lambda: not alive(pids), 10), alive(pids)
    assert not profile.exists()
    assert s.pids == [] and not s.is_alive()
    s.close()  # idempotent: a second close changes nothing
    assert s.pids == []


def test_memory_is_pss_in_a_plausible_range_and_grows_with_the_page(session: PlaywrightSession):
    session.page.set_content("<p>start</p>")
    fresh = session.memory_mb()
    assert 100 < fresh < 1500
    rss = sum(psutil.Process(p).memory_info().rss for p in session.pids) / 2**20
    assert rss > fresh * 1.3  # RSS counts the pages shared between chromium processes again and again
    session.page.evaluate(
        "() => { window.hog = []; for (let i = 0; i < 40; i++) hog.push(new Float64Array(1310720).fill(i)); }"
    )  # 40 × 10 MiB, touched
    assert session.memory_mb() > fresh + 250


def test_page_metrics_report_js_heap_and_nodes(session: PlaywrightSession):
    session.page.set_content("<p>start</p>")
    before = session.page_metrics()
    assert set(before) == {"JSHeapUsedSize", "JSHeapTotalSize", "Nodes"}
    assert 0 < before["JSHeapUsedSize"] <= before["JSHeapTotalSize"] < 100
    session.page.evaluate(
        "() => { for (let i = 0; i < 5000; i++) document.body.appendChild(document.createElement('div'));"
        " window.keep = []; for (let i = 0; i < 2000000; i++) window.keep.push({i}); }"
    )
    after = session.page_metrics()
    assert after["Nodes"] >= 5000 > before["Nodes"]
    assert after["JSHeapUsedSize"] > before["JSHeapUsedSize"] + 30


def test_kill_from_another_thread_unblocks_a_wait_as_browser_crashed(session: PlaywrightSession):
    session.page.set_content("<p>waiting</p>")
    pids = session.pids
    killer = threading.Timer(0.5, session.kill)
    killer.start()
    started = time.monotonic()
    with pytest.raises(Exception) as info:
        session.page.wait_for_selector("#never", timeout=120_000)
    killer.join()
    assert time.monotonic() - started < 60  # unblocked by the kill, not by the 120 s timeout
    assert isinstance(classify(info.value), BrowserCrashed)
    assert not session.is_alive()
    assert wait_until(lambda: not alive(pids), 10), alive(pids)


def test_renderer_crash_maps_to_browser_crashed(session: PlaywrightSession):
    with pytest.raises(Exception) as info:
        session.page.goto("chrome://crash")
    # The goto itself only reports net::ERR_ABORTED; the next call says the target crashed.
    assert "ERR_ABORTED" in str(info.value)
    with pytest.raises(Exception) as info:
        session.page.evaluate("1 + 1")
    assert "crashed" in str(info.value).lower()
    assert isinstance(classify(info.value), BrowserCrashed)
    # Playwright delivered the page's "crash" event during that call: the engine sees a dead session.
    assert session.page_crashed and not session.is_alive()


def test_killed_browser_process_maps_to_browser_crashed(session: PlaywrightSession):
    psutil.Process(session.pids[0]).kill()
    with pytest.raises(Exception) as info:
        session.page.goto("data:text/html,<p>after</p>")
    assert isinstance(classify(info.value), BrowserCrashed)


def test_timeout_maps_to_transient(session: PlaywrightSession):
    session.page.set_content("<p>nothing here</p>")
    with pytest.raises(Exception) as info:
        session.page.wait_for_selector("#never", timeout=300)
    assert isinstance(classify(info.value), Transient)
    assert session.is_alive()


def test_refused_connection_maps_to_transient(session: PlaywrightSession):
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(Exception) as info:
        session.page.goto(f"http://127.0.0.1:{port}/")
    assert "ERR_CONNECTION_REFUSED" in str(info.value)
    assert isinstance(classify(info.value), Transient)


def test_missing_chrome_binary_is_a_one_line_user_error(tmp_path):
    missing = tmp_path / "없는" / "chrome"
    before = set(os.listdir(tmp_path.parent.parent))
    with pytest.raises(UserError) as info:
        PlaywrightSession(chrome_binary=missing)
    message = str(info.value)
    assert str(missing) in message and "\n" not in message
    assert set(os.listdir(tmp_path.parent.parent)) == before
