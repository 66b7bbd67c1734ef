"""`stepbatch validate` and `stepbatch sample-workbook` run as the user runs them (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stepbatch.workbook import load_workbook


def stepbatch(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"COLUMNS": "250", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "stepbatch", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    clean, dirty = folder / "clean.xlsx", folder / "dirty.xlsx"
    made = stepbatch("sample-workbook", clean, "--accounts", 2, "--codes", 20)
    assert made.returncode == 0, made.stderr
    assert f"wrote sample workbook {clean}" in made.stdout
    assert stepbatch("sample-workbook", dirty, "--dirty").returncode == 0
    return {"clean": clean, "dirty": dirty}


def test_clean_workbook_exits_0_with_summary(books) -> None:
    result = stepbatch("validate", books["clean"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: no problems found." in result.stdout
    assert "products each code finds is only known when the site is searched" in result.stdout
    book = load_workbook(books["clean"])
    for account in book.accounts:
        assert account.nickname in result.stdout and account.email in result.stdout
        assert account.password.reveal() not in result.stdout
        for server in book.servers(account, "step3"):
            assert server in result.stdout


def test_dirty_workbook_exits_1_naming_every_problem(books) -> None:
    result = stepbatch("validate", books["dirty"])
    assert result.returncode == 1, result.stderr
    problems = load_workbook(books["dirty"]).problems
    assert len(problems) >= 10
    lines = result.stdout.splitlines()
    for p in problems:
        assert any(p.sheet in line and f" {p.row} " in line and (p.column or "") in line for line in lines), p
    assert "error(s)" in result.stdout


def test_json_output(books) -> None:
    result = stepbatch("validate", books["dirty"], "--json")
    assert result.returncode == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is False and doc["errors"] >= 5
    first = doc["problems"][0]
    assert set(first) >= {"sheet", "row", "column", "header", "value", "message", "severity"}
    copy2 = [p for p in doc["problems"] if p["value"] == "copy2"]
    assert copy2 and copy2[0]["column"] == "H" and "did you mean copy:2" in copy2[0]["message"]
    assert doc["accounts"][0]["products"] is None and "note" in doc
    clean = json.loads(stepbatch("validate", books["clean"], "--json", "--account", "account_1").stdout)
    assert clean["ok"] is True and [a["account"] for a in clean["accounts"]] == ["account_1"]
    steps = clean["accounts"][0]["steps"]
    assert steps["step3"]["units"] + steps["step2"]["units"] == 20
    for account in load_workbook(books["clean"]).accounts:
        assert account.password.reveal() not in result.stdout


def test_selection_filters(books) -> None:
    book = load_workbook(books["clean"])
    account = book.accounts[1]
    server = book.servers(account, "step3")[0]
    result = stepbatch(
        "validate",
        books["clean"],
        "--account",
        account.nickname,
        "--step",
        "step3",
        "--server",
        server,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)["accounts"]
    units = len(book.units(account, "step3", server))
    assert entry["steps"] == {
        "step3": {"units": units, "servers": {server: {"units": units, "rows_with_errors": 0}}}
    }


def test_dirty_selection_shows_only_its_problems(books) -> None:
    # account_2 has the value damage, account_1 the header and command damage
    result = stepbatch("validate", books["dirty"], "--account", "account_2", "--json")
    doc = json.loads(result.stdout)
    nick = load_workbook(books["dirty"]).account("account_2").nickname
    assert result.returncode == 1 and {p["sheet"] for p in doc["problems"]} == {nick}


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--account", "nobody@example.com"], "choose one of: seller01@example.com"),
        (["--step", "step9"], "--step: unknown step 'step9'"),
        (["--server", "서버9"], "--server: no step2/step3 rows for server '서버9'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(books, args, fragment) -> None:
    result = stepbatch("validate", books["clean"], *args)
    assert result.returncode == 2
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_unusable_files_exit_2(tmp_path) -> None:
    missing = stepbatch("validate", tmp_path / "missing.xlsx")
    assert missing.returncode == 2 and "missing.xlsx: workbook not found" in missing.stderr
    text = tmp_path / "notes.xlsx"
    text.write_text("hello", encoding="utf-8")
    bad = stepbatch("validate", text)
    assert bad.returncode == 2 and "not an Excel workbook" in bad.stderr and "Traceback" not in bad.stderr


def test_missing_task_sheet_is_an_error_when_selected(tmp_path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "login_id"
    book.active.append(["id", "password", "operator", "sheet_nickname"])
    book.active.append(["seller01@example.com", "pw", "김하늘", "ABC"])
    path = tmp_path / "nosheet.xlsx"
    book.save(path)
    whole = stepbatch("validate", path)
    assert whole.returncode == 1 and "no task sheet named 'ABC'" in whole.stdout
    selected = stepbatch("validate", path, "--account", "ABC")
    assert selected.returncode == 2 and "no task sheet 'ABC'" in selected.stderr


def test_sample_workbook_refuses_to_overwrite(books) -> None:
    before = books["clean"].read_bytes()
    result = stepbatch("sample-workbook", books["clean"])
    assert result.returncode == 2 and "already exists (use --force to overwrite)" in result.stderr
    assert books["clean"].read_bytes() == before
