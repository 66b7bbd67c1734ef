"""`stepbatch run` and `stepbatch demo` (thin: parse, merge stepbatch.toml, call stepbatch.app / demo)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from stepbatch.engine.options import RunOptions, option_specs
from stepbatch.errors import UserError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command(name="run")(run_command())
    app.command(name="demo")(demo)


def run_command(options_type: type[RunOptions] = RunOptions) -> Callable[..., None]:
    """`run` with one command-line option per flag of `options_type`, after --base-url."""

    def command(**kwargs: Any) -> None:
        run(**kwargs, options_type=options_type)

    command.__doc__ = run.__doc__
    command.__signature__ = _run_signature(options_type)  # type: ignore[attr-defined]
    return command


def _run_signature(options_type: type[RunOptions]) -> inspect.Signature:
    own = inspect.signature(run, eval_str=True)
    plain = [p for p in own.parameters.values() if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD]
    at = next(i for i, p in enumerate(plain) if p.name == "base_url") + 1
    return own.replace(parameters=[*plain[:at], *_option_parameters(options_type), *plain[at:]])


def _option_parameters(options_type: type[RunOptions]) -> list[inspect.Parameter]:
    """Switches default to False, values to None (not given: stepbatch.toml or the field's default)."""
    parameters = []
    for spec in option_specs(options_type):
        if spec.flag is None:
            continue
        switch = spec.kind is bool
        parameters.append(
            inspect.Parameter(
                spec.name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=typer.Option(False if switch else None, spec.flag, help=spec.help),
                annotation=bool if switch else spec.kind | None,
            )
        )
    return parameters


def run(
    step: str = typer.Argument(..., help="step2, step3, or steps in order: step2,step3"),
    workbook: Path | None = typer.Option(
        None, "--workbook", "-w", help="the operators' task workbook (.xlsx)"
    ),
    account: str | None = typer.Option(
        None, "--account", "-a", help="login email, sheet nickname or account_N"
    ),
    accounts: str | None = typer.Option(None, "--accounts", help="`all`: every account, one process each"),
    parallel: int = typer.Option(1, "--parallel", help="with --accounts all: accounts run at once"),
    server: str | None = typer.Option(None, "--server", "-s", help="only this final_group (e.g. 서버2-1)"),
    base_url: str | None = typer.Option(None, "--base-url", help="site URL (default: the real Percenty)"),
    # here: the options of RunOptions (see run_command)
    headed: bool = typer.Option(False, "--headed", help="show the browser window"),
    chrome_binary: Path | None = typer.Option(None, "--chrome-binary", help="Chrome/Chromium executable"),
    browser: str | None = typer.Option(None, "--browser", help="playwright (default) or selenium"),
    processor: str | None = typer.Option(None, "--processor", help="plugin processor package.module:Class"),
    state_dir: Path | None = typer.Option(
        None, "--state-dir", help="progress/locks/runs (./stepbatch-state)"
    ),
    config: Path | None = typer.Option(None, "--config", help="stepbatch.toml (default: ./stepbatch.toml)"),
    summary_json: Path | None = typer.Option(None, "--summary-json", hidden=True),
    *,
    options_type: type[RunOptions] = RunOptions,
    **run_options: Any,
) -> None:
    """Run step2 or step3 (or step2,step3, in order) for one account (or --accounts all) in crash-safe
    batches."""
    from stepbatch.app.chain import parse_steps, run_steps, step_cli
    from stepbatch.app.run import DEFAULT_BASE_URL, DEFAULT_STATE_DIR, RunRequest
    from stepbatch.config import load_config

    cli = {name: None if value is False else value for name, value in run_options.items()}  # off: not given
    cli |= {
        "workbook": workbook,
        "account": account,
        "server": server,
        "state_dir": state_dir,
        "base_url": base_url,
        "headed": headed or None,
        "browser": browser,
        "chrome_binary": chrome_binary,
    }
    steps = parse_steps(step)
    settings = load_config(config, options_type=options_type)
    reqs = []
    for one in steps:  # each step with its own [stepN] settings and its own step-only flags
        options, extras = settings.resolve(one, step_cli(cli, one, steps, options_type))
        if extras.get("workbook") is None:
            raise UserError("--workbook is required (or `workbook` in stepbatch.toml)")
        reqs.append(
            RunRequest(
                step=one,
                workbook=Path(extras["workbook"]),
                account=extras.get("account"),
                all_accounts=bool(accounts),
                parallel=parallel,
                server=extras.get("server"),
                base_url=extras.get("base_url") or DEFAULT_BASE_URL,
                state_dir=Path(extras.get("state_dir") or DEFAULT_STATE_DIR),
                options=options,
                headed=bool(extras.get("headed")),
                chrome_binary=extras.get("chrome_binary"),
                browser=extras.get("browser") or "playwright",
                processor=processor,
                summary_json=summary_json,
                notify=settings.notify,
                config=config,
            )
        )
    if accounts is not None and accounts.lower() != "all":
        raise UserError(f"--accounts {accounts!r}: only `all` is supported (use --account for one)")
    if accounts and account:
        raise UserError("use either --account or --accounts all, not both")
    raise typer.Exit(run_steps(reqs))


def demo(
    folder: Path | None = typer.Option(
        None, "--dir", help="the demo's folder, kept afterwards (default: ./stepbatch-demo)"
    ),
    fresh: bool = typer.Option(False, "--fresh", help="clear an earlier demo in that folder first"),
    open_: bool = typer.Option(False, "--open", help="open the last run's report in the default browser"),
    batch_size: int = typer.Option(3, "--batch-size", help="codes per browser (small, so restarts happen)"),
    codes: int = typer.Option(15, "--codes", help="provider codes per account in the generated workbook"),
    headed: bool = typer.Option(False, "--headed", help="show the browser window"),
    accounts: int = typer.Option(2, "--accounts", hidden=True),
    products_per_code: int | None = typer.Option(None, "--products-per-code", hidden=True),
) -> None:
    """Start the simulator with a sample workbook, run step2 then step3 for both accounts, verify.

    The workbook, simulator database, state and run reports stay in the demo folder.
    """
    from stepbatch.demo import DemoSize, run_demo

    size = DemoSize(accounts, codes, batch_size, products_per_code)
    raise typer.Exit(run_demo(folder, fresh=fresh, open_report=open_, size=size, headed=headed))
