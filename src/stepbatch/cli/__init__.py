"""The `stepbatch` command. Thin: each module in this package parses arguments and calls library code."""

from __future__ import annotations

import sys

import typer

from stepbatch.errors import UserError

try:  # recent typer vendors click; its usage errors are these classes
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer on top of click
    from click.exceptions import NoArgsIsHelpError, UsageError
from stepbatch.workbook.models import WorkbookError

app = typer.Typer(
    name="stepbatch",
    help="Crash-safe batch runner for Percenty step2/step3 automations, with a bundled simulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register_commands() -> None:
    from stepbatch.cli import (
        cluster_cmds,
        control_cmds,
        probe_cmds,
        report_cmds,
        run_cmds,
        simulator_cmds,
        state_cmds,
        web_cmds,
        workbook_cmds,
    )

    modules = (
        workbook_cmds,
        state_cmds,
        simulator_cmds,
        run_cmds,
        report_cmds,
        probe_cmds,
        cluster_cmds,
        web_cmds,
    )
    modules += (control_cmds,)
    for module in modules:
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
        code = app(standalone_mode=False, prog_name="stepbatch")
    except NoArgsIsHelpError as exc:  # `stepbatch` alone: the help, as before
        print(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(0)
    except UsageError as exc:  # bad option/argument: one line, not click's multi-line box
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        message = " ".join(exc.format_message().split())
        print(f"error: {where}{message} (see --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # the environment failed us (disk full, permissions): one line, no traceback
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
