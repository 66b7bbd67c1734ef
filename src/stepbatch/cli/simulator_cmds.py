"""`stepbatch simulator` (serve the local back office) and `stepbatch simulator verify`."""

from __future__ import annotations

from pathlib import Path

import typer

from stepbatch.errors import EXIT_PROBLEMS

sim_app = typer.Typer(
    help="The bundled Percenty-like back office (local, no account needed).",
    no_args_is_help=False,
    invoke_without_command=True,
)

_ENV = "STEPBATCH_SIM_"


@sim_app.callback()
def simulator(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to bind (keep 127.0.0.1 unless you mean it)."),
    port: int = typer.Option(0, help="Port; 0 picks a free one."),
    db: Path = typer.Option(Path("stepbatch-sim.db"), help="SQLite database; created and seeded when new."),
    workbook: Path | None = typer.Option(None, help="Workbook whose accounts and codes seed a new database."),
    seed: int = typer.Option(1, help="Random seed for the generated products."),
    latency_ms: float | None = typer.Option(
        None, envvar=_ENV + "LATENCY_MS", help="Mean added latency (±50%)."
    ),
    error_rate: float | None = typer.Option(
        None, envvar=_ENV + "ERROR_RATE", help="Share of API calls → 503."
    ),
    session_expiry_min: float | None = typer.Option(
        None, envvar=_ENV + "SESSION_EXPIRY_MIN", help="Sessions expire after this many minutes."
    ),
    login_popup: bool | None = typer.Option(
        None, "--login-popup/--no-login-popup", envvar=_ENV + "LOGIN_POPUP", help="Notice modal after login."
    ),
    popup_rate: float | None = typer.Option(
        None, envvar=_ENV + "POPUP_RATE", help="Chance of a marketing modal after each action."
    ),
    channel_talk: bool | None = typer.Option(
        None,
        "--channel-talk/--no-channel-talk",
        envvar=_ENV + "CHANNEL_TALK",
        help="Channel Talk widget over the bottom-right corner.",
    ),
    linger_modal_ms: int | None = typer.Option(
        None, envvar=_ENV + "LINGER_MODAL_MS", help="Closed modals' wraps linger and catch clicks this long."
    ),
    translation_credits: int | None = typer.Option(
        None, envvar=_ENV + "TRANSLATION_CREDITS", help="Image-translation credits per account."
    ),
    leak_mb_per_action: float | None = typer.Option(
        None, envvar=_ENV + "LEAK_MB_PER_ACTION", help="The page retains this much JS heap per action."
    ),
    translate_ms: int | None = typer.Option(
        None, envvar=_ENV + "TRANSLATE_MS", help="How long one translation keeps the button busy."
    ),
    editor_opens_first: bool | None = typer.Option(
        None,
        "--editor-opens-first/--editor-opens-at-card",
        envvar=_ENV + "EDITOR_OPENS_FIRST",
        help="Variant: the image editor opens on image 1 (or on the card whose 편집하기 was clicked).",
    ),
    keep_tabs_mounted: bool | None = typer.Option(
        None,
        "--keep-tabs-mounted/--unmount-tabs",
        envvar=_ENV + "KEEP_TABS_MOUNTED",
        help="Variant: the edit drawer keeps the other tabs' content in the page, hidden.",
    ),
    thumb_click_moves: bool | None = typer.Option(
        None,
        "--thumb-click-moves/--thumb-click-inert",
        envvar=_ENV + "THUMB_CLICK_MOVES",
        help="Variant: a click on an image editor strip thumb shows that image (or does nothing).",
    ),
    tab_wraps: bool | None = typer.Option(
        None,
        "--tab-wraps/--tab-stops",
        envvar=_ENV + "TAB_WRAPS",
        help="Variant: TAB on the editor's last image goes to the first (or stays).",
    ),
    translate_loading: bool | None = typer.Option(
        None,
        "--translate-loading/--translate-no-loading",
        envvar=_ENV + "TRANSLATE_LOADING",
        help="Variant: a translate press shows the button's loading state (or never does).",
    ),
    rename_element: str | None = typer.Option(
        None,
        envvar=_ENV + "RENAME_ELEMENT",
        help="To test `stepbatch probe`, break one of: bulk-edit, translate, thumb, source, group-assign.",
    ),
) -> None:
    """Serve the simulator until stopped (Ctrl+C). Prints `simulator running at URL` when ready."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from stepbatch.simulator.app import create_app
    from stepbatch.simulator.faults import Faults

    faults = Faults.from_env(
        {},
        latency_ms=latency_ms,
        error_rate=error_rate,
        session_expiry_min=session_expiry_min,
        login_popup=login_popup,
        popup_rate=popup_rate,
        channel_talk=channel_talk,
        linger_modal_ms=linger_modal_ms,
        translation_credits=translation_credits,
        leak_mb_per_action=leak_mb_per_action,
        translate_ms=translate_ms,
        editor_opens_first=editor_opens_first,
        keep_tabs_mounted=keep_tabs_mounted,
        thumb_click_moves=thumb_click_moves,
        tab_wraps=tab_wraps,
        translate_loading=translate_loading,
        rename_element=rename_element,
    )
    if workbook is not None and not workbook.is_file():
        from stepbatch.errors import UserError

        raise UserError(f"--workbook {workbook}: no such file")
    app = create_app(db, workbook, seed, faults)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    _announce_when_started(server, host)
    server.run()


def _announce_when_started(server: object, host: str) -> None:
    """Print the URL (with the real port) as soon as uvicorn listens."""
    import uvicorn

    assert isinstance(server, uvicorn.Server)
    original = server.startup

    async def startup(sockets: object = None) -> None:
        await original(sockets)  # type: ignore[arg-type]
        if server.started:
            port = server.servers[0].sockets[0].getsockname()[1]
            print(f"simulator running at http://{host}:{port}", flush=True)

    server.startup = startup  # type: ignore[method-assign]


@sim_app.command("verify")
def verify_cmd(
    db: Path = typer.Option(..., help="The simulator database to check."),
    workbook: Path = typer.Option(..., help="The workbook the run used."),
    step: str | None = typer.Option(None, help="Only this step's codes (step2 or step3)."),
    account: str | None = typer.Option(None, help="Only this account (email, nickname or account_N)."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="List every discrepancy."),
) -> None:
    """Check the end state and audit log against the workbook; exit 1 on any discrepancy."""
    from stepbatch.simulator.verify import verify

    result = verify(db, workbook, step=step, account=account)
    typer.echo(result.line())
    if verbose:
        for d in result.details:
            typer.echo("  " + d.line())
    if not result.ok:
        raise typer.Exit(EXIT_PROBLEMS)


def register(app: typer.Typer) -> None:
    """Add `simulator` and `simulator verify` to the app."""
    app.add_typer(sim_app, name="simulator")
