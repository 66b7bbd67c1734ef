"""`stepbatch db init`, `submit`, `worker`, `status`: several machines sharing the work (thin: parse,
call stepbatch.cluster). The database comes from --db or STEPBATCH_DB; its password is never printed."""

from __future__ import annotations

import inspect
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from stepbatch.cli.run_cmds import _option_parameters
from stepbatch.engine.options import RunOptions
from stepbatch.errors import UserError

DB_ENV = "STEPBATCH_DB"
DB_HELP = f"PostgreSQL URL, e.g. postgresql://user:pass@host/db (or ${DB_ENV})"


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    db = typer.Typer(help="The cluster database (PostgreSQL).", no_args_is_help=True)
    db.command(name="init")(db_init)
    app.add_typer(db, name="db")
    app.command(name="submit")(submit_command())
    app.command(name="worker")(worker)
    from stepbatch.cli import schedule_cmds

    schedule_cmds.register(app)
    # `stepbatch status --db URL` is the local `status` command's cluster form (cli/state_cmds.py)


def _dsn(db: str | None) -> str:
    if not db:
        raise UserError(f"--db is required (or set {DB_ENV})")
    if not db.startswith(("postgresql://", "postgres://")) and "=" not in db:
        raise UserError("--db: expected a PostgreSQL URL such as postgresql://user:pass@host:5432/stepbatch")
    return db


def _cluster_extra() -> None:
    try:
        import procrastinate  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError:
        raise UserError("the cluster commands need the extra: pip install 'stepbatch[cluster]'") from None


def db_init(db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP)) -> None:
    """Create (or bring up to date) the queue's and stepbatch's tables. Safe to run again."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.db import redact_dsn
    from stepbatch.cluster.dbinit import init_database

    fresh, applied = init_database(dsn)
    queue = "queue schema created" if fresh else "queue schema present"
    done = f"migrations {', '.join(map(str, applied))} applied" if applied else "migrations up to date"
    typer.echo(f"{redact_dsn(dsn)}: {queue}; {done}")


def submit_command(options_type: type[RunOptions] = RunOptions) -> Callable[..., None]:
    """`submit` with one command-line option per flag of `options_type`, after --base-url."""

    def command(**kwargs: Any) -> None:
        submit(**kwargs, options_type=options_type)

    command.__doc__ = submit.__doc__
    command.__signature__ = submit_signature(options_type)  # type: ignore[attr-defined]
    return command


def submit_signature(options_type: type[RunOptions] = RunOptions) -> inspect.Signature:
    own = inspect.signature(submit, eval_str=True)
    plain = [p for p in own.parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    at = next(i for i, p in enumerate(plain) if p.name == "base_url") + 1
    return own.replace(parameters=[*plain[:at], *_option_parameters(options_type), *plain[at:]])


def submit(
    step: str = typer.Argument(..., help="step2, step3, or steps in order: step2,step3"),
    workbook: Path | None = typer.Option(None, "--workbook", "-w", help="the operators' task workbook"),
    accounts: str | None = typer.Option(None, "--accounts", help="`all`, or names: RTA,KBC"),
    server: str | None = typer.Option(None, "--server", "-s", help="only this final_group (e.g. 서버2-1)"),
    base_url: str | None = typer.Option(None, "--base-url", help="site URL (default: the real Percenty)"),
    # here: the options of RunOptions (see submit_command)
    password_env: bool = typer.Option(
        False, "--password-env", help="workers read STEPBATCH_PASSWORD_<NICKNAME>, not their workbook copy"
    ),
    config: Path | None = typer.Option(None, "--config", help="stepbatch.toml (default: ./stepbatch.toml)"),
    db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP),
    *,
    options_type: type[RunOptions] = RunOptions,
    **run_options: Any,
) -> None:
    """Queue one job per account (validated here; units stored with the job). Exit 3: already queued.
    Several steps (step2,step3): one chain per account, each step queued once the one before is done."""
    from dataclasses import replace

    values = {"workbook": workbook, "server": server, "base_url": base_url, "password_env": password_env}
    reqs = submit_requests_of(step, accounts, config, db or "", values, run_options, options_type)
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.chains import submit_chain
    from stepbatch.cluster.submit import submit as submit_requests

    reqs = [replace(req, dsn=dsn) for req in reqs]
    code = submit_requests(reqs[0], out=sys.stdout) if len(reqs) == 1 else submit_chain(reqs, out=sys.stdout)
    raise typer.Exit(code)


def submit_requests_of(
    step: str,
    accounts: str | None,
    config: Path | None,
    dsn: str,
    values: dict[str, Any],
    run_options: dict[str, Any],
    options_type: type[RunOptions] = RunOptions,
) -> list[Any]:
    """One SubmitRequest per step of `step` (`step3` or `step2,step3`), each with its own options."""
    from stepbatch.app.chain import parse_steps, step_cli
    from stepbatch.app.run import DEFAULT_BASE_URL
    from stepbatch.cluster.submit import SubmitRequest
    from stepbatch.config import load_config

    cli = {name: None if value is False else value for name, value in run_options.items()}
    cli |= {
        "workbook": values.get("workbook"),
        "server": values.get("server"),
        "base_url": values.get("base_url"),
    }
    steps = parse_steps(step)
    settings = load_config(config, options_type=options_type)
    reqs = []
    for one in steps:
        options, extras = settings.resolve(one, step_cli(cli, one, steps, options_type))
        if extras.get("workbook") is None:
            raise UserError("--workbook is required (or `workbook` in stepbatch.toml)")
        if not accounts:
            raise UserError("--accounts is required: `all`, or names such as RTA,KBC")
        reqs.append(
            SubmitRequest(
                step=one,
                workbook=Path(extras["workbook"]),
                accounts=accounts,
                dsn=dsn,
                base_url=extras.get("base_url") or DEFAULT_BASE_URL,
                server=extras.get("server"),
                options=options,
                password_env=bool(values.get("password_env")),
            )
        )
    return reqs


def worker(
    db: str | None = typer.Option(None, "--db", envvar=DB_ENV, help=DB_HELP),
    concurrency: int | None = typer.Option(
        None, "--concurrency", help="accounts at once (default: from cores and free memory)"
    ),
    name: str | None = typer.Option(None, "--name", help="this worker's name (default: host-pid)"),
    state_dir: Path = typer.Option(
        Path("stepbatch-worker"), "--state-dir", help="run folders, browser records (./stepbatch-worker)"
    ),
    lease_s: float = typer.Option(30.0, "--lease-s", help="renew the lease within this, else stop (30)"),
    stale_s: float = typer.Option(90.0, "--stale-s", help="take over an account silent this long (90)"),
    headed: bool = typer.Option(False, "--headed", help="show the browser windows"),
    chrome_binary: Path | None = typer.Option(None, "--chrome-binary", help="Chrome/Chromium executable"),
    browser: str = typer.Option("playwright", "--browser", help="playwright (default) or selenium"),
) -> None:
    """Run queued account jobs until SIGINT/SIGTERM (jobs in hand go back to the queue)."""
    dsn = _dsn(db)
    _cluster_extra()
    from stepbatch.cluster.worker import WorkerSettings, default_concurrency, default_name, run_worker

    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("procrastinate").setLevel(logging.WARNING)  # a line per reaper tick otherwise
    settings = WorkerSettings(
        dsn=dsn,
        name=name or default_name(),
        concurrency=concurrency if concurrency is not None else default_concurrency(),
        state_dir=state_dir,
        lease_s=lease_s,
        stale_s=stale_s,
        browser=browser,
        chrome_binary=chrome_binary,
        headed=headed,
    )
    raise typer.Exit(run_worker(settings))


def cluster_status(db: str, *, lease_s: float, as_json: bool) -> None:
    """Per account: its state, worker, progress, ETA, browser MB, heartbeat age, last error; then the
    workers (their heartbeats, jobs, browsers)."""
    dsn = _dsn(db)
    _cluster_extra()
    from dataclasses import asdict

    from stepbatch.cluster.status import collect, format_table
    from stepbatch.cluster.workers import collect_workers, format_workers

    rows = collect(dsn, lease_s=lease_s)
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=1, default=str))
        return
    typer.echo(format_table(rows) if rows else "no requests yet (stepbatch submit …)")
    workers = collect_workers(dsn)
    typer.echo(format_workers(workers) if workers else "no workers running (stepbatch worker --db …)")
