"""`stepbatch report` and `stepbatch notify-test`."""

from __future__ import annotations

import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from stepbatch.config import load_config
from stepbatch.errors import EXIT_PROBLEMS, UserError

DEFAULT_STATE_DIR = Path("stepbatch-state")

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: ./stepbatch.toml when present).")
]


def report(
    run: Annotated[
        str, typer.Argument(help="Run id (or a unique prefix of one), a run folder, or 'latest'.")
    ] = "latest",
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--state-dir", help="State folder (default: state_dir in stepbatch.toml, else ./stepbatch-state)."
        ),
    ] = None,
    open_: Annotated[bool, typer.Option("--open", help="Open the report in the default browser.")] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the HTML here instead of <run>/report.html.")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Write the HTML report and summary.md of a run."""
    from stepbatch.report.html import SUMMARY_NAME, write_report
    from stepbatch.report.runs import find_run

    if state_dir is None:
        state_dir = load_config(config).run.get("state_dir") or DEFAULT_STATE_DIR
    run_dir = find_run(state_dir, run)
    html = write_report(run_dir, out)
    typer.echo(f"report: {html}")
    typer.echo(f"summary: {run_dir / SUMMARY_NAME}")
    if open_:
        webbrowser.open(html.resolve().as_uri())


def notify_test(
    url: Annotated[
        list[str] | None,
        typer.Option("--url", help="Test this apprise URL instead of the configured ones (repeatable)."),
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Send one test notification to each configured URL and say which worked."""
    from stepbatch.report.notify import ENV_VAR, configured_urls, send_test

    notify = load_config(config).notify
    urls = list(url or []) or configured_urls(notify)
    if not urls:
        raise UserError(
            f"no notification URL: set {ENV_VAR} or [notify] urls in stepbatch.toml, or pass --url"
        )
    results = send_test(urls, timeout_s=notify.timeout_s)
    for result in results:
        line = f"ok      {result.url}" if result.ok else f"FAILED  {result.url}: {result.detail}"
        typer.echo(line)
    if not all(r.ok for r in results):
        raise typer.Exit(EXIT_PROBLEMS)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("report")(report)
    app.command("notify-test")(notify_test)
