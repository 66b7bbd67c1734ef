"""The bad-input corpus: one row per case — what to build, which command to run, what must come out.

Placeholders in `args`: {wb} the case's workbook, {state} its state folder, {url} a live HTTP server on
127.0.0.1, {dead} a 127.0.0.1 URL nobody listens on, {spy} a --chrome-binary that leaves a marker file
if anything ever starts it (commands must fail before any browser starts).

`stream` is where the expected text must appear: "stderr" (an error: exactly one line on stderr) or
"stdout" (`stepbatch validate` reporting problems in its table, exit 1, nothing on stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import bad_inputs_builders as b

RUN = [
    "run",
    "step3",
    "--workbook",
    "{wb}",
    "--account",
    "ABC",
    "--base-url",
    "{dead}",
    "--state-dir",
    "{state}",
    "--chrome-binary",
    "{spy}",
]
LIVE_RUN = [*RUN[:6], "--base-url", "{url}", *RUN[8:]]
VALIDATE = ["validate", "{wb}"]


def run_with(*extra: str, live: bool = False) -> list[str]:
    return [*(LIVE_RUN if live else RUN), *extra]


def replace_arg(args: list[str], flag: str, value: str) -> list[str]:
    out = list(args)
    out[out.index(flag) + 1] = value
    return out


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], None] | None
    args: list[str]
    code: int
    text: str
    stream: str = "stderr"
    workbook: str = b.WORKBOOK
    env: dict[str, str] = field(default_factory=dict)
    read_only: str | None = None  # this subfolder read-only (as root: the command runs without
    # CAP_DAC_OVERRIDE, so permissions bind it too)
    fsize_limit: int | None = None  # RLIMIT_FSIZE bytes: writes past it fail (a full disk for one process)
    max_rss_mb: float | None = None  # assert the command's peak RSS stays below this


CASES: list[Case] = [
    # --- workbook files ---------------------------------------------------------------------------------
    Case("wb-not-a-zip", b.text_file, RUN, 2, "not an Excel workbook (.xlsx/.xlsm)"),
    Case("wb-empty-file", b.empty_file, RUN, 2, "tasks.xlsx: the file is empty"),
    Case("wb-truncated-zip", b.truncated_zip, RUN, 2, "tasks.xlsx: not a readable Excel workbook"),
    Case("wb-encrypted", b.encrypted_xlsx, RUN, 2, "tasks.xlsx: the workbook is password-protected"),
    Case("wb-encrypted-validate", b.encrypted_xlsx, VALIDATE, 2, "password-protected"),
    Case(
        "wb-real-xls", b.real_xls, RUN, 2, "tasks.xls: old Excel 97-2003 (.xls) format", workbook="tasks.xls"
    ),
    Case(
        "wb-xlsx-named-xls",
        b.xlsx_named_xls,
        RUN,
        2,
        "tasks.xls: .xls files are not supported",
        workbook="tasks.xls",
    ),
    Case("wb-missing-file", None, RUN, 2, "--workbook", workbook="nowhere.xlsx"),
    Case(
        "wb-missing-file-validate",
        None,
        VALIDATE,
        2,
        "nowhere.xlsx: workbook not found",
        workbook="nowhere.xlsx",
    ),
    Case("wb-no-login-sheet", b.no_login_sheet, RUN, 2, "no 'login_id' sheet (sheets: ABC)"),
    Case("wb-no-task-sheet", b.no_task_sheet, RUN, 2, "no task sheet named 'ABC'"),
    Case("wb-no-password", b.no_password, RUN, 2, "login_id!B2 (password): no password"),
    Case("wb-missing-header", b.missing_header, RUN, 2, "ABC!1: no 'provider_code' column in the header row"),
    Case(
        "wb-duplicated-header",
        b.duplicated_header,
        RUN,
        2,
        "ABC!T1 (provider_code): header provider_code appears in columns B and T",
    ),
    Case(
        "wb-shifted-columns",
        b.shifted_columns,
        RUN,
        2,
        "ABC!H1: column has data but no header; it sits among the known columns",
    ),
    Case(
        "wb-shifted-named-column",
        b.shifted_named_column,
        [*VALIDATE, "--account", "ABC"],
        1,
        "image_delete is in column I, expected H",
        stream="stdout",
    ),
    Case(
        "wb-blank-code",
        b.with_rows(b.set_cell(2, "provider_code", None)),
        RUN,
        2,
        "ABC!B3 (provider_code): provider_code is blank",
    ),
    Case(
        "wb-space-only-code",
        b.with_rows(b.set_cell(2, "provider_code", "   ")),
        RUN,
        2,
        "ABC!B3 (provider_code): provider_code is blank",
    ),
    Case(
        "wb-numeric-code",
        b.with_rows(b.set_cell(3, "provider_code", 1234)),
        RUN,
        2,
        "ABC!B4 (provider_code): '1234': provider_code is a number",
    ),
    Case(
        "wb-code-with-space",
        b.with_rows(b.set_cell(1, "provider_code", "X 12")),
        RUN,
        2,
        "ABC!B2 (provider_code): 'X 12': provider_code contains spaces",
    ),
    Case(
        "wb-fullwidth-code",
        b.with_rows(b.set_cell(1, "provider_code", "Ｘ１２")),
        VALIDATE,
        1,
        "read as 'X12'",
        stream="stdout",
    ),
    Case(
        "wb-trailing-space-server",
        b.with_rows(b.set_cell(1, "final_group", "서버1-1 ")),
        VALIDATE,
        1,
        "read as '서버1-1'",
        stream="stdout",
    ),
    Case(
        "wb-unknown-command",
        b.with_rows(b.set_cell(2, "image_delete", "delete:3")),
        RUN,
        2,
        "ABC!H3 (image_delete)",
    ),
    Case(
        "wb-bad-command-number",
        b.with_rows(b.set_cell(1, "thumbnail_delete", "first:x")),
        RUN,
        2,
        "ABC!I2 (thumbnail_delete)",
    ),
    Case(
        "wb-unknown-step",
        b.with_rows(b.set_cell(3, "step2 or step3", "step4")),
        VALIDATE,
        1,
        "unknown step; expected step2 or step3",
        stream="stdout",
    ),
    Case(
        "wb-blank-target",
        b.with_rows(b.set_cell(2, "target_group", None)),
        RUN,
        2,
        "ABC!E3 (target_group): target_group is blank",
    ),
    Case(
        "wb-conflicting-duplicate",
        b.with_rows(lambda rows: rows.append(b.task_row("X12", image_delete="last:2"))),
        RUN,
        2,
        "step3 code X12 in 서버1-1 also on row 2 with different commands (rows 2 and 7)",
    ),
    Case(
        "wb-unknown-account",
        b.good_workbook,
        replace_arg(RUN, "--account", "XYZ"),
        2,
        "no account 'XYZ' in login_id; choose one of: seller01@example.com (ABC, account_1)",
    ),
    Case(
        "wb-unknown-server",
        b.good_workbook,
        run_with("--server", "서버9-9"),
        2,
        "no step3 rows for server '서버9-9' in sheet 'ABC'; servers: 서버1-1, 서버2-1",
    ),
    Case("wb-formula-no-value", b.formula_cells, RUN, 2, "ABC!B3 (provider_code)"),
    Case(
        "wb-formula-with-value",
        b.formula_with_value,
        [*VALIDATE, "--account", "ABC"],
        0,
        "OK: no problems found.",
        stream="stdout",
    ),
    Case("wb-merged-cells", b.merged_cells, RUN, 2, "ABC!B3 (provider_code)"),
    Case(
        "wb-million-rows",
        b.million_rows,
        RUN,
        2,
        "ABC!B1000001 (provider_code): '1234': provider_code is a number",
        max_rss_mb=2000,
    ),
    # --- progress files -------------------------------------------------------------------------------
    Case(
        "progress-truncated",
        b.damage_progress(b.truncate_half),
        run_with(live=True),
        2,
        "progress/ABC/step3.json",
    ),
    Case(
        "progress-not-json", b.damage_progress(b.not_json), run_with(live=True), 2, "progress/ABC/step3.json"
    ),
    Case(
        "progress-wrong-schema",
        b.damage_progress(b.wrong_shape),
        run_with(live=True),
        2,
        "progress/ABC/step3.json",
    ),
    Case(
        "progress-newer-version",
        b.damage_progress(b.newer_version, drop_prev=False),
        run_with(live=True),
        2,
        "was written by a newer stepbatch (schema_version 2",
    ),
    Case(
        "progress-corrupt-journal",
        b.damage_progress(b.corrupt_journal, drop_prev=False),
        run_with(live=True),
        2,
        "step3.journal.jsonl: line 1 is corrupt",
    ),
    Case(
        "progress-unwritable",
        b.damage_progress(b.keep, drop_prev=False),
        run_with(live=True),
        2,
        "progress/ABC: not writable, so the progress cannot be recorded",
        read_only="state/progress",
    ),
    Case(
        "state-unwritable",
        b.damage_progress(b.keep, drop_prev=False),
        run_with(live=True),
        2,
        "locks/ABC.lock: cannot take the run lock of account ABC (Permission denied)",
        read_only="state",
    ),
    Case(
        "state-disk-full",
        b.damage_progress(b.keep, drop_prev=False),
        run_with(live=True),
        2,
        "locks/ABC.json: cannot write the run lock's holder file (File too large)",
        fsize_limit=64,
    ),
    # --- command line ---------------------------------------------------------------------------------
    Case(
        "cli-unknown-step",
        b.good_workbook,
        ["run", "step4", *RUN[2:]],
        2,
        "unknown step 'step4': choose one of step2, step3",
    ),
    Case(
        "cli-batch-size-zero",
        b.good_workbook,
        run_with("--batch-size", "0"),
        2,
        "--batch-size must be greater than 0, got 0",
    ),
    Case(
        "cli-batch-size-negative",
        b.good_workbook,
        run_with("--batch-size", "-3"),
        2,
        "--batch-size must be greater than 0, got -3",
    ),
    Case(
        "cli-batch-size-text",
        b.good_workbook,
        run_with("--batch-size", "five"),
        2,
        "error: stepbatch run: Invalid value for '--batch-size'",
    ),
    Case(
        "cli-unknown-option",
        b.good_workbook,
        run_with("--bach-size", "5"),
        2,
        "error: stepbatch run: No such option: --bach-size",
    ),
    Case("cli-unknown-command", None, ["runn", "step3"], 2, "error: stepbatch: No such command 'runn'"),
    Case(
        "cli-max-attempts-zero",
        b.good_workbook,
        run_with("--max-attempts", "0"),
        2,
        "--max-attempts must be greater than 0",
    ),
    Case("cli-unreachable-url", b.good_workbook, RUN, 2, "cannot reach it"),
    Case(
        "cli-not-http-url",
        b.good_workbook,
        replace_arg(RUN, "--base-url", "ftp://example.com"),
        2,
        "expected an http(s) URL",
    ),
    Case(
        "cli-missing-chrome-binary",
        b.good_workbook,
        replace_arg(run_with(live=True), "--chrome-binary", "/nonexistent/chromium"),
        2,
        "--chrome-binary: no browser at /nonexistent/chromium",
    ),
    Case(
        "cli-no-chromium-on-path",
        b.good_workbook,
        [a for a in run_with(live=True) if a not in ("--chrome-binary", "{spy}")],
        2,
        "no Chromium or Chrome found",
        env={"PATH": "{empty}"},
    ),
    Case(
        "cli-unknown-browser-kind",
        b.good_workbook,
        run_with("--browser", "firefox", live=True),
        2,
        "--browser: unknown kind 'firefox'",
    ),
    Case(
        "cli-accounts-not-all",
        b.good_workbook,
        [*RUN[:4], "--accounts", "some", *RUN[6:]],
        2,
        "--accounts 'some': only `all` is supported",
    ),
    Case(
        "cli-missing-account",
        b.good_workbook,
        [a for a in RUN if a not in ("--account", "ABC")],
        2,
        "--account is required",
    ),
    Case(
        "cli-validate-unknown-step",
        b.good_workbook,
        [*VALIDATE, "--step", "step9"],
        2,
        "--step: unknown step 'step9'",
    ),
]
