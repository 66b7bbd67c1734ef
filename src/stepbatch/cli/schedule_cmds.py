"""`stepbatch schedule add|list|remove`: a submit on a cron line, fired by the workers (thin: parse, call
stepbatch.cluster.schedules). The command after `--` is read exactly as `stepbatch submit` reads its own."""

from __future__ import annotations

from typing import Any

import typer

from stepbatch.cli.cluster_cmds import (
    DB_ENV,
    DB_HELP,
    _cluster_extra,
    _dsn,
    submit_requests_of,
    submit_signature,
)
from stepbatch.engine.options import RunOptions
from stepbatch.errors import UserError

COMMAND_WORDS = ("run", "submit")
EXAMPLE = "-- run step2,step3 --workbook WB --accounts all"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    schedule = typer.Typer(
        help="Submits on a timetable, fired by the workers (cluster).", no_args_is_help=True
    )
    schedule.command(name="add")(add)
    schedule.command(name="list")(list_schedules)
    schedule.command(name="remove")(remove)
    app.add_typer(schedule, name="schedule")


def add(
    command: list[str] = typer.Argument(None, help=f"after --, what to submit: {EXAMPLE}"),
    name: str = typer.Option(..., "--name", help="the schedule's name, e.g. morning"),
    cron: str = typer.Option(..., "--cron", help="minute hour day month weekday, e.g. '0 9 * * *'"),
    tz: str | None = typer.Option(
        None,
        "--tz",
        help="time zone of the cron line: Asia/Seoul, UTC+09:00 (default: this machine's offset)",
    ),
    db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP),
) -> None:
    """Store a submit that the workers make at every minute the cron line names (nothing on a mistake)."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.schedules import add_schedule

    words = list(command or [])
    reqs = parse_submit(words, dsn)
    typer.echo(add_schedule(dsn, name, cron, tz, reqs, words))


def parse_submit(words: list[str], dsn: str, options_type: type[RunOptions] = RunOptions) -> list[Any]:
    """The SubmitRequests (one per step) that `submit WORDS…` would make; one-line UserError otherwise."""
    from typer.main import get_command

    try:  # recent typer vendors click (as cli/__init__.py knows)
        from typer._click.exceptions import ClickException
    except ImportError:  # pragma: no cover - older typer on top of click
        from click.exceptions import ClickException

    args = words[1:] if words and words[0] in COMMAND_WORDS else list(words)
    if not args:
        raise UserError(f"schedule add: the command to submit goes after --, e.g. {EXAMPLE}")
    found: list[Any] = []
    named = ("step", "workbook", "accounts", "server", "base_url", "password_env", "config", "db")

    def capture(**kwargs: Any) -> None:
        values = {k: kwargs[k] for k in ("workbook", "server", "base_url", "password_env")}
        options = {k: v for k, v in kwargs.items() if k not in named}
        found.extend(
            submit_requests_of(
                kwargs["step"], kwargs["accounts"], kwargs["config"], dsn, values, options, options_type
            )
        )

    capture.__signature__ = submit_signature(options_type)  # type: ignore[attr-defined]
    parser = typer.Typer(add_completion=False)
    parser.command(name="run")(capture)
    try:
        get_command(parser).main(args, prog_name="run", standalone_mode=False)
    except ClickException as exc:
        raise UserError(f"schedule add: the command after --: {exc.format_message()}") from None
    if not found:
        raise UserError(f"schedule add: the command to submit goes after --, e.g. {EXAMPLE}")
    return found


def list_schedules(db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP)) -> None:
    """Every schedule: its cron line, next and last firing, what the last firing did, its command."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster import schedules

    rows = schedules.list_schedules(dsn)
    typer.echo(schedules.format_schedules(rows) if rows else "no schedules (stepbatch schedule add …)")


def remove(
    name: str = typer.Argument(..., help="the schedule's name"),
    db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP),
) -> None:
    """Delete a schedule (the requests it queued already stay queued)."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.schedules import remove_schedule

    typer.echo(remove_schedule(dsn, name))
