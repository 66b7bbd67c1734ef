"""Crashes: the runner SIGKILLed mid-product, Chromium killed mid-run, a second run of a busy account."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import psutil
import pytest
from e2e_support import Sim, run_command, simulator

from stepbatch.browser.orphans import read_record, record_path
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import wait_until
from stepbatch.simulator.verify import verify

WAIT_S = 120.0  # a run in another process, on a shared machine

pytestmark = pytest.mark.browser

EDIT_OPS = ("detail_image_delete", "thumbnail_delete", "option_image_copy", "image_translate", "html_insert")


def start_runner(
    sim: Sim, state: Path, step: str = "step3", *extra: str, gate: bool = False
) -> subprocess.Popen[str]:
    account = sim.book.accounts[0].email
    where = (sim.workbook, sim.url, state)
    cmd = run_command(step, *where, "--account", account, "--batch-size", "2", *extra, gate=gate)
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, encoding="utf-8"
    )


def audit_ops(db_path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db_path)
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT product, op FROM audit ORDER BY rowid")]
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()


def verified_line(sim: Sim, step: str | None = None) -> str:
    result = verify(sim.db_path, sim.workbook, step=step)
    return result.line() if callable(getattr(result, "line", None)) else str(result.line)


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def test_sigkill_mid_product_then_resume_repeats_nothing(tmp_path: Path):
    with simulator(tmp_path, faults=Faults(latency_ms=60, translate_ms=200), codes=3, per_code=2) as sim:
        state = tmp_path / "state"
        proc = start_runner(sim, state, gate=True)  # the OCR gate's journal is killed mid-product too
        try:
            # Kill once a product has had some, but not all, of its edits (its group move not yet done).
            def mid_product():
                ops = audit_ops(sim.db_path)
                edited = [p for p, op in ops if op in EDIT_OPS]
                moved = {p for p, op in ops if op == "group_move"}
                return (
                    bool(edited)
                    and edited[-1] not in moved
                    and len([e for e in edited if e == edited[-1]]) >= 1
                )

            wait_until(mid_product, WAIT_S, what="a product in the middle of its edits")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        # The killed runner's Chromium is an orphan now; the next run ends it first.
        code, out = finish(start_runner(sim, state, gate=True))
        assert code == 0, out
        line = verified_line(sim, "step3")
        assert " 0 repeated" in line and " 0 missing" in line and " 0 unexpected" in line, line


def test_chromium_killed_mid_run_is_restarted(tmp_path: Path):
    with simulator(tmp_path, faults=Faults(latency_ms=30, translate_ms=50), codes=3, per_code=2) as sim:
        state = tmp_path / "state"
        proc = start_runner(sim, state)
        nickname = sim.book.accounts[0].nickname
        try:
            moved = lambda: any(op == "group_move" for _, op in audit_ops(sim.db_path))  # noqa: E731
            wait_until(moved, WAIT_S, what="a first move")
            record = wait_until(
                lambda: read_record(record_path(state, nickname)), WAIT_S, what="the browser record"
            )
            root = record.procs[0].pid
            psutil.Process(root).kill()
            code, out = finish(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert code == 0, out
        summary = json.loads(sorted(state.glob("runs/*/summary.json"))[-1].read_text(encoding="utf-8"))
        assert summary["restarts"].get("crash", 0) >= 1, summary
        assert " 0 missing, 0 repeated, 0 unexpected" in verified_line(sim, "step3")


def test_second_run_of_a_busy_account_exits_3(tmp_path: Path):
    with simulator(tmp_path, faults=Faults(latency_ms=80, translate_ms=50), codes=3) as sim:
        state = tmp_path / "state"
        first = start_runner(sim, state)
        try:
            wait_until(lambda: list(state.glob("locks/*.json")), WAIT_S, what="the first run's lock")
            second = start_runner(sim, state)
            code, out = finish(second, timeout=120)
            assert code == 3, out
            assert "busy" in out.lower() or "already" in out.lower() or "running" in out.lower(), out
        finally:
            if first.poll() is None:
                first.send_signal(signal.SIGTERM)
            try:
                first.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                first.kill()
                first.communicate()
