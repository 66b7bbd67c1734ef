"""`stepbatch cancel` / `stepbatch requeue`: an operator's control of a cluster request (thin: parse, call
stepbatch.cluster.control). The database comes from --db or STEPBATCH_DB; its password is never printed."""

from __future__ import annotations

import typer

from stepbatch.cli.cluster_cmds import DB_ENV, DB_HELP, _cluster_extra, _dsn


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command(name="cancel")(cancel)
    app.command(name="requeue")(requeue)


ACCOUNT_OPTION = typer.Option(..., "--account", help="the account's nickname, as `status --db` shows it")
STEP_OPTION = typer.Option(..., "--step", help="step2 or step3")
DB_OPTION = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP)


def cancel(account: str = ACCOUNT_OPTION, step: str = STEP_OPTION, db: str | None = DB_OPTION) -> None:
    """Cancel a queued run at once, or ask a running one to stop at its next product (progress kept)."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.control import cancel_run

    typer.echo(cancel_run(dsn, account, step))


def requeue(account: str = ACCOUNT_OPTION, step: str = STEP_OPTION, db: str | None = DB_OPTION) -> None:
    """Queue a failed, partial or stopped run again; it resumes where it stopped (nothing repeated)."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.control import requeue_run

    typer.echo(requeue_run(dsn, account, step))
