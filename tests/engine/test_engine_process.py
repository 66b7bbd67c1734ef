"""Real processes: SIGINT to a running runner, and the account lock across processes (also after SIGKILL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from engine_fakes import FakeFactory, Site, SiteProcessor, check_exactly_once, make_account, make_units

from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import run_account
from stepbatch.simulator.testing import wait_until
from stepbatch.state.lock import AccountBusy, AccountLock, is_locked, read_holder
from stepbatch.state.progress import ProgressStore

WORKER = Path(__file__).with_name("engine_worker.py")
PY = sys.executable
ENV = {**os.environ, "PYTHONUTF8": "1"}


def worker(state_dir: Path, site_db: Path, units: int, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [PY, str(WORKER), str(state_dir), str(site_db), str(units), "2", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=ENV,
    )


def events_of(state_dir: Path) -> list[list[dict]]:
    runs = sorted((state_dir / "runs").iterdir())
    return [
        [json.loads(line) for line in (r / "events.jsonl").read_text(encoding="utf-8").splitlines()]
        for r in runs
    ]


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_sigint_stops_safely_and_prints_how_to_resume(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    site = Site(tmp_path / "site.db")
    site.populate({f"X{i:02d}": 4 for i in range(6)})
    proc = worker(state_dir, site.path, 6, "--slow")
    try:
        wait_until(
            lambda: site.audit_count() >= 5 or proc.poll() is not None,
            interval=0.005,
            what="the run to start editing",
        )
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "resume with: stepbatch run step3 --account ABC --server 서버2-1" in out
    events = events_of(state_dir)[0]
    names = [e["event"] for e in events]
    assert names[-3:] == ["browser_closed", "stop", "run_finished"]
    assert events[-2]["reason"] == "signal SIGINT" and events[-1]["outcome"] == "interrupted"
    store = ProgressStore.open(state_dir, "ABC", "step3", "서버2-1", readonly=True)
    statuses = [u["status"] for u in store.units.values()]
    assert "in_progress" not in statuses and "partial" in statuses and "pending" in statuses
    assert not [k for k in store.units if store.unfinished_items(k)]  # the item in hand was finished
    with AccountLock(state_dir, "ABC", "step3"):  # released
        pass
    resumed = worker(state_dir, site.path, 6)
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    assert json.loads(out.split("SUMMARY ", 1)[1])["outcome"] == "complete"
    assert check_exactly_once(site) == []


def test_signal_handlers_are_restored(tmp_path: Path) -> None:
    site = Site(tmp_path / "site.db")
    site.populate({"X00": 1})
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    run_account(
        state_dir=tmp_path / "state",
        account=make_account(),
        step="step3",
        server="서버2-1",
        units=make_units(1),
        processor=SiteProcessor(site),
        browser_factory=FakeFactory(),
        options=RunOptions(),
    )
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


HOLDER = """
import sys
from stepbatch.state.lock import AccountLock
lock = AccountLock(sys.argv[1], "ABC", "step3")
lock.acquire()
print("locked", flush=True)
sys.stdin.read()
"""


def test_second_process_is_refused_and_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    holder = subprocess.Popen(
        [PY, "-c", HOLDER, str(state_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(AccountBusy) as err:
            AccountLock(state_dir, "ABC", "step2").acquire()
        message = str(err.value)
        assert message.startswith(f"account ABC is already running step3 (pid {holder.pid} on ")
        assert " since " in message and err.value.exit_code == 3
        assert is_locked(state_dir, "ABC").pid == holder.pid
        site = Site(tmp_path / "site.db")
        site.populate({"X00": 1})
        run = worker(state_dir, site.path, 1)  # a whole runner in a second process
        _out, err_text = run.communicate(timeout=60)
        assert run.returncode == 3 and f"already running step3 (pid {holder.pid}" in err_text
        assert site.audit_count() == 0
        holder.kill()  # SIGKILL: no chance to clean up
        holder.wait(timeout=30)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    assert read_holder(state_dir, "ABC").pid == holder.pid  # the info file is stale…
    assert is_locked(state_dir, "ABC") is None  # …and recognised as such
    with AccountLock(state_dir, "ABC", "step3"):
        assert read_holder(state_dir, "ABC").pid == os.getpid()
    assert read_holder(state_dir, "ABC") is None
