"""`stepbatch demo`: the whole tool on the bundled simulator, verified at the end.

A sample workbook (2 accounts, ~30 codes each) seeds a fresh simulator on a free port; step2 then step3
run for both accounts with a small batch size, so browser restarts happen; the simulator's audit log is
verified (`verified N products: 0 missing, 0 repeated, 0 unexpected`). Exit 0 only when it passes.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TextIO

from stepbatch.app.run import RunRequest, run_one
from stepbatch.engine.options import RunOptions
from stepbatch.errors import EXIT_OK, EXIT_PROBLEMS, UserError
from stepbatch.workbook import Workbook, load_workbook, write_sample_workbook

STEPS = ("step2", "step3")
# Products per code: step2 codes get many (one passes a page of 50, they move in bulk), step3 codes a
# few (each product is edited one by one), so the whole demo takes a few minutes.
STEP2_COUNTS = (55, 23, 38, 12, 30)
STEP3_COUNTS = (2, 3, 1, 4, 2, 0, 3)
DEMO_FAULTS_TRANSLATE_MS = 100


def demo_counts(book: Workbook) -> dict[str, int]:
    counts: dict[str, int] = {}
    for account in book.accounts:
        for i, unit in enumerate(book.units(account, "step2")):
            counts[unit.provider_code] = STEP2_COUNTS[i % len(STEP2_COUNTS)]
        for i, unit in enumerate(book.units(account, "step3")):
            counts[unit.provider_code] = STEP3_COUNTS[i % len(STEP3_COUNTS)]
    return counts


def run_demo(
    folder: Path | None = None,
    *,
    batch_size: int = 3,
    codes: int = 30,
    headed: bool = False,
    out: TextIO | None = None,
    live: bool | None = None,
) -> int:
    from stepbatch.simulator.faults import Faults
    from stepbatch.simulator.server import SimulatorServer
    from stepbatch.simulator.verify import verify

    out = out or sys.stdout
    if batch_size < 1:
        raise UserError(f"--batch-size must be greater than 0, got {batch_size}")
    if codes < 1:
        raise UserError(f"--codes must be greater than 0, got {codes}")
    with ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="stepbatch-demo-")))
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        workbook = folder / "demo-workbook.xlsx"
        if not workbook.exists():
            write_sample_workbook(workbook, accounts=2, codes=codes, seed=1)
        book = load_workbook(workbook)
        faults = Faults(translate_ms=DEMO_FAULTS_TRANSLATE_MS)
        sim = stack.enter_context(
            SimulatorServer(folder / "simulator.db", workbook, faults=faults, counts=demo_counts(book))
        )
        out.write(f"simulator at {sim.url}; workbook {workbook}; state in {folder / 'state'}\n")
        codes_run = []
        for step in STEPS:
            for account in book.accounts:
                out.write(f"\n== {step} for {account.nickname} ({account.email}) ==\n")
                out.flush()
                req = RunRequest(
                    step=step,
                    workbook=workbook,
                    account=account.email,
                    base_url=sim.url,
                    state_dir=folder / "state",
                    options=RunOptions(step=step, batch_size=batch_size),
                    headed=headed,
                )
                codes_run.append(run_one(req, out=out, live=live))
        result = verify(sim.db_path, workbook)
        out.write("\n" + _line(result) + "\n")
        ok = _ok(result) and all(code == EXIT_OK for code in codes_run)
        return EXIT_OK if ok else EXIT_PROBLEMS
    return EXIT_PROBLEMS


def _line(result: object) -> str:
    line = getattr(result, "line", None)
    return line() if callable(line) else str(line or result)


def _ok(result: object) -> bool:
    ok = getattr(result, "ok", None)
    return bool(ok() if callable(ok) else ok)
