"""What `stepbatch validate` shows: the problems of a selection and the units per account/step/server."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from stepbatch.errors import UserError
from stepbatch.workbook.book import Workbook, load_workbook
from stepbatch.workbook.models import Account, Problem
from stepbatch.workbook.tasks import STEPS


@dataclass
class Counts:
    units: int = 0
    bad_rows: int = 0  # rows of this step/server left out because of errors


@dataclass
class AccountSummary:
    email: str
    nickname: str
    operator: str
    virtual_id: str
    has_sheet: bool
    counts: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (step, server) → counts


@dataclass
class ValidationReport:
    path: Path
    problems: list[Problem]
    accounts: list[AccountSummary]

    def to_json(self) -> dict[str, object]:
        return {
            "file": str(self.path),
            "ok": not self.problems,
            "errors": sum(p.is_error for p in self.problems),
            "warnings": sum(not p.is_error for p in self.problems),
            "problems": [asdict(p) for p in self.problems],
            "accounts": [_account_json(a) for a in self.accounts],
        }


def _account_json(summary: AccountSummary) -> dict[str, object]:
    steps: dict[str, dict[str, object]] = {}
    for (step, server), counts in summary.counts.items():
        entry = steps.setdefault(step, {"units": 0, "servers": {}})
        entry["units"] += counts.units  # type: ignore[operator]
        entry["servers"][server] = {"units": counts.units, "rows_with_errors": counts.bad_rows}  # type: ignore[index]
    return {
        "account": summary.virtual_id,
        "email": summary.email,
        "nickname": summary.nickname,
        "operator": summary.operator,
        "task_sheet": summary.has_sheet,
        "steps": steps,
        "products": None,
    }


def build_report(
    path: str | os.PathLike[str],
    account: str | None = None,
    step: str | None = None,
    server: str | None = None,
) -> ValidationReport:
    """Load and validate; unknown account/step/server → UserError/AccountNotFound (exit 2)."""
    book = load_workbook(path)
    accounts = [book.account(account)] if account else book.accounts
    steps = [_check_step(step)] if step else list(STEPS)
    if account:
        book.servers(accounts[0], steps[0])  # a selected account without a task sheet is an error
    if server is not None:
        server = _check_server(book, accounts, steps, server)
    if account is None and step is None and server is None:
        problems = list(book.problems)
    else:
        problems = _selected_problems(book, accounts, steps, server)
    summaries = [_summarise(book, acc, steps, server) for acc in accounts]
    return ValidationReport(book.path, problems, summaries)


def _check_step(step: str) -> str:
    clean = step.strip().lower()
    if clean not in STEPS:
        raise UserError(f"--step: unknown step {step!r}; choose one of: {', '.join(STEPS)}")
    return clean


def _check_server(book: Workbook, accounts: list[Account], steps: list[str], server: str) -> str:
    clean = server.strip()
    known: list[str] = []
    for acc in accounts:
        if book.has_sheet(acc):
            known += [srv for step in steps for srv in book.servers(acc, step)]
    if clean not in known:
        choices = ", ".join(dict.fromkeys(known)) or "(none)"
        raise UserError(f"--server: no {'/'.join(steps)} rows for server {server!r}; servers: {choices}")
    return clean


def _selected_problems(
    book: Workbook, accounts: list[Account], steps: list[str], server: str | None
) -> list[Problem]:
    seen: dict[int, Problem] = {}
    for acc in accounts:
        for step in steps:
            for problem in book.selection_problems(acc, step if len(steps) == 1 else None, server):
                seen.setdefault(id(problem), problem)
    return list(seen.values())


def _summarise(book: Workbook, account: Account, steps: list[str], server: str | None) -> AccountSummary:
    summary = AccountSummary(
        account.email,
        account.nickname,
        account.operator,
        account.virtual_id,
        has_sheet=book.has_sheet(account),
    )
    if not summary.has_sheet:
        return summary
    for step in steps:
        for srv in book.servers(account, step):
            if server is not None and srv != server:
                continue
            units = book.units(account, step, srv, strict=False)
            summary.counts[(step, srv)] = Counts(len(units), book.bad_row_count(account, step, srv))
    return summary
