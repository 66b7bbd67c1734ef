"""`stepbatch run step3 --skip-invalid` in real Chromium on the simulator: a workbook whose account has one
row with an unknown word. Without the flag the run refuses (one line naming the row and the flag) and
changes nothing; with it the clean codes are done and verified, the bad row is listed at the start, in
summary.json and in the report, and a stopped run resumes with the same flag."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from e2e_support import Sim, run_command, serve, stepbatch_cli
from openpyxl import Workbook
from test_e2e_runs import assert_verified

from stepbatch.app.preflight import translation_gate
from stepbatch.simulator.faults import Faults
from stepbatch.workbook import load_workbook
from stepbatch.workbook.columns import TASK_HEADERS

pytestmark = pytest.mark.browser

EMAIL = "skipper@example.com"
BAD_LINE = "sheet ABC row 3 (B20), column L (image_tag_insert): unknown command 'yess'"


def task(code: str, **commands: str) -> list[object]:
    values = {
        "provider_id": "shop1",
        "provider_code": code,
        "final_group": "서버2-1",
        "target_group": "대기2",
        "step2 or step3": "step3",
        **commands,
    }
    return [values.get(h) for h in TASK_HEADERS]


def write_workbook(path: Path) -> Path:
    book = Workbook()
    login = book.active
    login.title = "login_id"
    login.append(["id", "password", "operator", "sheet_nickname"])
    login.append([EMAIL, "pw-skip-1", "김하늘", "ABC"])
    sheet = book.create_sheet("ABC")
    sheet.append(list(TASK_HEADERS))
    sheet.append(task("A10", image_delete="first:1"))  # row 2
    sheet.append(task("B20", image_tag_insert="yess"))  # row 3: the old tool read this as YES
    sheet.append(task("C30", image_tag_insert="YES"))  # row 4
    book.save(path)
    return path


def audit_rows(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]


def test_skip_invalid_runs_the_clean_rows_and_lists_the_bad_one(tmp_path: Path):
    workbook = write_workbook(tmp_path / "tasks.xlsx")
    state = tmp_path / "state"
    counts = {"A10": 2, "B20": 2, "C30": 2}
    with serve(tmp_path / "sim.db", workbook, Faults(translate_ms=30), counts) as url:
        args = run_command("step3", workbook, url, state, "--account", EMAIL, gate=True)[3:]  # after -m …

        refused = stepbatch_cli(*args, cwd=tmp_path)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert "ABC!L3 (image_tag_insert): 'yess': unknown command 'yess'" in lines[0]
        assert lines[0].endswith("fix the row(s) or pass --skip-invalid to run the other rows")
        assert not (state / "progress").exists() and not (state / "runs").exists()
        assert audit_rows(tmp_path / "sim.db") == 0

        first = stepbatch_cli(*args, "--skip-invalid", "--max-products", "1", cwd=tmp_path)
        assert first.returncode == 0, first.stdout + first.stderr
        out = first.stdout.splitlines()
        assert out[0] == "skipping 1 row(s) with errors (--skip-invalid); they are not run:"
        assert out[1].startswith("  " + BAD_LINE)
        assert "  skipped rows: 1 with errors, not run (listed at the start and in the report)" in out
        assert "  resume with: stepbatch run step3 --account ABC --skip-invalid …" in out
        gate = translation_gate("step3", False)  # the OCR gate's one line, when stepbatch.vision is there
        assert gate is None or out[2] == gate["description"]

        resumed = stepbatch_cli(*args, "--skip-invalid", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert BAD_LINE in resumed.stdout and ": complete" in resumed.stdout

    assert_verified(Sim(url, tmp_path / "sim.db", workbook, load_workbook(workbook)), step="step3")
    runs = sorted(state.glob("runs/*/summary.json"))
    assert len(runs) == 2
    last = json.loads(runs[-1].read_text(encoding="utf-8"))
    assert last["outcome"] == "complete" and last["units_total"] == 2
    assert [(r["sheet"], r["row"], r["column"], r["provider_code"]) for r in last["skipped_rows"]] == [
        ("ABC", 3, "L", "B20")
    ]
    report = (runs[-1].parent / "report.html").read_text(encoding="utf-8")
    assert '<table id="skipped-rows">' in report and "unknown command &#39;yess&#39;" in report
    assert "## Skipped rows (1)" in (runs[-1].parent / "summary.md").read_text(encoding="utf-8")
