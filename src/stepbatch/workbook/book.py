"""`load_workbook(path) -> Workbook`: accounts, their task sheets, units of work and problems."""

from __future__ import annotations

import os
import re
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stepbatch.errors import UserError
from stepbatch.workbook.columns import header_key, letter
from stepbatch.workbook.files import open_calamine, read_sheet, read_sheets
from stepbatch.workbook.models import Account, AccountNotFound, Problem, Secret, Unit, WorkbookError
from stepbatch.workbook.skipped import SkippedRow, skipped_rows
from stepbatch.workbook.tasks import STEPS, TaskRow, TaskSheet, display, read_task_sheet

LOGIN_SHEET = "login_id"
PASSWORD_ENV = "STEPBATCH_PASSWORD_{}"
_LOGIN_FIELDS = {
    "id": "email",
    "email": "email",
    "loginid": "email",
    "password": "password",
    "pw": "password",
    "operator": "operator",
    "sheetnickname": "nickname",
    "nickname": "nickname",
}
_LOGIN_POSITIONS = {"email": 0, "password": 1, "operator": 2, "nickname": 3}
_NICKNAME = re.compile(r"^[A-Z]{3}$")


@dataclass
class _AccountEntry:
    account: Account
    row: int
    sheet: TaskSheet | None


class Workbook:
    """The operators' task workbook, read and validated once."""

    def __init__(self, path: Path, entries: list[_AccountEntry], problems: list[Problem]) -> None:
        self.path = path
        self._entries = entries
        self.problems: list[Problem] = problems

    @property
    def accounts(self) -> list[Account]:
        return [entry.account for entry in self._entries]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    def account(self, spec: str | Account) -> Account:
        """Find an account by login email, sheet nickname or `account_N` (row N of login_id)."""
        return self._entry(spec).account

    def servers(self, account: str | Account, step: str) -> list[str]:
        """The servers (final_group values) that have rows of `step`, in sheet order."""
        step = _check_step(step)
        sheet = self._sheet(account)
        return list(dict.fromkeys(r.server for r in sheet.rows if r.step == step and r.server))

    def units(
        self, account: str | Account, step: str, server: str | None = None, *, strict: bool = True
    ) -> list[Unit]:
        """The units of `step` (optionally one server), one per provider code and server, in sheet order.

        With `strict` (the default) any error in the selected rows raises `WorkbookError`; without it
        those rows are left out (they stay listed in `problems`).
        """
        step = _check_step(step)
        entry = self._entry(account)
        sheet = self._sheet(entry)
        server, selected = self._selected(entry, step, server)
        if strict:
            self._raise_on_login_errors(entry)
            self._raise_on_errors(sheet, selected, step, server)
        if sheet.blocking:  # a header error: no row of this sheet can be trusted
            return []
        return _group_units(entry.account.nickname, sheet, selected, step)

    def has_sheet(self, account: str | Account) -> bool:
        return self._entry(account).sheet is not None

    def bad_row_count(self, account: str | Account, step: str, server: str | None = None) -> int:
        """How many rows of step (and server) `units(strict=False)` leaves out because of errors."""
        sheet = self._sheet(account)
        return sum(
            1
            for r in sheet.rows
            if r.step == step
            and (server is None or r.server == server)
            and (sheet.blocking or r.row in sheet.bad_rows)
        )

    def skipped_rows(self, account: str | Account, step: str, server: str | None = None) -> list[SkippedRow]:
        """The rows `units(strict=False)` leaves out, in sheet order, each with its (first) error."""
        step = _check_step(step)
        entry = self._entry(account)
        _, selected = self._selected(entry, step, server)
        return skipped_rows(self._sheet(entry), selected)

    def _selected(self, entry: Any, step: str, server: str | None) -> tuple[str | None, list[Any]]:
        """The checked server and the sheet's rows of `step` (and that server), in sheet order."""
        if server is not None:
            server = _check_server(self, entry, step, server)
        rows = self._sheet(entry).rows
        return server, [r for r in rows if r.step == step and (server is None or r.server == server)]

    def selection_problems(
        self, account: str | Account, step: str | None = None, server: str | None = None
    ) -> list[Problem]:
        """Problems of login_id and of the account's sheet, limited to the rows of step/server."""
        entry = self._entry(account)
        own = [p for p in self.problems if p.sheet == LOGIN_SHEET and p.row == entry.row]
        if entry.sheet is None:
            return own
        rows = {
            r.row
            for r in entry.sheet.rows
            if (step is None or r.step == step) and (server is None or r.server == server)
        }
        sheet_level = step is None and server is None
        return own + [
            p
            for p in entry.sheet.problems
            if p.sheet == entry.sheet.name and (sheet_level or p.row in rows or p.row in (None, 1))
        ]

    # internals

    def _entry(self, spec: str | Account) -> _AccountEntry:
        if isinstance(spec, Account):
            spec = spec.email
        wanted = _norm(spec)
        for entry in self._entries:
            acc = entry.account
            if wanted.lower() in (acc.email.lower(), acc.nickname.lower(), acc.virtual_id):
                return entry
        choices = ", ".join(f"{a.email} ({a.nickname}, {a.virtual_id})" for a in self.accounts)
        raise AccountNotFound(
            f"{self.path}: no account {spec!r} in {LOGIN_SHEET}; choose one of: {choices or '(none)'}"
        )

    def _sheet(self, account: str | Account | _AccountEntry) -> TaskSheet:
        entry = account if isinstance(account, _AccountEntry) else self._entry(account)
        if entry.sheet is None:
            raise WorkbookError(
                f"{self.path}: no task sheet {entry.account.nickname!r} for account "
                f"{entry.account.email} ({LOGIN_SHEET} row {entry.row})"
            )
        return entry.sheet

    def _raise_on_login_errors(self, entry: _AccountEntry) -> None:
        """An account whose login_id row has an error (e.g. no password) cannot be run."""
        errors = [p for p in self.problems if p.sheet == LOGIN_SHEET and p.row == entry.row and p.is_error]
        if errors:
            raise WorkbookError(
                f"{self.path}: {len(errors)} error(s) in {LOGIN_SHEET} row {entry.row} "
                f"({entry.account.nickname}), first: {errors[0].line()}"
            )

    def _raise_on_errors(
        self, sheet: TaskSheet, selected: list[TaskRow], step: str, server: str | None
    ) -> None:
        rows = {r.row for r in selected} & sheet.bad_rows
        errors = [p for p in sheet.problems if p.is_error and (p.row in rows or p.row in (None, 1))]
        if not errors and not sheet.blocking:
            return
        scope = f"{step} {server}" if server else step
        first = errors[0].line() if errors else "the header row cannot be trusted"
        raise WorkbookError(
            f"{self.path}: {len(errors)} error(s) in the {scope} rows of sheet "
            f"{sheet.name!r}, first: {first} (run `stepbatch validate` for all)"
        )


def _group_units(nickname: str, sheet: TaskSheet, selected: list[TaskRow], step: str) -> list[Unit]:
    groups: dict[tuple[str, str], list[TaskRow]] = {}
    for task in selected:
        if task.row in sheet.bad_rows:
            continue
        groups.setdefault((task.server, task.code), []).append(task)
    units = []
    for (server, code), tasks in groups.items():
        head = tasks[0]
        units.append(
            Unit(
                account=nickname,
                step=step,
                server=server,
                provider_code=code,
                target_group=head.target,
                ops=head.ops,
                sheet=sheet.name,
                rows=tuple(t.row for t in tasks),
            )
        )
    return units


def _check_step(step: str) -> str:
    clean = _norm(step).lower()
    if clean not in STEPS:
        raise UserError(f"unknown step {step!r}; choose one of: {', '.join(STEPS)}")
    return clean


def _check_server(book: Workbook, entry: _AccountEntry, step: str, server: str) -> str:
    clean = _norm(server)
    known = book.servers(entry.account, step)
    if clean not in known:
        raise UserError(
            f"no {step} rows for server {server!r} in sheet {entry.account.nickname!r}; "
            f"servers: {', '.join(known) or '(none)'}"
        )
    return clean


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def load_workbook(path: str | os.PathLike[str]) -> Workbook:
    """Read and validate the workbook. Unusable files raise `WorkbookError` (one line naming the file)."""
    path = Path(path)
    book = open_calamine(path)
    names = list(book.sheet_names)
    if LOGIN_SHEET not in names:
        raise WorkbookError(f"{path}: no {LOGIN_SHEET!r} sheet (sheets: {', '.join(names) or 'none'})")
    problems: list[Problem] = []
    accounts = _read_accounts(read_sheet(book, path, LOGIN_SHEET), problems)
    sheet_names = [_find_sheet(names, account, row, problems) for account, row in accounts]
    entries = []
    with closing(read_sheets(path, [name for name in sheet_names if name])) as parsed:
        for (account, row), sheet_name in zip(accounts, sheet_names, strict=True):
            sheet = read_task_sheet(sheet_name, next(parsed)) if sheet_name else None
            if sheet is not None:
                problems.extend(sheet.problems)
            entries.append(_AccountEntry(account, row, sheet))
    return Workbook(path, entries, problems)


def _read_accounts(rows: list[list[object]], problems: list[Problem]) -> list[tuple[Account, int]]:
    fields, start = _login_columns(rows, problems)
    accounts: list[tuple[Account, int]] = []
    seen: dict[str, int] = {}
    for row, cells in enumerate(rows[start:], start=start + 1):
        values = {name: _cell(cells, index) for name, index in fields.items() if name != "password"}
        if "password" in fields:  # used exactly as typed: normalising could change a password
            values["password"] = display(_raw(cells, fields["password"]))
        if not values.get("email") and not values.get("nickname"):
            continue
        account = _make_account(values, row, start, fields, problems)
        if account is None:
            continue
        for key in (account.email.lower(), account.nickname):
            if key in seen:
                problems.append(
                    _login_problem(
                        row,
                        fields,
                        "nickname" if key == account.nickname else "email",
                        key,
                        f"duplicate of {LOGIN_SHEET} row {seen[key]}; row ignored",
                    )
                )
                break
        else:
            seen[account.email.lower()] = seen[account.nickname] = row
            accounts.append((account, row))
    return accounts


def _login_columns(rows: list[list[object]], problems: list[Problem]) -> tuple[dict[str, int], int]:
    header = rows[0] if rows else []
    fields: dict[str, int] = {}
    for index, value in enumerate(header):
        name = _LOGIN_FIELDS.get(header_key(value)) if isinstance(value, str) else None
        if name and name not in fields:
            fields[name] = index
    if "email" in fields or "nickname" in fields:
        for name in ("email", "nickname"):
            if name not in fields:
                problems.append(Problem(LOGIN_SHEET, 1, None, None, f"no {name} column in the header row"))
        return fields, 1
    problems.append(
        Problem(
            LOGIN_SHEET,
            1,
            "A",
            None,
            "no header row; reading A = id, B = password, C = operator, D = sheet_nickname",
            severity="warning",
        )
    )
    return dict(_LOGIN_POSITIONS), 0


def _make_account(
    values: dict[str, str], row: int, start: int, fields: dict[str, int], problems: list[Problem]
) -> Account | None:
    email, nickname = values.get("email", ""), values.get("nickname", "").upper()
    for name, value in (("email", email), ("nickname", nickname)):
        if not value:
            problems.append(_login_problem(row, fields, name, None, f"{name} is blank; row ignored"))
            return None
    if "@" not in email:
        problems.append(
            _login_problem(row, fields, "email", email, "login id is not an email address", "warning")
        )
    if not _NICKNAME.match(nickname):
        problems.append(
            _login_problem(
                row, fields, "nickname", nickname, "sheet_nickname is usually 3 uppercase letters", "warning"
            )
        )
    password = os.environ.get(PASSWORD_ENV.format(nickname)) or values.get("password", "")
    if not password:
        problems.append(
            _login_problem(
                row,
                fields,
                "password",
                None,
                f"no password (fill it in or set {PASSWORD_ENV.format(nickname)})",
            )
        )
    return Account(
        email=email,
        password=Secret(password),
        operator=values.get("operator", ""),
        nickname=nickname,
        index=row - start,
    )


def _login_problem(
    row: int, fields: dict[str, int], name: str, value: str | None, message: str, severity: str = "error"
) -> Problem:
    index = fields.get(name)
    # Never echo a password cell: value is None for it by construction.
    return Problem(
        LOGIN_SHEET,
        row,
        letter(index) if index is not None else None,
        value,
        message,
        header={"email": "id", "nickname": "sheet_nickname"}.get(name, name),
        severity=severity,
    )


def _raw(cells: list[object], index: int) -> object:
    return cells[index] if index < len(cells) else ""


def _cell(cells: list[object], index: int) -> str:
    return _norm(display(_raw(cells, index)))


def _find_sheet(names: list[str], account: Account, row: int, problems: list[Problem]) -> str | None:
    if account.nickname in names:
        return account.nickname
    for name in names:
        if _norm(name).upper() == account.nickname:
            problems.append(
                Problem(
                    name,
                    None,
                    None,
                    None,
                    f"sheet name {name!r} differs from the "
                    f"sheet_nickname {account.nickname!r} (spaces/case); used anyway",
                    severity="warning",
                )
            )
            return name
    problems.append(
        Problem(
            LOGIN_SHEET,
            row,
            None,
            account.nickname,
            f"no task sheet named {account.nickname!r} for {account.email}",
        )
    )
    return None
