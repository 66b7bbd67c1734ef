"""Worker processes as machines against the simulator: shared work, SIGKILL, SIGSTOP, a PostgreSQL restart.

Each worker has its own state dir (run folders, browser records): nothing but PostgreSQL is shared.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from cluster_support import Machines, all_finished, mid_product, query, submit

from stepbatch.simulator.testing import Sim, wait_until
from stepbatch.simulator.verify import verify

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL/SIGSTOP/SIGCONT are POSIX signals"),
]


def _verified(sim: Sim) -> str:
    line = verify(sim.db_path, sim.workbook, step="step3").line()
    assert "0 missing, 0 repeated, 0 unexpected;" in line, line
    return line


def _no_lease_held(dsn: str, machines: Machines) -> None:
    held = query(dsn, "SELECT account, holder, fence FROM sb_lease WHERE released_at IS NULL")
    logs = [line for w in machines.workers.values() for line in w.text().splitlines()]
    assert held == [], "\n".join([line for line in logs if "lease" in line.lower()][-30:])


def test_three_workers_share_four_accounts(machines: Machines, sim4: Sim, dsn: str, tmp_path: Path):
    for name in ("m1", "m2", "m3"):
        machines.start(name)
    proc = submit(sim4, dsn, "all", tmp_path)
    assert proc.returncode == 0, proc.stderr
    accounts = [a.nickname for a in sim4.book.accounts]
    rows = all_finished(dsn, accounts)
    _verified(sim4)
    assert {r.worker for r in rows} <= {"m1", "m2", "m3"}
    _no_lease_held(dsn, machines)
    assert query(
        dsn, "SELECT DISTINCT status::text FROM procrastinate_jobs WHERE task_name = 'stepbatch.run_request'"
    ) == [("succeeded",)]


def test_a_killed_worker_is_taken_over(machines: Machines, sim1: Sim, dsn: str, tmp_path: Path):
    """A dead holder (lease silent past lease_s, its session's advisory lock free) is re-queued without
    waiting for stale_s: with stale_s = 600 only that path can take over within the 120 s wait."""
    account = sim1.book.accounts[0].nickname
    machines.start("m1", stale_s=600)
    machines.start("m2", stale_s=600)
    assert submit(sim1, dsn, account, tmp_path).returncode == 0
    victim = machines.running_on(account)
    wait_until(lambda: mid_product(dsn, account), 120, what="a product in flight")
    victim.chromium()
    victim.proc.kill()
    victim.proc.wait(timeout=10)
    machines.running_on_other(account, victim.name)
    [row] = all_finished(dsn, [account])
    assert row.worker != victim.name
    _verified(sim1)
    _no_lease_held(dsn, machines)


def test_a_paused_worker_loses_its_lease(machines: Machines, sim1: Sim, dsn: str, tmp_path: Path):
    account = sim1.book.accounts[0].nickname
    machines.start("m1")
    machines.start("m2")
    assert submit(sim1, dsn, account, tmp_path).returncode == 0
    paused = machines.running_on(account)
    wait_until(lambda: mid_product(dsn, account), 120, what="a product in flight")
    assert paused.chromium(), "the worker runs a browser"
    os.kill(paused.proc.pid, signal.SIGSTOP)
    try:
        other = machines.running_on_other(account, paused.name)
    finally:
        os.kill(paused.proc.pid, signal.SIGCONT)
    wait_until(lambda: "LeaseLost" in paused.text(), 60, what="LeaseLost in the paused worker's log")
    wait_until(lambda: not paused.chromium(), 30, what="the paused worker's browser gone")
    [row] = all_finished(dsn, [account])
    assert row.worker == other.name
    assert paused.proc.poll() is None, "the paused worker keeps serving"
    _verified(sim1)
    _no_lease_held(dsn, machines)


def test_a_postgresql_restart_mid_run(machines: Machines, sim4: Sim, dsn: str, tmp_path: Path, pg):
    machines.start("m1", lease_s=10, stale_s=20)
    machines.start("m2", lease_s=10, stale_s=20)
    assert submit(sim4, dsn, "all", tmp_path).returncode == 0
    accounts = [a.nickname for a in sim4.book.accounts]
    wait_until(lambda: any(mid_product(dsn, a) for a in accounts), 120, what="products in flight")
    pg.restart()
    all_finished(dsn, accounts)
    _verified(sim4)
    _no_lease_held(dsn, machines)
    for worker in machines.workers.values():
        assert worker.proc.poll() is None, worker.text()[-2000:]


def test_sigterm_leaves_the_job_resumable(machines: Machines, sim1: Sim, dsn: str, tmp_path: Path):
    account = sim1.book.accounts[0].nickname
    first = machines.start("m1")
    assert submit(sim1, dsn, account, tmp_path).returncode == 0
    wait_until(lambda: mid_product(dsn, account), 120, what="a product in flight")
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(timeout=120) == 0, first.text()[-2000:]
    assert "back to the queue" in first.text()
    assert query(dsn, "SELECT status::text FROM procrastinate_jobs WHERE lock = %s", f"{account}/step3") == [
        ("todo",)
    ]
    _no_lease_held(dsn, machines)
    machines.start("m2")
    [row] = all_finished(dsn, [account])
    assert row.worker == "m2"
    _verified(sim1)
