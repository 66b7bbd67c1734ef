"""Helpers to build small workbooks cell by cell (openpyxl) for the workbook tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from openpyxl import Workbook

from stepbatch.workbook.columns import TASK_HEADERS

LOGIN_HEADER = ["id", "password", "operator", "sheet_nickname"]
Rows = Sequence[Sequence[object]]


def task_row(
    code: object = "X12",
    server: object = "서버1-1",
    step: object = "step3",
    target: object = "대기1",
    **commands: object,
) -> list[object]:
    """One task-sheet row in the standard layout; commands by header name (image_delete=...)."""
    values: dict[str, object] = {
        "provider_id": "shop1",
        "provider_code": code,
        "provider_gender": "여성",
        "final_group": server,
        "target_group": target,
        "step2 or step3": step,
    }
    values.update(commands)
    return [values.get(h) for h in TASK_HEADERS]


def write_xlsx(path: Path, sheets: dict[str, Rows], edit: Callable[[Workbook], None] | None = None) -> Path:
    """Write the sheets in order; `edit` may change the book (merge cells, add formulas) before saving."""
    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(list(row))
    if edit is not None:
        edit(book)
    book.save(path)
    return path
