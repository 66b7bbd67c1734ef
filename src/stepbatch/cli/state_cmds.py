"""`stepbatch status` and `stepbatch reset`: look at and reset progress stores (calls stepbatch.state)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from stepbatch.errors import UserError
from stepbatch.state.lock import AccountLock
from stepbatch.state.progress import DEFAULT_STATE_DIR, ProgressStore, progress_path
from stepbatch.state.status import collect_status

STATE_DIR_OPTION = typer.Option(
    DEFAULT_STATE_DIR, "--state-dir", help="State folder (progress, locks, runs)."
)


def status(
    state_dir: Path = STATE_DIR_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    db: str | None = typer.Option(
        None, "--db", envvar="STEPBATCH_DB", help="the cluster's PostgreSQL URL: show its accounts instead"
    ),
    lease_s: float = typer.Option(
        30.0, "--lease-s", help="with --db: a running job silent longer is stalled"
    ),
) -> None:
    """Progress per account × step × server, and which accounts are running now (with --db: the cluster's)."""
    if db:
        from stepbatch.cli.cluster_cmds import cluster_status

        cluster_status(db, lease_s=lease_s, as_json=as_json)
        return
    rows = collect_status(state_dir)
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in rows], ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo(f"no progress under {state_dir}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        "account",
        "step",
        "server",
        "units done",
        "partial",
        "failed",
        "items",
        "items failed",
        "last code",
        "state",
        "running",
    )
    for r in rows:
        state = "complete" if r.complete else ("damaged" if r.problem and not r.units_total else "open")
        table.add_row(
            r.account,
            r.step,
            r.server or "",
            f"{r.units_done}/{r.units_total}",
            str(r.units_partial),
            str(r.units_failed),
            str(r.items_done),
            str(r.items_failed),
            r.last_completed_provider_code or "",
            f"{state} (cycle {r.cycle})",
            r.running or "",
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)  # pipes get full rows, not '…'
    for r in rows:
        if r.problem:
            typer.echo(f"warning: {r.problem}", err=True)


def reset(
    account: str = typer.Option(..., "--account", help="Sheet nickname of the account, e.g. ABC."),
    step: str = typer.Option(..., "--step", help="step2, step3, …"),
    server: str | None = typer.Option(None, "--server", help="Server (final_group), e.g. 서버2-1."),
    failed_only: bool = typer.Option(False, "--failed-only", help="Only make failed units pending again."),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    state_dir: Path = STATE_DIR_OPTION,
) -> None:
    """Archive an account's progress (or only retry its failed units). Refused while the account runs."""
    path = progress_path(state_dir, account, step, server)
    if not path.exists():
        where = f" server {server}" if server else ""
        raise UserError(f"no progress for account {account} {step}{where}: {path} does not exist")
    what = "turn the failed units of" if failed_only else "archive and clear the progress of"
    question = f"{what} {account} {step}{' ' + server if server else ''}?"
    if not yes:
        if not sys.stdin or not sys.stdin.isatty():
            raise UserError(
                f"reset needs confirmation: pass --yes to {question[:-1]} (stdin is not a terminal)"
            )
        if not typer.confirm(question[0].upper() + question[1:], default=False):
            raise typer.Exit(1)
    with AccountLock(state_dir, account, f"reset {step}"):
        store = ProgressStore.open(state_dir, account, step, server)
        if failed_only:
            n = store.reset_failed()
            store.close()
            typer.echo(f"{n} failed unit(s) of {account} {step} are pending again")
        else:
            archived = store.archive_and_remove()
            typer.echo(f"progress of {account} {step} archived to {archived}")


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("status")(status)
    app.command("reset")(reset)
