"""`stepbatch run`: check everything up front, then run one account (or every account) through the engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

import httpx

from stepbatch.app.preflight import (
    note_lines,
    problems_line,
    select_run_units,
    translation_gate,
    write_start_lines,
)
from stepbatch.app.processors import build_processor, check_step
from stepbatch.app.progress import ProgressDisplay
from stepbatch.config import NotifyConfig
from stepbatch.engine.options import OptionSpec, RunOptions, option_specs
from stepbatch.engine.protocol import BrowserFactory, StepProcessor
from stepbatch.errors import EXIT_OK, EXIT_PROBLEMS, EXIT_UNUSABLE, UserError
from stepbatch.text import plural
from stepbatch.workbook import Workbook, load_workbook
from stepbatch.workbook.models import Account, Unit, WorkbookError

DEFAULT_BASE_URL = "https://www.percenty.co.kr"
DEFAULT_STATE_DIR = Path("stepbatch-state")
PROBE_TIMEOUT_S = 5.0


@dataclass
class RunRequest:
    """Everything `stepbatch run` needs, after merging stepbatch.toml and the command line."""

    step: str
    workbook: Path
    account: str | None = None  # email, nickname or account_N
    all_accounts: bool = False
    parallel: int = 1
    server: str | None = None
    base_url: str = DEFAULT_BASE_URL
    state_dir: Path = DEFAULT_STATE_DIR
    options: RunOptions = field(default_factory=RunOptions)
    headed: bool = False
    chrome_binary: Path | None = None
    browser: str = "playwright"
    processor: str | None = None  # plugin `package.module:Class`
    summary_json: Path | None = None  # where a child process leaves its summary (--accounts all)
    notify: NotifyConfig | None = None  # [notify] of stepbatch.toml (STEPBATCH_NOTIFY wins)
    config: Path | None = None  # --config given: the children of --accounts all read the same file
    chained: bool = False  # one step of `run step2,step3`: lines name the step


# --- checks -------------------------------------------------------------------------------------------


def check_options(options: RunOptions) -> None:
    """One-line errors for option values that cannot work: the first bound broken (options that cannot
    be None first, as before), then an option given for a step it is not for."""
    specs = option_specs(type(options))
    for spec in sorted(specs, key=lambda s: s.optional):
        value = getattr(options, spec.name)
        if spec.bound is not None and value is not None and not spec.bound.allows(value):
            raise UserError(f"{spec.label} must be {spec.bound.words}, got {value:g}")
    for spec in specs:
        value = getattr(options, spec.name)
        if spec.step_only and value != spec.default and options.step != spec.step_only:
            raise UserError(
                f"{spec.label} ({spec.name} in stepbatch.toml) is for {spec.step_only} only, "
                f"not {options.step}; put it under [{spec.step_only}]"
            )


def probe_base_url(base_url: str) -> None:
    """A short HTTP request, so an unreachable site fails now rather than in the first batch."""
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UserError(f"--base-url {base_url!r}: expected an http(s) URL such as {DEFAULT_BASE_URL}")
    try:
        httpx.get(base_url, timeout=PROBE_TIMEOUT_S, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise UserError(f"--base-url {base_url}: cannot reach it ({type(exc).__name__}: {exc})") from None


def is_local(base_url: str) -> bool:
    return (urlparse(base_url).hostname or "") in ("127.0.0.1", "localhost", "::1")


def check_browser(kind: str, chrome_binary: Path | None) -> None:
    from stepbatch.browser.factory import BrowserOptions

    BrowserOptions(kind=kind, chrome_binary=chrome_binary).validate()
    if chrome_binary is None and sys.platform.startswith("linux"):
        from shutil import which

        if not any(which(name) for name in ("chromium", "chromium-browser", "google-chrome", "chrome")):
            raise UserError(
                "no Chromium or Chrome found: install it (`make chromium`) or pass --chrome-binary"
            )


def read_workbook(path: Path) -> Workbook:
    if not Path(path).is_file():
        raise UserError(f"--workbook {path}: file not found")
    return load_workbook(path)


def select_units(book: Workbook, account: Account, step: str, server: str | None) -> list[Unit]:
    """The account's units of `step`; workbook errors in those rows → one line listing the first ones."""
    try:
        return book.units(account, step, server)
    except WorkbookError:
        problems = [p for p in book.selection_problems(account, step, server) if p.is_error]
        if not problems:
            raise
        raise UserError(problems_line(book, account, step, problems)) from None


# --- one account ----------------------------------------------------------------------------------------


@dataclass
class AccountRig:
    """What runs one account here: its processor, its browser factory, the leftover browsers ended."""

    processor: StepProcessor
    browser_factory: BrowserFactory
    killed: list[int]


def account_rig(req: RunRequest, account: Account) -> AccountRig:
    """Build the processor, check the browser and the site, end the account's leftover browsers, and
    make the browser factory (printing nothing): `run_one`'s set-up, shared with `stepbatch worker`."""
    from stepbatch.browser.factory import BrowserOptions, browser_factory
    from stepbatch.browser.orphans import kill_recorded_orphans

    processor = build_processor(
        req.step,
        req.base_url,
        plugin=req.processor,
        max_products_per_code=req.options.max_products_per_code,
        translate_all=req.options.translate_all,
    )
    check_browser(req.browser, req.chrome_binary)
    probe_base_url(req.base_url)
    state_dir = Path(req.state_dir)
    killed = kill_recorded_orphans(state_dir, account.nickname)
    factory = browser_factory(
        BrowserOptions(
            kind=req.browser,
            headless=not req.headed,
            chrome_binary=req.chrome_binary,
            offline=is_local(req.base_url),
            state_dir=state_dir,
            account=account.nickname,
        )
    )
    return AccountRig(processor, factory, killed)


def run_one(req: RunRequest, *, out: TextIO | None = None, live: bool | None = None) -> int:
    """Check, then run one account; prints progress and the summary; returns the exit code."""
    from stepbatch.engine.runner import default_resume_hint, run_account
    from stepbatch.report.html import write_report_quietly
    from stepbatch.report.notify import Notifier

    out = out or sys.stdout
    check_step(req.step)
    check_options(req.options)
    book = read_workbook(req.workbook)
    if not req.account:
        raise UserError("--account is required (or --accounts all)")
    account = book.account(req.account)
    selection = select_run_units(book, account, req.step, req.server, skip_invalid=req.options.skip_invalid)
    rig = account_rig(req, account)
    state_dir = Path(req.state_dir)
    if rig.killed:
        leftover = plural(len(rig.killed), "leftover browser process", "leftover browser processes")
        out.write(f"ended {leftover} of {account.nickname}\n")
    processor, factory = rig.processor, rig.browser_factory
    options = replace(req.options, step=req.step)
    gate = translation_gate(req.step, options.translate_all)
    write_start_lines(out, selection, gate)
    notifier = Notifier.from_config(req.notify, secrets=[account.password.reveal()])
    try:
        with ProgressDisplay(out, live=live) as display:
            summary = run_account(
                state_dir=state_dir,
                account=account,
                step=req.step,
                server=req.server,
                units=selection.units,
                processor=processor,
                browser_factory=factory,
                options=options,
                listeners=[display] + ([notifier] if notifier else []),
                skipped_rows=[row.to_dict() for row in selection.skipped],
                translation_gate=gate,
                resume_hint=with_flags(default_resume_hint(account, req.step, req.server), options),
            )
    finally:
        if notifier is not None:
            notifier.close()
    report = write_report_quietly(summary.run_dir)
    out.write(format_summary(summary) + "\n")
    if report is not None:
        out.write(f"  report: {report}\n")
    if req.summary_json is not None:
        Path(req.summary_json).write_text(
            json.dumps(summary.to_dict(), ensure_ascii=False, default=str), encoding="utf-8"
        )
    return summary.exit_code


def with_flags(hint: str, options: RunOptions) -> str:
    """The resume command keeps the flags that change what runs (`… --skip-invalid …`)."""
    shown = [
        arg
        for spec in option_specs(type(options))
        if spec.resume
        for arg in spec.command_line(getattr(options, spec.name))
    ]
    if not shown:
        return hint
    head, dots = (hint[:-2], " …") if hint.endswith(" …") else (hint, "")
    return " ".join([head, *shown]) + dots


def format_summary(summary: Any) -> str:
    s = summary
    lines = [
        f"{s.account} {s.step}{' ' + s.server if s.server else ''}: {s.outcome}"
        + (f" ({s.stop_reason})" if s.stop_reason else ""),
        f"  codes: {s.units_done} done, {s.units_partial} partial, {s.units_failed} failed"
        f" of {s.units_total} ({s.units_planned} planned this run)",
        f"  products: {s.items_done} done, {s.items_failed} failed",
        *note_lines(
            s.step,
            getattr(s, "skipped_rows", []),
            getattr(s, "notes", {}),
            getattr(s, "translation_gate", None),
        ),
        f"  batches: {s.batches_run}/{s.batches_planned}; browser restarts: "
        + (", ".join(f"{k} {v}" for k, v in sorted(s.restarts.items())) or "none")
        + f"; retries: {sum(s.retries.values()) if s.retries else 0}; relogins: {s.relogins}",
        f"  peak browser memory: {s.peak_memory_mb:.0f} MB"
        if s.peak_memory_mb
        else "  peak browser memory: -",
        f"  duration: {s.duration_s:.1f}s; run folder: {s.run_dir}",
    ]
    if s.message:
        lines.append(f"  {s.message}")
    lines += [f"  error: {e}" for e in s.errors[:5]]
    if s.resume_hint and s.outcome != "complete":
        lines.append(f"  resume with: {s.resume_hint}")
    return "\n".join(lines)


# --- every account --------------------------------------------------------------------------------------


@dataclass
class AccountResult:
    account: str
    exit_code: int
    summary: dict[str, Any] | None
    output_tail: str = ""
    step: str = ""  # set in a chain's table (one row per account × step)
    ran: bool = True  # False: a chain's step left out (the note says why)


def child_command(req: RunRequest, account: str, summary_json: Path) -> list[str]:
    """`stepbatch run … --account X` for one account, every setting spelled out (every option value
    that is not None, every switch that is on; in the order of the hand-written list it replaced)."""
    specs = option_specs(type(req.options))
    values = [s for s in specs if s.kind is not bool and not s.optional]
    optional_values = [s for s in specs if s.kind is not bool and s.optional]
    switches = [s for s in specs if s.kind is bool]

    def spelled(group: list[OptionSpec]) -> list[str]:
        return [arg for spec in group for arg in spec.command_line(getattr(req.options, spec.name))]

    cmd = [sys.executable, "-m", "stepbatch", "run", req.step, "--workbook", str(req.workbook)]
    cmd += ["--account", account, "--base-url", req.base_url, "--state-dir", str(req.state_dir)]
    cmd += [*spelled(values), "--browser", req.browser, "--summary-json", str(summary_json)]
    cmd += ["--server", req.server] if req.server is not None else []
    cmd += spelled(optional_values)
    extra = {"--chrome-binary": req.chrome_binary, "--processor": req.processor}
    cmd += [arg for flag, value in extra.items() if value is not None for arg in (flag, str(value))]
    cmd += spelled(switches) + (["--headed"] if req.headed else [])
    # Options left "off" and the config-only ones (backoff) must come from the same file as the parent's.
    cmd += ["--config", str(Path(req.config).resolve())] if req.config is not None else []
    return cmd


def run_child(req: RunRequest, account: Account, folder: Path, out: TextIO) -> AccountResult:
    """`stepbatch run <req.step> --account <account>` in its own process; its exit code and summary."""
    summary_path = Path(folder) / f"{account.virtual_id}-{req.step}.json"
    cmd = child_command(req, account.email, summary_path)
    step = f" {req.step}" if req.chained else ""
    out.write(f"starting {account.nickname} ({account.email}){step}\n")
    out.flush()
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", errors="replace", env=env, check=False
    )
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.is_file() else None
    tail = (proc.stderr or proc.stdout or "").strip().splitlines()
    result = AccountResult(account.nickname, proc.returncode, summary, tail[-1] if tail else "")
    out.write(f"finished {account.nickname}{step}: exit {proc.returncode}\n")
    out.flush()
    return result


def check_all(req: RunRequest) -> Workbook:
    """`run_all`'s checks before any account starts; returns the workbook."""
    check_step(req.step)
    check_options(req.options)
    if req.parallel < 1:
        raise UserError(f"--parallel must be at least 1, got {req.parallel}")
    book = read_workbook(req.workbook)
    if not book.accounts:
        raise UserError(f"--workbook {req.workbook}: no accounts in login_id")
    check_browser(req.browser, req.chrome_binary)
    probe_base_url(req.base_url)
    return book


def run_all(req: RunRequest, *, out: TextIO | None = None) -> int:
    """Every account of the workbook, each in its own process; `parallel` at a time; a result table."""
    out = out or sys.stdout
    book = check_all(req)
    with (
        tempfile.TemporaryDirectory(prefix="stepbatch-accounts-") as tmp,
        ThreadPoolExecutor(max_workers=req.parallel) as pool,
    ):
        results = list(pool.map(lambda account: run_child(req, account, Path(tmp), out), book.accounts))
    out.write(format_account_table(results) + "\n")
    return combined_exit([r.exit_code for r in results])


def combined_exit(codes: list[int]) -> int:
    """0 when all are 0; 2 when all are 2; else the worst (highest) non-zero code."""
    if all(c == EXIT_OK for c in codes):
        return EXIT_OK
    return (
        EXIT_UNUSABLE
        if all(c == EXIT_UNUSABLE for c in codes)
        else max((c for c in codes if c != EXIT_OK), default=EXIT_PROBLEMS)
    )


def format_account_table(results: list[AccountResult]) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    table = Table(title="accounts")
    steps = any(r.step for r in results)
    columns = ("account", *(["step"] if steps else []), "exit", "outcome", "codes done", "partial", "failed")
    for column in (*columns, "products", "note"):
        table.add_column(column)
    for r in results:
        s = r.summary or {}
        table.add_row(
            r.account,
            *([r.step] if steps else []),
            str(r.exit_code) if r.ran else "-",
            str(s.get("outcome", "-")),
            str(s.get("units_done", "-")),
            str(s.get("units_partial", "-")),
            str(s.get("units_failed", "-")),
            str(s.get("items_done", "-")),
            "" if s else r.output_tail[:80],
        )
    buffer = StringIO()
    Console(file=buffer, width=120, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def option_field_names() -> set[str]:
    return {spec.name for spec in option_specs()}
