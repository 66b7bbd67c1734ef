"""The `stepbatch` command. Thin: each module in this package parses arguments and calls library code."""

from __future__ import annotations

import sys

import typer

from stepbatch.errors import UserError
from stepbatch.workbook.models import WorkbookError

app = typer.Typer(
    name="stepbatch",
    help="Crash-safe batch runner for Percenty step2/step3 automations, with a bundled simulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_commands() -> None:
    from stepbatch.cli import report_cmds, run_cmds, simulator_cmds, state_cmds, workbook_cmds

    for module in (workbook_cmds, state_cmds, simulator_cmds, run_cmds, report_cmds):
        module.register(app)


@app.callback()
def _root() -> None:
    """stepbatch: run Percenty step2/step3 in crash-safe batches."""


@app.command()
def version() -> None:
    """Print the stepbatch version."""
    from stepbatch import __version__

    typer.echo(__version__)


_register_commands()


def main() -> None:
    """Entry point: user mistakes become one line on stderr and an exit code, never a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower() not in ("utf-8", "utf8"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    try:
        app()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
