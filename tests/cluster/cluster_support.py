"""Helpers of the cluster tests: worker processes as machines, submits, waiting on the database."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from stepbatch.cluster.status import AccountStatus, collect
from stepbatch.simulator.testing import Sim, wait_until
from stepbatch.simulator.testing import stepbatch_cli as cli

LEASE_S, STALE_S = 3.0, 6.0  # small, so take-overs happen within seconds


def submit(sim: Sim, dsn: str, accounts: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cli(
        "submit", "step3", "--workbook", str(sim.workbook), "--accounts", accounts, "--base-url", sim.url,
        "--translate-all", "--batch-size", "2", "--db", dsn, *extra, cwd=cwd,
    )  # fmt: skip


def query(dsn: str, sql: str, *args: object) -> list[tuple]:
    import psycopg

    with closing(psycopg.connect(dsn, autocommit=True)) as conn:
        return conn.execute(sql, args).fetchall()


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    browsers: set[int] = field(default_factory=set)  # chromium pids seen under it (killed at the end)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def chromium(self) -> set[int]:
        """Its live chromium/chrome descendants now (remembered for the clean-up)."""
        found = set()
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):
                    if "chrom" in child.name().lower() and child.status() != psutil.STATUS_ZOMBIE:
                        found.add(child.pid)
        self.browsers |= found
        return found


class Machines:
    """Worker processes, each with its own state dir (its own "machine"); all ended by their pids."""

    def __init__(self, root: Path, dsn: str) -> None:
        self.root = root
        self.dsn = dsn
        self.workers: dict[str, Worker] = {}

    def start(self, name: str, *, lease_s: float = LEASE_S, stale_s: float = STALE_S) -> Worker:
        folder = self.root / name
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / "worker.log"
        cmd = [
            sys.executable, "-m", "stepbatch", "worker", "--db", self.dsn, "--name", name,
            "--concurrency", "1", "--state-dir", str(folder / "state"),
            "--lease-s", str(lease_s), "--stale-s", str(stale_s),
        ]  # fmt: skip
        with open(log, "wb") as out:
            proc = subprocess.Popen(cmd, cwd=folder, stdout=out, stderr=subprocess.STDOUT)
        worker = Worker(name, proc, log)
        self.workers[name] = worker
        wait_until(lambda: f"worker {name}: ready" in worker.text() or proc.poll() is not None, 60, what=name)
        assert proc.poll() is None, worker.text()
        return worker

    def running_on(self, account: str) -> Worker:
        row = wait_until(lambda: _running(self.dsn, account), 120, what=f"{account} running")
        return self.workers[row.worker]

    def running_on_other(self, account: str, not_this: str) -> Worker:
        """The worker that took `account` over from `not_this` (waits for the take-over)."""

        def other() -> AccountStatus | None:
            row = _running(self.dsn, account)
            return row if row is not None and row.worker != not_this else None

        return self.workers[wait_until(other, 120, what=f"{account} taken over").worker]

    def stop_all(self) -> None:
        for worker in self.workers.values():
            worker.chromium()
            if worker.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.proc.pid, signal.SIGCONT)
                worker.proc.send_signal(signal.SIGTERM)
        for worker in self.workers.values():
            try:
                worker.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(timeout=10)
        for worker in self.workers.values():
            for pid in worker.browsers:
                with contextlib.suppress(psutil.NoSuchProcess):
                    psutil.Process(pid).kill()


def _running(dsn: str, account: str) -> AccountStatus | None:
    return next(
        (r for r in collect(dsn, lease_s=LEASE_S) if r.account == account and r.state == "running"), None
    )


def all_finished(dsn: str, accounts: list[str], timeout: float = 300) -> list[AccountStatus]:
    """Wait until every account's request is done (fails at once when one failed)."""

    def finished() -> list[AccountStatus] | None:
        rows = {r.account: r for r in collect(dsn, lease_s=LEASE_S)}
        failed = [r for r in rows.values() if r.state == "failed"]
        assert not failed, f"failed: {failed}"
        done = [rows[a] for a in accounts if a in rows and rows[a].state == "done"]
        return done if len(done) == len(accounts) else None

    return wait_until(finished, timeout, interval=0.5, what="every account done")


def open_items(dsn: str, account: str) -> int:
    """Products of `account` started and not finished (intent/edited) in the progress tables."""
    return query(
        dsn,
        "SELECT count(*) FROM sb_item WHERE account = %s AND record->>'status' IN ('intent', 'edited')",
        account,
    )[0][0]


def done_items(dsn: str, account: str) -> int:
    return query(
        dsn, "SELECT count(*) FROM sb_item WHERE account = %s AND record->>'status' = 'done'", account
    )[0][0]


def mid_product(dsn: str, account: str) -> bool:
    return done_items(dsn, account) >= 1 and open_items(dsn, account) >= 1
