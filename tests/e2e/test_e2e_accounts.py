"""`--accounts all --parallel 2`: one process per account, each with its own browser and lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_support import run_command

from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.verify import verify
from stepbatch.workbook import load_workbook, write_sample_workbook


@pytest.mark.browser
def test_all_accounts_in_parallel_processes(tmp_path: Path):
    workbook = write_sample_workbook(tmp_path / "wb.xlsx", accounts=2, codes=3, seed=2)
    book = load_workbook(workbook)
    codes = {u.provider_code for a in book.accounts for s in ("step2", "step3") for u in book.units(a, s)}
    with SimulatorServer(
        tmp_path / "sim.db", workbook, faults=Faults(translate_ms=30), counts=dict.fromkeys(codes, 1)
    ) as sim:
        every_account = ("--accounts", "all", "--parallel", "2")
        proc = subprocess.run(
            run_command("step3", workbook, sim.url, tmp_path / "state", *every_account),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=600,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        for account in book.accounts:
            row = next(
                line for line in proc.stdout.splitlines() if account.nickname in line and "complete" in line
            )
            assert " 0 " in row  # no failed codes
        assert "0 missing, 0 repeated, 0 unexpected;" in verify(sim.db_path, workbook, step="step3").line()
    # each account kept its own progress store
    assert {p.parent.name for p in (tmp_path / "state" / "progress").glob("*/*")} == {
        a.nickname for a in book.accounts
    }
