"""`stepbatch submit step2,step3`: one chain per account; step3 queued only once step2 is done, skipped
after a step2 that did not end done (a real worker process against the simulator)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import Machines, cli, query

from stepbatch.cluster.chains import sweep
from stepbatch.cluster.db import transact
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, make_workbook, running_simulator, wait_until


@pytest.fixture
def sim_chain(tmp_path: Path) -> Iterator[Sim]:
    """2 accounts, each with a step2 code and two step3 codes, 1 product a code."""
    workbook = make_workbook(tmp_path, accounts=2, codes=3, seed=2, step2_share=0.4)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=1) as sim:
        yield sim


def submit_chain(sim: Sim, dsn: str, cwd: Path, *extra: str):
    return cli(
        "submit", "step2,step3", "--workbook", str(sim.workbook), "--accounts", "all", "--base-url", sim.url,
        "--translate-all", "--batch-size", "2", "--db", dsn, *extra, cwd=cwd,
    )  # fmt: skip


def requests(dsn: str) -> dict[tuple[str, str], tuple]:
    rows = query(dsn, "SELECT account, step, status, job_id, last_error, updated_at FROM sb_run_request")
    return {(a, s): (status, job, error, at) for a, s, status, job, error, at in rows}


def test_a_chain_is_stored_with_only_its_first_job(dsn: str, sim_chain: Sim, tmp_path: Path):
    proc = submit_chain(sim_chain, dsn, tmp_path)
    assert proc.returncode == 0, proc.stderr
    first = sim_chain.book.accounts[0].nickname
    assert f"submitted {first} step2 → step3: 1 code, 2 codes" in proc.stdout
    rows = requests(dsn)
    for account in sim_chain.book.accounts:
        assert rows[(account.nickname, "step2")][:1] == ("queued",)
        assert rows[(account.nickname, "step3")][:2] == ("waiting", None)
    locks = {lock for (lock,) in query(dsn, "SELECT lock FROM procrastinate_jobs")}
    assert locks == {f"{a.nickname}/step2" for a in sim_chain.book.accounts}
    again = cli("submit", "step3", "--workbook", str(sim_chain.workbook), "--accounts", first,
                "--base-url", sim_chain.url, "--db", dsn, cwd=tmp_path)  # fmt: skip
    assert again.returncode == 3 and "already waiting in a chain" in again.stderr, again.stderr
    status = json.loads(cli("status", "--db", dsn, "--json", cwd=tmp_path).stdout)
    assert {(r["account"], r["step"]): r["state"] for r in status}[(first, "step3")] == "waiting"


def test_a_cancelled_first_step_skips_the_rest_at_the_next_sweep(dsn: str, sim_chain: Sim, tmp_path: Path):
    """Without a worker's end (an operator cancels a queued job): the minute's sweep skips the rest."""
    assert submit_chain(sim_chain, dsn, tmp_path).returncode == 0
    first = sim_chain.book.accounts[0].nickname
    [(job_id,)] = query(dsn, "SELECT job_id FROM sb_run_request WHERE account = %s AND step = 'step2'", first)
    query(dsn, "SELECT procrastinate_cancel_job_v1(%s, false, false)", job_id)
    stop = (
        "UPDATE sb_run_request SET status = 'stopped', last_error = 'cancelled by operator' WHERE job_id = %s"
    )
    transact(dsn, lambda cur: cur.execute(stop, (job_id,)))
    assert transact(dsn, sweep) == 1
    status, job, error, _ = requests(dsn)[(first, "step3")]
    assert (status, job) == ("skipped", None)
    assert error == "step2 ended stopped: cancelled by operator"
    assert transact(dsn, sweep) == 0  # the other account's chain still waits for its step2


@pytest.mark.browser
@pytest.mark.skipif(sys.platform == "win32", reason="worker processes are stopped with SIGTERM")
def test_step3_runs_after_step2_done_and_is_skipped_after_a_failure(
    machines: Machines, sim_chain: Sim, dsn: str, tmp_path: Path, monkeypatch
):
    good, bad = sim_chain.book.accounts
    monkeypatch.setenv(f"STEPBATCH_PASSWORD_{good.nickname.upper()}", good.password.reveal())
    monkeypatch.setenv(f"STEPBATCH_PASSWORD_{bad.nickname.upper()}", "not-the-password")
    proc = submit_chain(sim_chain, dsn, tmp_path, "--password-env")
    assert proc.returncode == 0, proc.stderr
    machines.start("m1")  # inherits the passwords above

    def ended() -> dict | None:
        rows = requests(dsn)
        states = {rows[(a.nickname, "step3")][0] for a in (good, bad)}
        return rows if states <= {"done", "failed", "skipped"} else None

    rows = wait_until(ended, 240, interval=0.5, what="both chains at their end")
    assert rows[(good.nickname, "step2")][0] == "done"
    assert rows[(good.nickname, "step3")][0] == "done"
    assert rows[(bad.nickname, "step2")][0] == "failed"
    status, job, error, _ = rows[(bad.nickname, "step3")]
    assert (status, job) == ("skipped", None)
    assert error.startswith("step2 ended failed: ") and "login refused" in error, error
    # step3's job was made when step2 ended, not at submit
    step3_job = rows[(good.nickname, "step3")][1]
    [(deferred_at,)] = query(
        dsn, "SELECT at FROM procrastinate_events WHERE job_id = %s AND type = 'deferred'", step3_job
    )
    assert deferred_at >= rows[(good.nickname, "step2")][3]
    shown = json.loads(cli("status", "--db", dsn, "--json", cwd=tmp_path).stdout)
    skipped = [r for r in shown if r["state"] == "skipped"]
    assert [(r["account"], r["step"]) for r in skipped] == [(bad.nickname, "step3")]
