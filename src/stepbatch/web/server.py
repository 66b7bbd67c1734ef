"""Choosing the source, checking the address and token, and serving the page with uvicorn."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from starlette.applications import Starlette

from stepbatch.errors import UserError
from stepbatch.web.app import WebSettings, create_app
from stepbatch.web.security import check_bind, is_loopback

READY_PREFIX = "stepbatch web: serving "


@dataclass
class WebOptions:
    state_dir: Path | None = None
    db: str | None = None
    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None
    poll_ms: int = 2000
    stale_s: float = 30.0


def build_app(opts: WebOptions) -> tuple[Starlette, str]:
    """The app and the one line that says what it serves (the DSN redacted). UserError on a mistake."""
    check_bind(opts.host, opts.token)
    if opts.db and opts.state_dir is not None:
        raise UserError("give either --state-dir or --db, not both")
    secrets: list[str] = []
    if opts.db:
        from stepbatch.web.cluster import ClusterSource, dsn_password

        source = ClusterSource(opts.db, stale_s=opts.stale_s)
        secrets.append(dsn_password(opts.db) or "")
    else:
        from stepbatch.state.paths import DEFAULT_STATE_DIR
        from stepbatch.web.local import LocalSource

        state_dir = opts.state_dir if opts.state_dir is not None else DEFAULT_STATE_DIR
        if state_dir.exists() and not state_dir.is_dir():
            raise UserError(f"--state-dir {state_dir}: not a folder")
        source = LocalSource(state_dir)
    settings = WebSettings(
        token=opts.token,
        read_needs_token=not is_loopback(opts.host),
        secrets=[s for s in secrets if s],
        poll_ms=opts.poll_ms,
    )
    return create_app(source, settings), f"{source.mode} {source.describe()}"


def serve(opts: WebOptions, out: TextIO | None = None) -> None:
    """Serve until Ctrl+C; prints `stepbatch web: serving http://HOST:PORT/ (…)` once it listens."""
    import uvicorn

    out = out or sys.stdout
    app, what = build_app(opts)
    config = uvicorn.Config(app, host=opts.host, port=opts.port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    _announce_when_started(server, opts, what, out)
    server.run()


def _announce_when_started(server: object, opts: WebOptions, what: str, out: TextIO) -> None:
    """Wrap uvicorn's startup so the ready line carries the real port (port 0 picks a free one)."""
    original = server.startup  # type: ignore[attr-defined]

    async def startup(sockets: object = None) -> None:
        await original(sockets=sockets)
        servers = getattr(server, "servers", [])
        port = servers[0].sockets[0].getsockname()[1] if servers and servers[0].sockets else opts.port
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        actions = "actions on (token set)" if opts.token else "read-only (no token)"
        out.write(f"{READY_PREFIX}http://{host}:{port}/ ({what}; {actions})\n")
        out.flush()

    server.startup = startup  # type: ignore[attr-defined]
