"""`stepbatch status` and `stepbatch reset` through the real entry point (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stepbatch.engine.protocol import ItemStatus, UnitStatus
from stepbatch.state.lock import AccountLock
from stepbatch.state.progress import ProgressStore
from stepbatch.workbook.models import Unit

SERVER = "서버2-1"
ENV = {**os.environ, "PYTHONUTF8": "1"}


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "stepbatch", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        input=stdin,
        env=ENV,
        timeout=60,
    )


def make_store(state_dir: Path, account: str = "ABC") -> ProgressStore:
    store = ProgressStore.open(state_dir, account, "step3", SERVER)
    store.add_units([Unit(account, "step3", SERVER, f"A{i}", "대기2") for i in range(4)])
    store.item_started(f"A0@{SERVER}", "p1", [], None)
    store.item_status(f"A0@{SERVER}", "p1", ItemStatus.DONE)
    store.update_unit(f"A0@{SERVER}", status=UnitStatus.DONE)
    store.update_unit(f"A1@{SERVER}", status=UnitStatus.FAILED, attempts=3, last_error="Transient: 503")
    store.update_unit(f"A2@{SERVER}", status=UnitStatus.PARTIAL)
    store.close()
    return store


def test_status_json_and_table(state_dir: Path) -> None:
    make_store(state_dir)
    result = cli("status", "--state-dir", str(state_dir), "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["account"], row["step"], row["server"]) == ("ABC", "step3", SERVER)
    assert (row["units_total"], row["units_done"], row["units_failed"], row["units_partial"]) == (4, 1, 1, 1)
    assert (row["items_done"], row["last_completed_provider_code"], row["complete"]) == (1, "A0", False)
    assert row["running"] is None
    with AccountLock(state_dir, "ABC", "step3"):
        running = json.loads(cli("status", "--state-dir", str(state_dir), "--json").stdout)[0]["running"]
    assert running.startswith(f"step3 (pid {os.getpid()} on ")
    table = cli("status", "--state-dir", str(state_dir))
    assert "ABC" in table.stdout and "1/4" in table.stdout and SERVER in table.stdout


def test_status_reports_a_damaged_store_without_touching_it(state_dir: Path) -> None:
    store = make_store(state_dir)
    store.path.write_text("{oops", encoding="utf-8")
    result = cli("status", "--state-dir", str(state_dir), "--json")
    (row,) = json.loads(result.stdout)
    assert str(store.path) in row["problem"] and "not valid JSON" in row["problem"]
    assert store.path.read_text(encoding="utf-8") == "{oops"


def test_reset_refuses_without_a_terminal_and_without_yes(state_dir: Path) -> None:
    store = make_store(state_dir)
    before = store.path.read_bytes()
    args = ("reset", "--account", "ABC", "--step", "step3", "--server", SERVER, "--state-dir", str(state_dir))
    result = cli(*args, stdin="y\n")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: reset needs confirmation: pass --yes")
    assert len(result.stderr.strip().splitlines()) == 1 and store.path.read_bytes() == before


def test_reset_archives(state_dir: Path) -> None:
    store = make_store(state_dir)
    result = cli(
        "reset",
        "--account",
        "ABC",
        "--step",
        "step3",
        "--server",
        SERVER,
        "--yes",
        "--state-dir",
        str(state_dir),
    )
    assert result.returncode == 0, result.stderr
    assert not store.path.exists()
    (archived,) = (store.path.parent / "archive").glob("step3-서버2-1-*.json")
    assert json.loads(archived.read_text(encoding="utf-8"))["units"][f"A0@{SERVER}"]["status"] == "done"
    assert str(archived) in result.stdout


def test_reset_failed_only(state_dir: Path) -> None:
    make_store(state_dir)
    result = cli(
        "reset",
        "--account",
        "ABC",
        "--step",
        "step3",
        "--server",
        SERVER,
        "--failed-only",
        "--yes",
        "--state-dir",
        str(state_dir),
    )
    assert result.returncode == 0, result.stderr
    assert "1 failed unit(s)" in result.stdout
    unit = ProgressStore.open(state_dir, "ABC", "step3", SERVER, readonly=True).units[f"A1@{SERVER}"]
    assert (unit["status"], unit["attempts"]) == ("pending", 0)


def test_reset_while_running_or_missing(state_dir: Path) -> None:
    store = make_store(state_dir)
    with AccountLock(state_dir, "ABC", "step3"):
        busy = cli(
            "reset",
            "--account",
            "ABC",
            "--step",
            "step3",
            "--server",
            SERVER,
            "--yes",
            "--state-dir",
            str(state_dir),
        )
    assert busy.returncode == 3 and "account ABC is already running step3" in busy.stderr
    assert store.path.exists()
    missing = cli("reset", "--account", "XYZ", "--step", "step3", "--yes", "--state-dir", str(state_dir))
    assert missing.returncode == 2 and "no progress for account XYZ step3" in missing.stderr
    assert "Traceback" not in missing.stderr
