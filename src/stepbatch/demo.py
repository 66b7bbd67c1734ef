"""`stepbatch demo`: the whole tool on the bundled simulator, verified at the end, its files kept.

A sample workbook (2 accounts, 15 codes each) seeds a fresh simulator on a free port; step2 then step3
run for both accounts with a small batch size, so browser restarts happen; the simulator's audit log is
verified (`verified N products: 0 missing, 0 repeated, 0 unexpected`). Exit 0 only when it passes.

Everything stays in the demo folder (`./stepbatch-demo` unless `--dir`): the workbook, the simulator's
database and the state folder, with one run folder (and its report.html) per run. A folder holding an
earlier demo is only used again with `--fresh`, which clears that demo first; the demo's last lines list
the reports and the commands that show the status and reopen a report.
"""

from __future__ import annotations

import os
import shutil
import sys
import webbrowser
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from stepbatch.errors import EXIT_LOCKED, EXIT_OK, EXIT_PROBLEMS, UserError
from stepbatch.text import plural
from stepbatch.workbook import Workbook

STEPS = ("step2", "step3")
# Products per code: step2 codes get many (one passes a page of 50, they move in bulk), step3 codes a
# few (each product is edited one by one), so the whole demo takes a few minutes.
STEP2_COUNTS = (55, 23, 38, 12, 30)
STEP3_COUNTS = (2, 3, 1, 4, 2, 0, 3)
DEMO_FAULTS_TRANSLATE_MS = 100

DEFAULT_DIR = Path("stepbatch-demo")
WORKBOOK_NAME = "demo-workbook.xlsx"
DB_NAME = "simulator.db"  # plus its -wal / -shm files
STATE_NAME = "state"
LOCK_NAME = ".stepbatch-demo.lock"
_SHELL_SPECIAL = set(" \t&()[]{};'$`!*?<>|#~")


@dataclass(frozen=True)
class DemoSize:
    """How much work the demo does (`accounts` and `products_per_code` are hidden options, for tests)."""

    accounts: int = 2
    codes: int = 15
    batch_size: int = 3
    products_per_code: int | None = None  # at most this many seeded products per code

    def check(self) -> None:
        values = {
            "--batch-size": self.batch_size,
            "--codes": self.codes,
            "--accounts": self.accounts,
            "--products-per-code": self.products_per_code,
        }
        for flag, value in values.items():
            if value is not None and value < 1:
                raise UserError(f"{flag} must be greater than 0, got {value}")


def demo_counts(book: Workbook, cap: int | None = None) -> dict[str, int]:
    counts: dict[str, int] = {}
    for account in book.accounts:
        for i, unit in enumerate(book.units(account, "step2")):
            counts[unit.provider_code] = STEP2_COUNTS[i % len(STEP2_COUNTS)]
        for i, unit in enumerate(book.units(account, "step3")):
            counts[unit.provider_code] = STEP3_COUNTS[i % len(STEP3_COUNTS)]
    return {code: min(n, cap) for code, n in counts.items()} if cap else counts


def run_demo(
    folder: Path | None = None,
    *,
    fresh: bool = False,
    open_report: bool = False,
    size: DemoSize | None = None,
    headed: bool = False,
    out: TextIO | None = None,
    live: bool | None = None,
) -> int:
    """The demo in `folder` (default ./stepbatch-demo), kept afterwards; returns the exit code."""
    from stepbatch.workbook import write_sample_workbook

    out = out or sys.stdout
    size = size or DemoSize()
    size.check()
    folder = Path(folder if folder is not None else DEFAULT_DIR).absolute()
    earlier = check_folder(folder, fresh=fresh)
    folder.mkdir(parents=True, exist_ok=True)
    with demo_lock(folder):
        if earlier:
            clear_earlier_demo(folder, earlier, out)
        out.write(f"demo folder: {folder} (workbook, simulator database, state and runs stay here)\n")
        workbook = write_sample_workbook(
            folder / WORKBOOK_NAME, accounts=size.accounts, codes=size.codes, seed=1
        )
        code = _run_and_verify(folder, workbook, size, headed=headed, out=out, live=live)
        print_ending(folder, out, open_report=open_report)
    return code


# --- the demo folder ------------------------------------------------------------------------------------


def earlier_entries(folder: Path) -> list[Path]:
    """The files an earlier demo left in `folder` (its lock file aside)."""
    if not folder.is_dir():
        return []
    names = (WORKBOOK_NAME, STATE_NAME)
    return sorted(p for p in folder.iterdir() if p.name in names or p.name.startswith(DB_NAME))


def check_folder(folder: Path, *, fresh: bool) -> list[Path]:
    """Refuse a folder that is not ours, or an earlier demo's without --fresh; returns what to clear."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"--dir {folder}: exists and is not a folder")
    earlier = earlier_entries(folder)
    if not earlier and folder.is_dir() and any(p.name != LOCK_NAME for p in folder.iterdir()):
        raise UserError(f"--dir {folder}: not empty and holds no earlier demo; choose a new or empty folder")
    if earlier and not fresh:
        raise UserError(
            f"{folder} holds an earlier demo: add --fresh to clear it and start again"
            " (make demo DEMO_ARGS=--fresh), or choose another folder with --dir"
        )
    return earlier


@contextmanager
def demo_lock(folder: Path) -> Iterator[None]:
    """One demo per folder at a time (so --fresh never clears a demo that is still running)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / LOCK_NAME))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise UserError(
            f"{folder}: another stepbatch demo is running in it; wait for it to end or choose --dir",
            exit_code=EXIT_LOCKED,
        ) from None
    try:
        yield
    finally:
        lock.release()


def clear_earlier_demo(folder: Path, entries: list[Path], out: TextIO) -> None:
    from stepbatch.report.runs import list_runs

    runs = len(list_runs(folder / STATE_NAME))
    names = ", ".join(p.name + ("/" if p.is_dir() else "") for p in entries)
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    out.write(f"--fresh: cleared the earlier demo in {folder} ({names}; {plural(runs, 'run')})\n")


# --- the runs -------------------------------------------------------------------------------------------


def _run_and_verify(
    folder: Path, workbook: Path, size: DemoSize, *, headed: bool, out: TextIO, live: bool | None
) -> int:
    from stepbatch.app.run import RunRequest, run_one
    from stepbatch.engine.options import RunOptions
    from stepbatch.simulator.faults import Faults
    from stepbatch.simulator.server import SimulatorServer
    from stepbatch.simulator.verify import verify
    from stepbatch.workbook import load_workbook

    book = load_workbook(workbook)
    state = folder / STATE_NAME
    faults = Faults(translate_ms=DEMO_FAULTS_TRANSLATE_MS)
    counts = demo_counts(book, size.products_per_code)
    with SimulatorServer(folder / DB_NAME, workbook, faults=faults, counts=counts) as sim:
        out.write(f"simulator at {sim.url}; workbook {workbook}; state in {state}\n")
        codes = []
        for step in STEPS:
            for account in book.accounts:
                out.write(f"\n== {step} for {account.nickname} ({account.email}) ==\n")
                out.flush()
                req = RunRequest(
                    step=step,
                    workbook=workbook,
                    account=account.email,
                    base_url=sim.url,
                    state_dir=state,
                    options=RunOptions(step=step, batch_size=size.batch_size),
                    headed=headed,
                )
                codes.append(run_one(req, out=out, live=live))
        result = verify(sim.db_path, workbook)
    out.write("\n" + result.line() + "\n")
    return EXIT_OK if result.ok and all(c == EXIT_OK for c in codes) else EXIT_PROBLEMS


# --- the last lines -------------------------------------------------------------------------------------


def print_ending(folder: Path, out: TextIO, *, open_report: bool = False) -> None:
    """Where the reports are (one line per run), then the commands for the status and a report."""
    from stepbatch.report.html import REPORT_NAME
    from stepbatch.report.runs import list_runs

    state = folder / STATE_NAME
    runs = list_runs(state)
    out.write(f"the demo's files stay in {folder}; {plural(len(runs), 'report')}, one per run:\n")
    for run in runs:
        report = run / REPORT_NAME
        out.write(f"  {report}\n" if report.is_file() else f"  {run} (no report.html: see its run.log)\n")
    cmd = command_name()
    out.write(f"status:      {cmd} status --state-dir {quote(str(state))}\n")
    out.write(f"open report: {cmd} report latest --state-dir {quote(str(state))} --open\n")
    if open_report:
        open_in_browser(runs[-1] / REPORT_NAME if runs else None, out)
    out.flush()


def command_name() -> str:
    """How to call stepbatch again from this shell: `stepbatch` when on PATH, else as it was called."""
    here = Path(sys.argv[0])
    on_path = shutil.which("stepbatch")
    if here.stem == "stepbatch":
        same = on_path is not None and _same_file(Path(on_path), here)
        return "stepbatch" if same else quote(str(here))
    return "stepbatch" if on_path else f"{quote(sys.executable)} -m stepbatch"


def _same_file(a: Path, b: Path) -> bool:
    """The same script (on Windows `which` may add `.exe` where argv[0] has none: same folder, then)."""
    try:
        return a.samefile(b)
    except OSError:
        return a.resolve().parent == b.resolve().parent


def quote(text: str) -> str:
    """Double quotes around a path that a shell (sh, cmd or PowerShell) would split or expand."""
    return f'"{text}"' if _SHELL_SPECIAL & set(text) else text


def has_display(environ: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Windows and macOS always have one; elsewhere an X11 or Wayland display must be set."""
    environ = os.environ if environ is None else environ
    platform = platform or sys.platform
    if platform in ("win32", "darwin"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_in_browser(
    report: Path | None,
    out: TextIO,
    *,
    environ: Mapping[str, str] | None = None,
    platform: str | None = None,
) -> bool:
    """--open: the report in the default browser; one line and no error when that cannot be done."""
    if report is None or not report.is_file():
        out.write("--open: the last run has no report.html to open\n")
        return False
    if not has_display(environ, platform):
        out.write("--open: no display here (DISPLAY and WAYLAND_DISPLAY are unset); not opening the report\n")
        return False
    if not webbrowser.open(report.resolve().as_uri()):
        out.write("--open: no web browser found; open the report path above by hand\n")
        return False
    out.write(f"opened {report} in the default browser\n")
    return True
