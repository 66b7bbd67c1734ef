"""`stepbatch cancel` / `requeue`, the workers' heartbeat rows and the live progress column, against
real worker processes, a throwaway PostgreSQL and the simulator."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import LEASE_S, Machines, all_finished, cli, done_items, query, submit

from stepbatch.cluster.status import collect
from stepbatch.cluster.workers import collect_workers
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, make_workbook, running_simulator, wait_until
from stepbatch.simulator.verify import verify

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sys.platform == "win32", reason="the worker fixtures send POSIX signals"),
]


@pytest.fixture
def sim_long(tmp_path: Path) -> Iterator[Sim]:
    """1 account × 2 codes, 5 products a code: long enough to cancel mid-way."""
    workbook = make_workbook(tmp_path, accounts=1, codes=2, seed=4, step2_share=0.0)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=5) as sim:
        yield sim


def _row(dsn: str, account: str):
    return next(r for r in collect(dsn, lease_s=LEASE_S) if r.account == account)


def _account_jobs(dsn: str) -> list[tuple]:
    return query(
        dsn,
        "SELECT status::text FROM procrastinate_jobs WHERE task_name = 'stepbatch.run_request' ORDER BY id",
    )


def _verified(sim: Sim) -> None:
    line = verify(sim.db_path, sim.workbook, step="step3").line()
    assert "0 missing, 0 repeated, 0 unexpected;" in line, line


def test_cancel_a_queued_job_and_user_mistakes(dsn: str, sim_long: Sim, tmp_path: Path):
    account = sim_long.book.accounts[0].nickname
    assert submit(sim_long, dsn, account, tmp_path).returncode == 0
    before = query(dsn, "SELECT id, status, job_id FROM sb_run_request")
    for args in (("--account", "NOPE", "--step", "step3"), ("--account", account, "--step", "step2")):
        bad = cli("cancel", "--db", dsn, *args, cwd=tmp_path)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
        assert args[1] in bad.stderr and args[3] in bad.stderr
    early = cli("requeue", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert early.returncode == 2 and "queued" in early.stderr, early.stderr
    assert query(dsn, "SELECT id, status, job_id FROM sb_run_request") == before
    ok = cli("cancel", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert ok.returncode == 0 and len(ok.stdout.strip().splitlines()) == 1, ok.stderr
    row = _row(dsn, account)
    assert row.state == "stopped" and row.last_error == "cancelled by operator"
    assert query(dsn, "SELECT status::text FROM procrastinate_jobs") == [("cancelled",)]
    again = cli("cancel", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert again.returncode == 2 and "stopped" in again.stderr
    back = cli("requeue", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert back.returncode == 0 and "re-queued" in back.stdout, back.stderr
    assert _row(dsn, account).state == "queued"
    jobs = query(dsn, "SELECT status::text FROM procrastinate_jobs ORDER BY id")
    assert jobs == [("cancelled",), ("todo",)]
    twice = cli("requeue", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert twice.returncode == 2 and len(query(dsn, "SELECT id FROM procrastinate_jobs")) == 2


def test_cancel_a_running_job_then_requeue(machines: Machines, sim_long: Sim, dsn: str, tmp_path: Path):
    account = sim_long.book.accounts[0].nickname
    machines.start("m1")
    assert submit(sim_long, dsn, account, tmp_path).returncode == 0

    def live_going():
        row = _row(dsn, account)
        return row if row.live and (row.live.get("products_done") or 0) >= 1 else None

    live = wait_until(live_going, 120, interval=0.3, what="live progress with a product done")
    assert live.state == "running" and live.current_code
    workers = wait_until(
        lambda: [w for w in collect_workers(dsn) if w.name == "m1" and w.browsers_open > 0],
        30,
        interval=0.3,
        what="m1's heartbeat row with its browser",
    )
    assert workers[0].alive and workers[0].jobs_running == 1 and (workers[0].memory_mb or 0) > 0
    out = cli("cancel", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert out.returncode == 0 and "next product" in out.stdout, out.stderr
    stopped = wait_until(
        lambda: (r := _row(dsn, account)).state == "stopped" and r, 60, interval=0.3, what="stopped"
    )
    assert stopped.last_error == "cancelled by operator"
    assert _account_jobs(dsn) == [("succeeded",)]  # finished, not back in the queue
    done_at_stop = done_items(dsn, account)
    assert 1 <= done_at_stop < 10, done_at_stop
    assert query(dsn, "SELECT account FROM sb_lease WHERE released_at IS NULL") == []
    back = cli("requeue", "--db", dsn, "--account", account, "--step", "step3", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    [row] = all_finished(dsn, [account])
    assert row.state == "done" and row.live and row.live.get("outcome") == "complete"
    assert done_items(dsn, account) == 10
    _verified(sim_long)  # nothing repeated after the re-queue
    machines.stop_all()
    assert [w.name for w in collect_workers(dsn)] == []  # a clean exit removes the row


def test_requeue_a_failed_job(
    machines: Machines, sim4: Sim, dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from stepbatch.cluster.submit import password_env_name

    first = sim4.book.accounts[0]
    m1 = machines.start("m1")  # no password in its environment: the job fails
    assert submit(sim4, dsn, first.nickname, tmp_path, "--password-env").returncode == 0
    failed = wait_until(
        lambda: (r := _row(dsn, first.nickname)).state == "failed" and r, 60, interval=0.3, what="failed"
    )
    assert "not set on this worker" in (failed.last_error or "")
    m1.proc.terminate()
    m1.proc.wait(timeout=60)
    monkeypatch.setenv(password_env_name(first.nickname), first.password.reveal())
    machines.start("m2")
    back = cli("requeue", "--db", dsn, "--account", first.nickname, "--step", "step3", cwd=tmp_path)
    assert back.returncode == 0 and "was failed" in back.stdout, back.stderr
    [row] = all_finished(dsn, [first.nickname])
    assert row.worker == "m2"
    assert sorted(_account_jobs(dsn)) == [("failed",), ("succeeded",)]


@pytest.mark.parametrize(
    ("outcome", "units_done", "items_done", "items_failed", "stop_reason", "expected"),
    [
        ("complete", 2, 4, 0, None, "done"),
        ("failed", 1, 3, 0, None, "partial"),
        ("complete", 2, 3, 1, None, "partial"),
        ("failed", 0, 0, 0, None, "failed"),
        ("stopped", 1, 2, 0, "StopAccount: login refused", "failed"),
    ],
)
def test_a_run_end_maps_to_a_request_status(
    outcome, units_done, items_done, items_failed, stop_reason, expected
):
    from stepbatch.cluster.control import finished_status
    from stepbatch.engine.summary import RunSummary

    summary = RunSummary(
        run_id="r", run_dir=Path("r"), account="A", step="step3", server=None, outcome=outcome,
        stop_reason=stop_reason, units_done=units_done, items_done=items_done, items_failed=items_failed,
    )  # fmt: skip
    assert finished_status(summary) == expected
