"""Reading one per-account task sheet into validated rows (values normalised, commands parsed)."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter
from typing import NamedTuple

from stepbatch.workbook.columns import COMMAND_FIELDS, ColumnMap, letter, map_columns
from stepbatch.workbook.grammar import CommandError, parse_cell
from stepbatch.workbook.groups import GROUP_NAMES
from stepbatch.workbook.models import Action, CommandKind, EditOp, Problem

STEPS = ("step2", "step3")
_COMMAND_ACTIONS = tuple(Action(name) for name in COMMAND_FIELDS)


class TaskRow(NamedTuple):  # a NamedTuple: 100,000 of them are made per load
    row: int  # 1-based Excel row
    step: str
    server: str
    code: str
    target: str
    ops: tuple[EditOp, ...]


@dataclass
class TaskSheet:
    name: str
    columns: ColumnMap
    rows: list[TaskRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)  # Excel rows with an error

    @property
    def blocking(self) -> bool:
        return self.columns.blocking


@lru_cache(maxsize=65536)
def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def display(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def _blank(value: object) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


class _RowReader:
    """Reads the cells of one row, collecting problems against the sheet."""

    def __init__(self, sheet: TaskSheet, cells: list[object], row: int) -> None:
        self.sheet, self.cells, self.row = sheet, cells, row
        self.error = False

    def get(self, name: str) -> object:
        index = self.sheet.columns.column(name)
        if index is None or index >= len(self.cells):
            return None
        value = self.cells[index]
        return None if _blank(value) else value

    def problem(self, name: str, value: object, message: str, severity: str = "error") -> None:
        index = self.sheet.columns.column(name)
        self.sheet.problems.append(
            Problem(
                self.sheet.name,
                self.row,
                letter(index) if index is not None else None,
                display(value) if value is not None else None,
                message,
                header=name,
                severity=severity,
            )
        )
        if severity == "error":
            self.error = True

    def text(self, name: str, what: str, *, lower: bool = False) -> str | None:
        """A normalised text value; blank → error; a silently changed value → warning."""
        value = self.get(name)
        if value is None:
            self.problem(name, None, f"{what} is blank")
            return None
        if not isinstance(value, str):
            self.problem(name, value, f"{what} is a number, expected text")
            return None
        clean = _norm(value)
        if lower:
            clean = clean.lower()
        if clean != value:
            self.problem(
                name,
                value,
                f"{what} read as {clean!r} (full-width characters, case or "
                "surrounding spaces normalised); please fix the cell",
                severity="warning",
            )
        return clean


def read_task_sheet(name: str, rows: list[list[object]]) -> TaskSheet:
    sheet = TaskSheet(name, map_columns(name, rows))
    sheet.problems.extend(sheet.columns.problems)
    start = 1 if sheet.columns.has_header else 0
    fast = _FastPath(sheet.columns)
    for offset, cells in enumerate(rows[start:], start=start + 1):
        task = fast.read(cells, offset)
        if task is _MISS:
            before = len(sheet.problems)
            task = _read_row(sheet, cells, offset)
            if task is not None and len(sheet.problems) == before:
                fast.learn(cells, task)
        if task is not None:
            sheet.rows.append(task)
    _check_duplicates(sheet)
    return sheet


_MISS = object()


class _FastPath:
    """Reads rows made only of values already seen clean; anything else goes the slow, reporting way.

    Values repeat a lot (servers, groups, command combinations), so this keeps 100,000-row sheets fast.
    """

    def __init__(self, columns: ColumnMap) -> None:
        fields = [columns.column(n) for n in ("step", "provider_code", "final_group", "target_group")]
        commands = [(i, a) for a in _COMMAND_ACTIONS if (i := columns.column(a.value)) is not None]
        self.enabled = None not in fields and not columns.blocking and bool(commands)
        if not self.enabled:
            return
        self.main = itemgetter(*fields)
        self.fields = fields
        self.command_get = _tuple_getter([i for i, _ in commands])
        self.width = len(commands)
        self.blank = ("",) * self.width
        self.commands = commands
        self.per_column: list[dict[object, tuple[EditOp, ...]]] = [{"": ()} for _ in commands]
        self.combos: dict[tuple[object, ...], tuple[EditOp, ...]] = {self.blank: ()}
        self.steps: dict[object, str] = {}
        self.servers: dict[object, str] = {}
        self.targets: dict[object, str] = {}

    def read(self, cells: list[object], row: int) -> TaskRow | object | None:
        if not self.enabled:
            return _MISS
        try:
            raw_step, code, raw_server, raw_target = self.main(cells)
            if raw_step == "":
                return None
            step = self.steps[raw_step]
            if type(code) is not str or not (code.isascii() and code.isalnum()):
                return _MISS
            server, target = self.servers[raw_server], self.targets[raw_target]
            values = self.command_get(cells)
            if step == "step2":
                if values != self.blank:
                    return _MISS
                return TaskRow(row, step, server, code, target, ())
            ops = self.combos.get(values)
            if ops is None:
                ops = tuple(
                    op for cache, value in zip(self.per_column, values, strict=True) for op in cache[value]
                )
                self.combos[values] = ops
        except (KeyError, IndexError):
            return _MISS
        return TaskRow(row, step, server, code, target, ops)

    def learn(self, cells: list[object], task: TaskRow) -> None:
        """Remember the values of a row that was read without any problem."""
        if not self.enabled or len(cells) <= max(self.fields):
            return
        self.steps[cells[self.fields[0]]] = task.step
        self.servers[cells[self.fields[2]]] = task.server
        self.targets[cells[self.fields[3]]] = task.target
        if task.step == "step3":
            for (index, action), cache in zip(self.commands, self.per_column, strict=True):
                if index < len(cells):
                    cache[cells[index]] = tuple(op for op in task.ops if op.action is action)


def _tuple_getter(indexes: list[int]) -> Callable[[list[object]], tuple[object, ...]]:
    if len(indexes) == 1:
        index = indexes[0]
        return lambda cells: (cells[index],)
    return itemgetter(*indexes)


def _read_row(sheet: TaskSheet, cells: list[object], row: int) -> TaskRow | None:
    reader = _RowReader(sheet, cells, row)
    raw_step = reader.get("step")
    if raw_step is None:
        return None  # not a step2/step3 row (blank lines, notes)
    step = reader.text("step", "step", lower=True)
    if step not in STEPS:
        if step is not None:
            reader.problem("step", raw_step, "unknown step; expected step2 or step3")
        sheet.bad_rows.add(row)
        return None
    code = _read_code(reader)
    server = reader.text("final_group", "final_group (server)")
    target = reader.text("target_group", "target_group")
    if target is not None and target not in GROUP_NAMES:
        reader.problem("target_group", target, "not a Percenty group name", severity="warning")
    ops = _read_ops(reader, step)
    if reader.error or code is None or server is None or target is None:
        sheet.bad_rows.add(row)
    return TaskRow(row, step, server or "", code or "", target or "", ops)


def _read_code(reader: _RowReader) -> str | None:
    value = reader.get("provider_code")
    if isinstance(value, int | float) and not isinstance(value, bool):
        reader.problem("provider_code", value, "provider_code is a number; codes are text like X12")
        return None
    code = reader.text("provider_code", "provider_code")
    if code is not None and any(ch.isspace() for ch in code):
        reader.problem("provider_code", code, "provider_code contains spaces")
        return None
    return code


def _read_ops(reader: _RowReader, step: str) -> tuple[EditOp, ...]:
    ops: list[EditOp] = []
    for action in _COMMAND_ACTIONS:
        value = reader.get(action.value)
        if value is None:
            continue
        if step == "step2":
            reader.problem(
                action.value, value, "step2 only moves products; this command is ignored", severity="warning"
            )
            continue
        try:
            parsed = parse_cell(action, value)
        except CommandError as exc:
            reader.problem(action.value, value, str(exc))
            continue
        ops.extend(op for op in parsed if op.command.kind is not CommandKind.NO)
    return tuple(ops)


def _check_duplicates(sheet: TaskSheet) -> None:
    first: dict[tuple[str, str, str], TaskRow] = {}
    for task in sheet.rows:
        key = (task.step, task.server, task.code)
        earlier = first.get(key)
        if earlier is None:
            first[key] = task
        elif task.code and task.server and (earlier.target, earlier.ops) != (task.target, task.ops):
            _report_conflict(sheet, earlier, task)


def _report_conflict(sheet: TaskSheet, earlier: TaskRow, task: TaskRow) -> None:
    what = "target_group" if earlier.target != task.target else "commands"
    column = sheet.columns.column("provider_code")
    sheet.problems.append(
        Problem(
            sheet.name,
            task.row,
            letter(column) if column is not None else None,
            task.code,
            f"{task.step} code {task.code} in {task.server} also on row {earlier.row} with different "
            f"{what} (rows {earlier.row} and {task.row}); keep one",
            header="provider_code",
        )
    )
    sheet.bad_rows.update((earlier.row, task.row))
