"""`stepbatch web`: the live status page (thin: parse, call stepbatch.web)."""

from __future__ import annotations

from pathlib import Path

import typer

from stepbatch.web.security import TOKEN_ENV, resolve_token


def web(
    state_dir: Path | None = typer.Option(
        None, "--state-dir", help="state folder to show (default ./stepbatch-state)"
    ),
    db: str | None = typer.Option(
        None, "--db", help="the cluster's PostgreSQL URL: show its accounts and workers"
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (others need --token)"),
    port: int = typer.Option(8765, "--port", help="port (0: any free port)"),
    token: str | None = typer.Option(
        None, "--token", help=f"token for other machines and for cancel / re-queue (or ${TOKEN_ENV})"
    ),
    poll_s: float = typer.Option(2.0, "--poll-s", help="how often the page refreshes itself, in seconds"),
) -> None:
    """Serve a live status page: every account × step, its progress, memory, errors, report links."""
    from stepbatch.errors import UserError
    from stepbatch.web.server import WebOptions, serve

    if not 0 <= port <= 65535:
        raise UserError(f"--port {port}: expected 0..65535")
    if poll_s <= 0:
        raise UserError("--poll-s must be greater than 0")
    opts = WebOptions(
        state_dir=state_dir,
        db=db,
        host=host,
        port=port,
        token=resolve_token(token),
        poll_ms=max(200, round(poll_s * 1000)),
    )
    serve(opts)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("web")(web)
