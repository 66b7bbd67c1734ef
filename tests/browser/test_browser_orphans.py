"""Orphan records: what survives a SIGKILLed runner, and kill_recorded_orphans cleaning it up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest
from browser_helpers import alive, wait_until

from stepbatch.browser.orphans import (
    BrowserRecord,
    kill_recorded_orphans,
    read_record,
    record_path,
    write_record,
)
from stepbatch.browser.processes import ProcRecord
from stepbatch.errors import UserError

RUNNER = textwrap.dedent(
    """
    import json, sys, threading
    from pathlib import Path
    from stepbatch.browser.playwright_session import PlaywrightSession
    s = PlaywrightSession(offline=True, state_dir=Path(sys.argv[1]), account=sys.argv[2])
    s.page.set_content("<p>orphan to be</p>")
    print(json.dumps({"pids": s.pids, "profile": str(s.profile)}), flush=True)
    threading.Event().wait()
    """
)


def start_runner(state_dir: Path, account: str) -> tuple[subprocess.Popen, dict]:
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(state_dir), account],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    line = proc.stdout.readline()  # blocks until the session is up (or the runner died)
    assert line, f"runner exited with {proc.wait()}"
    return proc, json.loads(line)


def singleton_dir(profile: str) -> Path:
    """Chromium's single-instance folder (Linux): a killed browser cannot delete it itself."""
    return Path(os.readlink(Path(profile) / "SingletonSocket")).parent


def driver_pids(runner_pid: int) -> list[int]:
    """Playwright's Node driver: the runner's child that is not chromium."""
    return [p.pid for p in psutil.Process(runner_pid).children() if "chrom" not in p.name().lower()]


@pytest.mark.browser
def test_sigkilled_runner_python_only(state_dir: Path):
    """Observed: Playwright's driver notices its parent's pipe close and takes Chromium down."""
    proc, info = start_runner(state_dir, "고객@example.com")
    record = read_record(record_path(state_dir, "고객@example.com"))
    assert record is not None and {p.pid for p in record.procs} >= set(info["pids"])
    singleton = singleton_dir(info["profile"])
    assert singleton.is_relative_to(info["profile"])  # so removing the profile removes it
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    chromium_died = wait_until(lambda: not alive(info["pids"]), 20)
    kill_recorded_orphans(state_dir, "고객@example.com")
    assert chromium_died, "Chromium outlived the SIGKILLed runner"
    assert not alive(info["pids"])
    assert not Path(info["profile"]).exists()  # the driver cannot know it: the cleanup removes it
    assert not singleton.exists()
    assert not record_path(state_dir, "고객@example.com").exists()


@pytest.mark.browser
def test_sigkilled_runner_and_driver_leave_chromium_that_the_next_run_kills(state_dir: Path):
    proc, info = start_runner(state_dir, "acct1")
    drivers = driver_pids(proc.pid)
    assert drivers
    singleton = singleton_dir(info["profile"])
    for pid in [proc.pid, *drivers]:  # like an OOM kill or "end process tree" that missed chromium
        os.kill(pid, signal.SIGKILL)
    proc.wait()
    assert wait_until(lambda: not alive(drivers), 10)
    root = info["pids"][0]
    assert alive([root]), "expected Chromium to survive its driver"
    killed = kill_recorded_orphans(state_dir, "acct1")
    assert root in killed  # (some children may end on their own meanwhile)
    assert wait_until(lambda: not alive(info["pids"]), 10), alive(info["pids"])
    assert not Path(info["profile"]).exists()
    assert not singleton.exists()
    assert kill_recorded_orphans(state_dir, "acct1") == []  # the record is gone too


def _dead_owner() -> tuple[int, float]:
    """Pid + create time of a process that has exited (the SIGKILLed runner of a record)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    owner = psutil.Process(p.pid)
    created = owner.create_time()
    p.wait()
    return p.pid, created


def test_a_reused_pid_is_never_killed(state_dir: Path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        created = psutil.Process(sleeper.pid).create_time()
        owner = _dead_owner()
        stale = ProcRecord(sleeper.pid, created - 100)  # same pid, another process's start time
        write_record(record_path(state_dir, "a"), BrowserRecord("s", "playwright", "", *owner, [stale]))
        assert kill_recorded_orphans(state_dir, "a") == []
        assert sleeper.poll() is None
        same = ProcRecord(sleeper.pid, created)
        write_record(record_path(state_dir, "a"), BrowserRecord("s", "playwright", "", *owner, [same]))
        assert kill_recorded_orphans(state_dir, "a") == [sleeper.pid]
        assert wait_until(lambda: not alive([sleeper.pid]), 10)  # psutil reaped it, so no returncode
    finally:
        if sleeper.poll() is None:
            sleeper.kill()
            sleeper.wait()


def test_a_record_whose_owner_still_runs_is_left_alone(state_dir: Path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        me = psutil.Process(sleeper.pid)
        rec = BrowserRecord(
            "s", "playwright", "", me.pid, me.create_time(), [ProcRecord(me.pid, me.create_time())]
        )
        write_record(record_path(state_dir, "busy"), rec)
        assert kill_recorded_orphans(state_dir, "busy") == []
        assert sleeper.poll() is None
        assert record_path(state_dir, "busy").exists()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_damaged_record_is_a_one_line_error_naming_the_file(state_dir: Path):
    path = record_path(state_dir, "x")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError) as info:
        kill_recorded_orphans(state_dir, "x")
    assert str(path) in str(info.value) and "\n" not in str(info.value)
    assert path.read_text(encoding="utf-8") == "{not json"  # never silently reset


def test_account_names_become_safe_file_names(state_dir: Path):
    assert record_path(state_dir, 'a/b:c*"d"').name == "a_b_c__d_.json"
    assert record_path(state_dir, "서버1@x.com").name == "서버1@x.com.json"


@pytest.mark.browser
def test_memory_sample_completes_the_record_with_a_new_renderer(state_dir: Path):
    """A renderer started after the browser (a new tab) joins the orphan record at the next memory
    sample, so a SIGKILLed runner's clean-up finds it too."""
    from stepbatch.browser.playwright_session import PlaywrightSession

    path = record_path(state_dir, "acct-new-tab")
    with PlaywrightSession(offline=True, state_dir=state_dir, account="acct-new-tab") as s:
        s.page.set_content("<p>first tab</p>")
        root = psutil.Process(s.pids[0])
        before = {p.pid for p in root.children(recursive=True)}
        tab = s.page.context.new_page()
        tab.set_content("<p>second tab</p>")
        assert wait_until(lambda: {p.pid for p in root.children(recursive=True)} - before, 20)

        def recorded_all() -> bool:
            s.memory_mb()  # the engine samples memory at every product boundary
            record = read_record(path)
            tree = {root.pid, *(p.pid for p in root.children(recursive=True))}
            return record is not None and {p.pid for p in record.procs} >= tree

        assert wait_until(recorded_all, 20), "the new renderer never reached the orphan record"
