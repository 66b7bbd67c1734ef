"""What a run settles and says before it starts: the workbook rows it skips and step3's translation gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

from stepbatch.errors import UserError
from stepbatch.workbook import Workbook
from stepbatch.workbook.models import Account, Problem, Unit, WorkbookError
from stepbatch.workbook.skipped import SkippedRow

LOGIN_SHEET = "login_id"
MAX_PROBLEMS_SHOWN = 3
MAX_SKIPPED_SHOWN = 10
SKIP_HINT = "fix the row(s) or pass --skip-invalid to run the other rows"
CANNOT_SKIP = "--skip-invalid skips task rows only; fix this first"
TRANSLATE_ALL_LINE = "translation gate off (--translate-all): every named image is pressed"


@dataclass
class Selection:
    """The units a run will do and the rows of its step/server that it leaves out."""

    units: list[Unit]
    skipped: list[SkippedRow] = field(default_factory=list)


def select_run_units(
    book: Workbook, account: Account, step: str, server: str | None, *, skip_invalid: bool
) -> Selection:
    """Strict unless `skip_invalid`; then rows with errors are left out (listed), never guessed at.

    Errors no row skip can get around (the account's login_id row, the sheet's header) always refuse.
    """
    try:
        return Selection(book.units(account, step, server))
    except WorkbookError:
        problems = [p for p in book.selection_problems(account, step, server) if p.is_error]
        if not problems:
            raise
        fatal = [p for p in problems if not is_row_problem(p)]
        if fatal or not skip_invalid:
            hint = (CANNOT_SKIP if skip_invalid else "") if fatal else SKIP_HINT
            ordered = fatal + [p for p in problems if is_row_problem(p)]  # what no skip helps comes first
            raise UserError(problems_line(book, account, step, ordered, hint)) from None
    selection = Selection(
        book.units(account, step, server, strict=False), book.skipped_rows(account, step, server)
    )
    if not selection.units:
        scope = f"{step} {server}" if server else step
        raise UserError(
            f"{book.path}: --skip-invalid: every {scope} row of sheet {account.nickname} has errors, "
            f"nothing to run; first: {selection.skipped[0].line()}"
        )
    return selection


def is_row_problem(problem: Problem) -> bool:
    """An error of one task row (skippable), not of login_id or of a sheet's header."""
    return problem.sheet != LOGIN_SHEET and problem.row not in (None, 1)


def problems_line(
    book: Workbook, account: Account, step: str, problems: list[Problem], hint: str = ""
) -> str:
    shown = " | ".join(p.line() for p in problems[:MAX_PROBLEMS_SHOWN])
    more = (
        f" (+{len(problems) - MAX_PROBLEMS_SHOWN} more; see `stepbatch validate`)"
        if len(problems) > MAX_PROBLEMS_SHOWN
        else ""
    )
    tail = f"; {hint}" if hint else ""
    where = f"{book.path}: {len(problems)} problem(s) in the {step} rows of {account.nickname}"
    return f"{where}: {shown}{more}{tail}"


def skipped_lines(skipped: list[SkippedRow], limit: int = MAX_SKIPPED_SHOWN) -> list[str]:
    """The console's list: a heading, one line per row, capped with `… and N more`."""
    if not skipped:
        return []
    lines = [f"skipping {len(skipped)} row(s) with errors (--skip-invalid); they are not run:"]
    lines += [f"  {row.line()}" for row in skipped[:limit]]
    if len(skipped) > limit:
        lines.append(f"  … and {len(skipped) - limit} more (all of them in the run report and summary.json)")
    return lines


def translation_gate(step: str, translate_all: bool) -> dict[str, Any] | None:
    """step3's gate before translate presses: off with --translate-all, else what OCR can do here.

    None when there is nothing to say (step2, or an installation without `stepbatch.vision`).
    """
    if step != "step3":
        return None
    if translate_all:
        return {"translate_all": True, "available": None, "description": TRANSLATE_ALL_LINE}
    try:
        from stepbatch.vision import availability
    except ImportError:
        return None
    try:
        available, description = availability()
    except Exception as exc:  # a broken OCR setup must not stop the run: the gate reports it
        available, description = False, f"translation gate: OCR unavailable ({type(exc).__name__}: {exc})"
    return {"translate_all": False, "available": bool(available), "description": str(description)}


def write_start_lines(out: TextIO, selection: Selection, gate: dict[str, Any] | None) -> None:
    for line in skipped_lines(selection.skipped):
        out.write(line + "\n")
    if gate is not None:
        out.write(gate["description"] + "\n")
    out.flush()


def note_lines(
    step: str, skipped: list[dict[str, Any]], notes: dict[str, Any], gate: dict[str, Any] | None
) -> list[str]:
    """The end-of-run summary's lines about skipped rows, warnings and translate presses (brief)."""
    lines = []
    if skipped:
        lines.append(
            f"  skipped rows: {len(skipped)} with errors, not run (listed at the start and in the report)"
        )
    if notes.get("warnings"):
        lines.append(
            f"  warnings: {notes['warnings']} (a command asked for more images than a product has: "
            "clamped or skipped; the products are done; see the report)"
        )
    if step == "step3" and (notes.get("presses_made") or notes.get("ocr_images")):
        median = notes.get("ocr_median_ms")
        lines.append(
            f"  translation: {notes.get('presses_made', 0)} pressed, "
            f"{notes.get('presses_saved', 0)} saved by OCR"
            + (f" (median {median} ms)" if median is not None else "")
            + f", credits left {notes.get('credits_left', 'unknown')}"
            + ("; gate off (--translate-all)" if gate and gate.get("translate_all") else "")
        )
    return lines
