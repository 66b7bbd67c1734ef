"""`stepbatch probe` (thin: parse, call stepbatch.app.probe)."""

from __future__ import annotations

from pathlib import Path

import typer

from stepbatch.errors import UserError


def register(app: typer.Typer) -> None:
    """Add this module's command to the app."""
    app.command(name="probe")(probe)


def probe(
    workbook: Path | None = typer.Option(
        None, "--workbook", "-w", help="the operators' task workbook (.xlsx)"
    ),
    account: str | None = typer.Option(
        None, "--account", "-a", help="login email, sheet nickname or account_N"
    ),
    base_url: str | None = typer.Option(None, "--base-url", help="site URL (default: the real Percenty)"),
    server: str | None = typer.Option(None, "--server", "-s", help="only this final_group's step3 codes"),
    headed: bool = typer.Option(False, "--headed", help="show the browser window"),
    out: Path | None = typer.Option(
        None, "--out", help="screenshots, sanitized HTML, probe.json (./stepbatch-probe/<timestamp>)"
    ),
    chrome_binary: Path | None = typer.Option(None, "--chrome-binary", help="Chrome/Chromium executable"),
) -> None:
    """Read-only check that every element the automation relies on is found on the site (changes nothing)."""
    from stepbatch.app.probe import DEFAULT_BASE_URL, ProbeRequest, run_probe

    if workbook is None:
        raise UserError("--workbook is required")
    req = ProbeRequest(
        workbook=workbook,
        account=account,
        server=server,
        base_url=base_url or DEFAULT_BASE_URL,
        headed=headed,
        out=out,
        chrome_binary=chrome_binary,
    )
    raise typer.Exit(run_probe(req))
