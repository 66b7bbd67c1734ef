"""`stepbatch run step2,step3`: each account's steps in order; a step not done stops that account's chain."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from e2e_support import run_command

from stepbatch.app.chain import parse_steps, step_cli, step_outcome
from stepbatch.errors import UserError
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, make_workbook, running_simulator
from stepbatch.simulator.verify import verify


@pytest.fixture
def sim2(tmp_path: Path):
    """2 accounts, each with a step2 code and two step3 codes, 1 product a code."""
    workbook = make_workbook(tmp_path, accounts=2, codes=3, seed=2, step2_share=0.4)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=1) as sim:
        yield sim


def _run(sim: Sim, state: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    cmd = run_command(
        "step2,step3", sim.workbook, sim.url, state, "--translate-all", "--batch-size", "2", *args
    )
    return subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", timeout=600, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _runs(state: Path) -> list[dict]:
    """Every run's summary.json under the state folder with its first and last event times, oldest first."""
    found = []
    for folder in (state / "runs").glob("*/"):
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        events = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
        summary["started_at"], summary["finished_at"] = (json.loads(events[i])["ts"] for i in (0, -1))
        found.append(summary)
    return sorted(found, key=lambda s: s["started_at"])


@pytest.mark.browser
def test_one_account_runs_step2_then_step3(sim2: Sim, tmp_path: Path):
    account = sim2.book.accounts[0]
    state = tmp_path / "state"
    proc = _run(sim2, state, "--account", account.nickname)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "chain stopped" not in proc.stdout
    runs = _runs(state)
    assert [(r["step"], r["outcome"]) for r in runs] == [("step2", "complete"), ("step3", "complete")]
    assert runs[0]["finished_at"] <= runs[1]["started_at"]  # step3 started once step2 had ended
    for step in ("step2", "step3"):
        line = verify(sim2.db_path, sim2.workbook, step=step, account=account.email).line()
        assert "0 missing, 0 repeated, 0 unexpected;" in line, (step, line)


@pytest.mark.browser
def test_a_failed_step2_stops_only_that_accounts_chain(sim2: Sim, tmp_path: Path):
    bad, good = sim2.book.accounts
    state = tmp_path / "state"
    wrong = {f"STEPBATCH_PASSWORD_{bad.nickname.upper()}": "not-the-password"}  # its login is refused
    proc = _run(sim2, state, "--accounts", "all", "--parallel", "2", env=wrong)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    stops = [line for line in proc.stdout.splitlines() if line.startswith("chain stopped:")]
    assert len(stops) == 1, proc.stdout
    assert stops[0].startswith(f"chain stopped: {bad.nickname} step2 ended failed (")
    assert "login refused" in stops[0] and stops[0].endswith("; not run: step3")
    ran = {(r["account"], r["step"]): r["outcome"] for r in _runs(state)}
    assert ran == {
        (bad.nickname, "step2"): "stopped",
        (good.nickname, "step2"): "complete",
        (good.nickname, "step3"): "complete",
    }
    line = verify(sim2.db_path, sim2.workbook, step="step3", account=good.email).line()
    assert "0 missing, 0 repeated, 0 unexpected;" in line, line
    table = proc.stdout[proc.stdout.index("accounts") :]
    assert "not run: step2 failed" in table


def test_steps_and_step_only_flags():
    assert parse_steps("step2,step3") == ["step2", "step3"]
    assert parse_steps("step3") == ["step3"]
    for bad in ("step2,,step3", "step2,step2"):
        with pytest.raises(UserError):
            parse_steps(bad)
    cli = {"translate_all": True, "batch_size": 3}
    assert step_cli(cli, "step2", ["step2", "step3"]) == {"translate_all": None, "batch_size": 3}
    assert step_cli(cli, "step3", ["step2", "step3"]) == cli
    assert step_cli(cli, "step2", ["step2"]) == cli  # not in the chain: refused later, as before
    assert step_outcome({"outcome": "complete", "exit_code": 0}) == "done"
    assert step_outcome({"outcome": "complete", "exit_code": 1, "items_done": 3}) == "partial"
    assert step_outcome({"outcome": "stopped", "exit_code": 1, "stop_reason": "StopAccount: x"}) == "failed"
    assert step_outcome({"outcome": "stopped", "exit_code": 0, "stop_reason": "max_products"}) == "stopped"
    assert step_outcome(None) == "refused"
