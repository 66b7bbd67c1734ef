"""Fixtures of the workbook tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from workbook_helpers import LOGIN_HEADER, Rows, write_xlsx

from stepbatch.workbook.columns import TASK_HEADERS


@pytest.fixture
def make_book(tmp_path: Path) -> Callable[..., Path]:
    """make_book({"ABC": [rows...]}, login=[[email, pw, operator, nick], ...]) → path.

    Task sheets get the standard header unless `header=` is given (None: no header row).
    """
    counter = iter(range(1000))

    def make(
        tasks: dict[str, Rows],
        login: Rows | None = None,
        header: Sequence[object] | str | None = "std",
        extra: dict[str, Rows] | None = None,
    ) -> Path:
        if login is None:
            login = [
                [f"seller{i:02d}@example.com", f"pw-{i}", "김하늘", nick]
                for i, nick in enumerate(tasks, start=1)
            ]
        sheets: dict[str, Rows] = {"login_id": [LOGIN_HEADER, *login]}
        for name, rows in tasks.items():
            head = list(TASK_HEADERS) if header == "std" else header
            sheets[name] = [head, *rows] if head is not None else list(rows)
        sheets.update(extra or {})
        return write_xlsx(tmp_path / f"book{next(counter)}.xlsx", sheets)

    return make
