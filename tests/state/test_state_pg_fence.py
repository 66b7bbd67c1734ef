"""The fenced PostgreSQL lease: a worker that lost its account records nothing more.

Small `lease_s`/`stale_s` make leases go stale in seconds; the tests wait on the database's own view of
the lease (`renewed_at`), never on a fixed sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import psycopg.errors
import pytest
from state_store_child import hard_kill, read_line, spawn

from stepbatch.contracts.errors import LeaseLost
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.state.lock import AccountBusy
from stepbatch.state.pg.backend import PgBackend
from stepbatch.state.pg.lease import PgLease
from stepbatch.state.pg.store import PgProgressStore
from stepbatch.workbook.models import Unit

ACCOUNT, STEP, SERVER = "ABC", "step3", "서버2-1"
FAST = {"lease_s": 1.0, "stale_s": 2.0}


def key(code: str) -> str:
    return f"{code}@{SERVER}"


def units(*codes: str) -> list[Unit]:
    return [Unit(ACCOUNT, STEP, SERVER, code, "대기2") for code in codes]


def wait_until(condition: Callable[[], bool], timeout_s: float = 30, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def lease_row(dsn: str) -> dict[str, Any]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT holder, fence, released_at IS NOT NULL, extract(epoch FROM now() - renewed_at)::float8"
            " FROM sb_lease WHERE account = %s",
            [ACCOUNT],
        ).fetchone()
    assert row is not None
    return dict(zip(("holder", "fence", "released", "age"), row, strict=True))


def wait_stale(dsn: str, stale_s: float = FAST["stale_s"]) -> None:
    wait_until(lambda: lease_row(dsn)["age"] > stale_s + 0.2, what="the lease to go stale")


def progress_rows(dsn: str) -> list[tuple[Any, ...]]:
    """Every progress row of the database (what a write would change)."""
    queries = (
        "SELECT 'meta', meta::text, '' FROM sb_progress",
        "SELECT unit_key, record::text, '' FROM sb_unit ORDER BY unit_key",
        "SELECT unit_key, item_id, record::text FROM sb_item ORDER BY seq",
        "SELECT run_id, record::text, '' FROM sb_run ORDER BY seq",
        "SELECT cycle::text, state::text, '' FROM sb_progress_archive ORDER BY cycle",
    )
    with psycopg.connect(dsn) as conn:
        return [tuple(row) for query in queries for row in conn.execute(query)]  # type: ignore[arg-type]


def every_mutation(store: PgProgressStore) -> list[tuple[str, Callable[[], object]]]:
    k = key("A00")
    return [
        ("add_units", lambda: store.add_units(units("Z99"))),
        ("update_unit", lambda: store.update_unit(k, status=UnitStatus.DONE)),
        ("item_started", lambda: store.item_started(k, "p2", ["x"], None)),
        ("item_checkpoint", lambda: store.item_checkpoint(k, "p1", {"ops_done": 1})),
        ("item_status", lambda: store.item_status(k, "p1", ItemStatus.DONE)),
        ("item_failed", lambda: store.item_status(k, "p9", ItemStatus.FAILED, error="gone")),
        ("set_meta", lambda: store.set_meta(current_batch_start_time="2024-01-01T00:00:00+00:00")),
        ("update_run", lambda: store.update_run("r1", outcome="completed")),
        ("reset_failed", store.reset_failed),
        ("mark_complete", store.mark_complete),
        ("start_new_cycle", store.start_new_cycle),
    ]


def test_a_worker_whose_lease_was_taken_over_records_nothing(pg_dsn: str) -> None:
    worker_a = PgBackend(pg_dsn, holder="A", **FAST)
    lease_a = worker_a.lease(ACCOUNT, STEP)
    lease_a.acquire()
    store_a = worker_a.open_store(ACCOUNT, STEP, SERVER)
    store_a.add_units(units("A00", "A01"))
    store_a.update_unit(key("A01"), status=UnitStatus.FAILED, last_error="boom")
    store_a.item_started(key("A00"), "p1", ["image_delete first:1"], {"ops_done": 0})
    store_a.update_run("r1", cycle=1, outcome="running")
    wait_stale(pg_dsn)  # A paused: its lease is stale
    lease_b = PgBackend(pg_dsn, holder="B", **FAST).lease(ACCOUNT, STEP)
    lease_b.acquire()
    assert lease_b.fence == lease_a.fence + 1
    before = progress_rows(pg_dsn)
    for name, mutation in every_mutation(store_a):
        lease_a.lost, lease_a.lost_reason = False, None  # A has not noticed yet: the database must refuse
        with pytest.raises(LeaseLost, match="taken over by B"):
            mutation()
        assert progress_rows(pg_dsn) == before, f"{name} wrote after the take-over"
    assert store_a.item(key("A00"), "p1").status is ItemStatus.INTENT  # its reads show no refused write
    assert store_a.unit(key("A01")).status is UnitStatus.FAILED and not store_a.complete
    store_a.close(compact=False)
    lease_a.release()
    lease_b.release()
    worker_b = PgBackend(pg_dsn, holder="B2")
    with worker_b.lease(ACCOUNT, STEP):
        store = worker_b.open_store(ACCOUNT, STEP, SERVER)
        assert [r.item_id for r in store.unfinished_items(key("A00"))] == ["p1"]
        assert [r.outcome for r in store.run_records()] == ["running"]
        store.item_status(key("A00"), "p1", ItemStatus.DONE)  # the new holder writes
        store.close()


def test_the_open_store_of_another_holder_is_refused_before_writing(pg_dsn: str) -> None:
    worker_b = PgBackend(pg_dsn, holder="B")
    with worker_b.lease(ACCOUNT, STEP), pytest.raises(AccountBusy, match=ACCOUNT):
        PgBackend(pg_dsn, holder="A").open_store(ACCOUNT, STEP, SERVER)


def test_watch_calls_on_lost_when_the_renewal_is_refused(pg_dsn: str) -> None:
    lease = PgLease(pg_dsn, ACCOUNT, STEP, holder="A", lease_s=3, stale_s=6)  # renews every second
    lease.acquire()
    lost, reasons = threading.Event(), []
    lease.watch(lambda reason: (reasons.append(reason), lost.set()))
    with psycopg.connect(pg_dsn) as conn:  # another worker took the account over
        conn.execute("UPDATE sb_lease SET holder = 'B', fence = fence + 1, renewed_at = now()")
    assert lost.wait(timeout=15)
    assert lease.lost and "taken over by B" in reasons[0]
    with psycopg.connect(pg_dsn) as conn, pytest.raises(LeaseLost):
        lease.check(conn.cursor())
    lease.release()
    assert lease_row(pg_dsn)["holder"] == "B" and not lease_row(pg_dsn)["released"]


def test_watch_calls_on_lost_when_no_renewal_succeeds_within_lease_s(pg_dsn: str) -> None:
    lease = PgLease(pg_dsn, ACCOUNT, STEP, holder="A", renew_every_s=60, **FAST)  # as if paused
    lease.acquire()
    lost, reasons = threading.Event(), []
    lease.watch(lambda reason: (reasons.append(reason), lost.set()))
    assert lost.wait(timeout=15)
    assert "could not be renewed" in reasons[0]
    late = threading.Event()
    lease.watch(lambda reason: late.set())  # watching a lost lease reports it at once
    assert late.is_set()
    lease.release()


def test_a_sigkilled_holder_is_taken_over(pg_dsn: str) -> None:
    child = spawn("lease", {"backend": "postgres", "dsn": pg_dsn, "holder": "killed"})
    try:
        assert read_line(child) == "LEASED"
        held = lease_row(pg_dsn)
        with pytest.raises(AccountBusy, match="killed"):
            PgLease(pg_dsn, ACCOUNT, STEP, holder="B", **FAST).acquire()
    finally:
        hard_kill(child)
    # its connection (and with it its advisory lock) is gone: no need to wait for stale_s
    lease_b = PgLease(pg_dsn, ACCOUNT, STEP, holder="B", **FAST)
    lease_b.acquire()
    assert lease_b.fence == held["fence"] + 1 and lease_row(pg_dsn)["holder"] == "B"
    lease_b.release()


_PAUSED_CHILD = """
import json, sys
from stepbatch.state.pg.lease import PgLease
lease = PgLease(sys.argv[1], "ABC", "step3", holder="paused", lease_s=1.0, stale_s=2.0)
lease.acquire()
lease.watch(lambda reason: print("LOST", reason, flush=True))
print("LEASED", lease.fence, flush=True)
sys.stdin.readline()
"""


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="SIGSTOP/SIGCONT are POSIX")
def test_a_paused_holder_is_taken_over_once_stale_and_learns_it_lost(pg_dsn: str) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _PAUSED_CHILD, pg_dsn],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ},
    )
    try:
        fence = int(read_line(child).split()[1])
        os.kill(child.pid, signal.SIGSTOP)
        lease_b = PgLease(pg_dsn, ACCOUNT, STEP, holder="B", **FAST)
        with pytest.raises(AccountBusy):  # alive (its session holds the lock) and not yet stale
            lease_b.acquire()
        wait_stale(pg_dsn)
        lease_b.acquire()
        assert lease_b.fence == fence + 1
        os.kill(child.pid, signal.SIGCONT)
        line = read_line(child)
        assert line.startswith("LOST ")
        assert lease_row(pg_dsn)["holder"] == "B"
        lease_b.release()
    finally:
        hard_kill(child)


def test_release_after_a_take_over_leaves_the_new_holders_lease(pg_dsn: str) -> None:
    lease_a = PgLease(pg_dsn, ACCOUNT, STEP, holder="A", **FAST)
    lease_a.acquire()
    wait_stale(pg_dsn)
    lease_b = PgLease(pg_dsn, ACCOUNT, STEP, holder="B", **FAST)
    lease_b.acquire()
    lease_a.release()  # never raises, and frees nothing of B's
    row = lease_row(pg_dsn)
    assert (row["holder"], row["fence"], row["released"]) == ("B", lease_a.fence + 1, False)
    with pytest.raises(AccountBusy, match="holder B"):
        PgLease(pg_dsn, ACCOUNT, STEP, holder="C").acquire()
    lease_b.release()
    assert lease_row(pg_dsn)["released"]
    with PgLease(pg_dsn, ACCOUNT, STEP, holder="C") as lease_c:
        assert lease_c.fence == lease_b.fence + 1


def test_the_lease_is_per_account_whatever_the_step(pg_dsn: str) -> None:
    with PgLease(pg_dsn, ACCOUNT, "step3", holder="A"), pytest.raises(AccountBusy, match="step3"):
        PgLease(pg_dsn, ACCOUNT, "step2", holder="B").acquire()
    assert lease_row(pg_dsn)["released"]


def test_a_holder_paused_inside_a_write_does_not_block_the_take_over(pg_dsn: str, monkeypatch) -> None:
    """A holder stopped between its fence check and its commit holds the lease's row lock; the server ends
    that idle transaction (`IDLE_IN_TRANSACTION_S`), so the take-over goes through once the lease is stale."""
    from stepbatch.state.pg import connect as pg_connect

    monkeypatch.setattr(pg_connect, "IDLE_IN_TRANSACTION_S", 1.0)
    worker_a = PgBackend(pg_dsn, holder="A", **FAST)
    lease_a = worker_a.lease(ACCOUNT, STEP)
    lease_a.acquire()
    store_a = worker_a.open_store(ACCOUNT, STEP, SERVER)
    store_a.add_units(units("A00"))
    lease_a._stop.set()  # A is "paused": it renews nothing more
    for thread in lease_a._threads:
        thread.join(10)
    conn_a = store_a._session.connection()
    lease_a.check(conn_a.cursor())  # the fence check of a write: the lease row is locked, no commit follows
    wait_stale(pg_dsn)
    lease_b = PgLease(pg_dsn, ACCOUNT, STEP, holder="B", **FAST)
    taken = threading.Thread(target=lease_b.acquire, daemon=True)
    taken.start()
    taken.join(30)
    if taken.is_alive():
        conn_a.rollback()  # let B through, so the test ends
        taken.join(30)
        pytest.fail("the take-over waited on the paused holder's row lock")
    assert lease_b.fence == lease_a.fence + 1
    with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
        conn_a.commit()  # the server ended A's session: its write never lands
    lease_a.lost, lease_a.lost_reason = False, None  # A has not noticed: its next write is refused
    with pytest.raises(LeaseLost, match="taken over by B"):
        store_a.item_started(key("A00"), "p1", ["x"], None)
    lease_b.release()


def test_a_release_on_a_connection_the_server_ended_still_releases(pg_dsn: str) -> None:
    """The server restarted (its sessions ended) between the last renewal and the release: the release is
    written on a new connection, not left for the lease to go stale."""
    lease = PgLease(pg_dsn, ACCOUNT, STEP, holder="A", lease_s=30.0, stale_s=60.0)
    lease.acquire()
    lease._stop.set()  # no renewal may notice the ended session first
    for thread in lease._threads:
        thread.join(10)
    with psycopg.connect(pg_dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [lease._conn.info.backend_pid])
    lease.release()
    assert lease_row(pg_dsn)["released"]
