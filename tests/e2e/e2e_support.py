"""End-to-end helpers: a small workbook and the simulator served on 127.0.0.1 from a thread."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stepbatch.app.run import RunRequest
from stepbatch.engine.options import RunOptions
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, query, running_simulator, stepbatch_cli
from stepbatch.simulator.testing import simulator as simulator_server
from stepbatch.workbook import write_sample_workbook

__all__ = ["Sim", "query", "request", "run_command", "serve", "simulator", "small_workbook", "stepbatch_cli"]


@contextmanager
def serve(
    db_path: Path, workbook: Path, faults: Faults | None = None, counts: dict[str, int] | None = None
) -> Iterator[str]:
    server = simulator_server(
        db_path.parent, workbook, faults or Faults(), counts=counts, db_name=db_path.name
    )
    with server:
        yield server.url


def small_workbook(folder: Path, codes: int = 4, seed: int = 5) -> Path:
    return write_sample_workbook(folder / "tasks.xlsx", accounts=1, codes=codes, seed=seed, step2_share=0.3)


@contextmanager
def simulator(
    folder: Path, *, faults: Faults | None = None, per_code: int = 2, codes: int = 4, seed: int = 5
) -> Iterator[Sim]:
    """The sample workbook `small_workbook` served with `per_code` products a code."""
    workbook = small_workbook(folder, codes=codes, seed=seed)
    with running_simulator(folder, workbook, faults or Faults(translate_ms=30), per_code=per_code) as sim:
        yield sim


def request(sim: Sim, step: str, state_dir: Path, *, gate: bool = False, **options) -> RunRequest:
    """A run of the simulator's first account; step3 without the OCR translation gate unless `gate` (the
    gate has its own e2e tests, test_e2e_step3_semantics; here it would only add OCR time)."""
    account = sim.book.accounts[0]
    if step == "step3" and not gate:
        options.setdefault("translate_all", True)
    opts = RunOptions(
        step=step, batch_size=options.pop("batch_size", 2), backoff_base=0.2, backoff_max=1.0, **options
    )
    return RunRequest(
        step=step,
        workbook=sim.workbook,
        account=account.email,
        base_url=sim.url,
        state_dir=state_dir,
        options=opts,
    )


def run_command(
    step: str, workbook: Path, url: str, state_dir: Path, *options: str, gate: bool = False
) -> list[str]:
    """`stepbatch run STEP` against the simulator, for a separate Python process (step3 with
    --translate-all unless `gate`, as in `request`)."""
    where = ["--workbook", str(workbook), "--base-url", url, "--state-dir", str(state_dir)]
    no_gate = ["--translate-all"] if step == "step3" and not gate else []
    return [sys.executable, "-m", "stepbatch", "run", step, *where, *no_gate, *options]
