"""Rows that `Workbook.units(..., strict=False)` leaves out, each with the error that keeps it out.

`stepbatch run --skip-invalid` lists them (console, summary.json, report): an operator must see every row
that did not run and why, so nothing is silently dropped and nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from stepbatch.workbook.models import Problem
from stepbatch.workbook.tasks import TaskRow, TaskSheet

NO_DETAIL = "the row has an error (run `stepbatch validate` for the details)"


@dataclass(frozen=True)
class SkippedRow:
    """One left-out task row: where it is and its first error (`errors` counts all of them)."""

    sheet: str
    row: int  # 1-based Excel row
    step: str
    server: str
    provider_code: str
    column: str | None  # Excel letter of the first error's cell, e.g. "K"
    header: str | None  # that column's header, e.g. "image_translate"
    value: str | None  # the cell as written
    message: str
    errors: int = 1

    def location(self) -> str:
        code = f" ({self.provider_code})" if self.provider_code else ""
        where = f"sheet {self.sheet} row {self.row}{code}"
        if self.column:
            where += f", column {self.column}" + (f" ({self.header})" if self.header else "")
        return where

    def line(self) -> str:
        """`sheet ABC row 5 (X12), column K (image_translate): unknown command 'yess' …`."""
        shown = f"{self.value!r}: " if self.value and self.value not in self.message else ""
        more = f" (+{self.errors - 1} more error(s) in this row)" if self.errors > 1 else ""
        return f"{self.location()}: {shown}{self.message}{more}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def skipped_rows(sheet: TaskSheet, selected: Sequence[TaskRow]) -> list[SkippedRow]:
    """The rows of `selected` that cannot run (in sheet order), each with the error(s) that say why."""
    by_row: dict[int, list[Problem]] = {}
    for problem in sheet.problems:
        if problem.is_error and problem.row is not None:
            by_row.setdefault(problem.row, []).append(problem)
    sheet_level = [p for p in sheet.problems if p.is_error and p.row in (None, 1)]
    out = []
    for task in selected:
        if not (sheet.blocking or task.row in sheet.bad_rows):
            continue
        errors = by_row.get(task.row) or _partner_errors(sheet, task, by_row) or sheet_level
        out.append(_skipped(sheet.name, task, errors))
    return out


def _partner_errors(sheet: TaskSheet, task: TaskRow, by_row: dict[int, list[Problem]]) -> list[Problem]:
    """A row without an error of its own is out because another row of its code conflicts with it."""
    return [
        problem
        for other in sheet.rows
        if other.row != task.row
        and (other.step, other.server, other.code) == (task.step, task.server, task.code)
        for problem in by_row.get(other.row, [])
    ]


def _skipped(sheet: str, task: TaskRow, errors: list[Problem]) -> SkippedRow:
    first = errors[0] if errors else None
    return SkippedRow(
        sheet=sheet,
        row=task.row,
        step=task.step,
        server=task.server,
        provider_code=task.code,
        column=first.column if first else None,
        header=first.header if first else None,
        value=first.value if first else None,
        message=first.message if first else NO_DETAIL,
        errors=max(1, len(errors)),
    )
