"""`stepbatch validate` and `stepbatch sample-workbook`: thin wrappers over stepbatch.workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from stepbatch.errors import EXIT_OK, EXIT_PROBLEMS
from stepbatch.workbook.report import ValidationReport, build_report

PRODUCTS_NOTE = (
    "Counts are units (provider codes); how many products each code finds is only known "
    "when the site is searched."
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("validate")(validate)
    app.command("sample-workbook")(sample_workbook)


def validate(
    workbook: Annotated[Path, typer.Argument(help="The operators' task workbook (.xlsx/.xlsm).")],
    account: Annotated[str | None, typer.Option(help="Email, sheet nickname or account_N.")] = None,
    step: Annotated[str | None, typer.Option(help="step2 or step3.")] = None,
    server: Annotated[str | None, typer.Option(help="A final_group value such as 서버1-1.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a machine-readable document.")] = False,
) -> None:
    """Check the workbook: every problem with its sheet, row and column, and a per-account summary.

    Exit 0 when clean, 1 when problems were found, 2 when the file is unusable or an argument is wrong.
    """
    report = build_report(workbook, account=account, step=step, server=server)
    if as_json:
        typer.echo(json.dumps(report.to_json() | {"note": PRODUCTS_NOTE}, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    raise typer.Exit(EXIT_PROBLEMS if report.problems else EXIT_OK)


def _print_report(report: ValidationReport) -> None:
    console = Console(highlight=False)
    if report.problems:
        table = Table(title=f"{len(report.problems)} problem(s) in {report.path}", show_lines=False)
        for name in ("severity", "sheet", "row", "column", "value", "message"):
            table.add_column(name, overflow="fold")
        for p in report.problems:
            column = f"{p.column or ''} {p.header or ''}".strip()
            style = "red" if p.is_error else "yellow"
            table.add_row(
                f"[{style}]{p.severity}[/]",
                p.sheet,
                str(p.row or ""),
                column,
                _short(p.value or ""),
                p.message,
            )
        console.print(table)
    summary = Table(title="Units per account, step and server")
    for name in ("account", "sheet", "step", "server", "units", "rows with errors"):
        summary.add_column(name)
    for acc in report.accounts:
        if not acc.has_sheet:
            summary.add_row(f"{acc.virtual_id} {acc.email}", acc.nickname, "-", "-", "-", "no task sheet")
        for (step, server), counts in acc.counts.items():
            summary.add_row(
                f"{acc.virtual_id} {acc.email}",
                acc.nickname,
                step,
                server,
                str(counts.units),
                str(counts.bad_rows or ""),
            )
    console.print(summary)
    console.print(PRODUCTS_NOTE)
    errors = sum(p.is_error for p in report.problems)
    warnings = len(report.problems) - errors
    console.print(
        "OK: no problems found." if not report.problems else f"{errors} error(s), {warnings} warning(s)."
    )


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sample_workbook(
    out: Annotated[Path, typer.Argument(help="Where to write the .xlsx file.")],
    accounts: Annotated[int, typer.Option(help="Number of accounts (login_id rows and task sheets).")] = 2,
    codes: Annotated[int, typer.Option(help="Provider codes per account.")] = 30,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same workbook.")] = 1,
    dirty: Annotated[bool, typer.Option(help="Add every kind of damage the validator reports.")] = False,
    step2_share: Annotated[float, typer.Option(help="Share of step2 rows (0..1).")] = 0.2,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a realistic fake operators' workbook (fake emails and passwords, Korean group names)."""
    from stepbatch.workbook.sample import write_sample_workbook

    path = write_sample_workbook(
        out, accounts=accounts, codes=codes, seed=seed, dirty=dirty, step2_share=step2_share, force=force
    )
    kind = "dirty " if dirty else ""
    typer.echo(f"wrote {kind}sample workbook {path} ({accounts} account(s) x {codes} codes, seed {seed})")
