"""Shared helpers of the step-run benchmarks: a workbook with chosen ops, the simulator, one measured run."""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from openpyxl import load_workbook as load_xlsx

from _docs import BENCHMARKS_MD, replace_subsection
from stepbatch.app.run import RunRequest, run_one
from stepbatch.engine.options import RunOptions
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, running_simulator
from stepbatch.simulator.verify import verify
from stepbatch.workbook import write_sample_workbook

__all__ = [
    "BENCHMARKS_MD",
    "COMMAND_HEADERS",
    "SECTION",
    "Sim",
    "bench_workbook",
    "median",
    "run_step",
    "simulator",
    "table",
    "write_section",
]

COMMAND_HEADERS = (
    "image_delete",
    "thumbnail_delete",
    "option_image_copy",
    "image_translate",
    "image_tag_insert",
    "html_update",
    "thumbnail_translate",
    "optionimage_translate",
)
SECTION = "## Step runs"


def bench_workbook(
    folder: Path, codes: int, *, ops: dict[str, str] | None, step2_share: float = 0.0, seed: int = 11
) -> Path:
    """A one-account sample workbook; with `ops`, every step3 row gets exactly those commands."""
    path = write_sample_workbook(
        folder / "bench.xlsx", accounts=1, codes=codes, seed=seed, step2_share=step2_share, force=True
    )
    if ops is None:
        return path
    book = load_xlsx(path)
    for sheet in book.worksheets:
        header = [str(c.value or "").strip() for c in sheet[1]]
        if "provider_code" not in header:
            continue
        step_col = next(i for i, h in enumerate(header) if "step" in h.lower() and "step2" in h.lower())
        for row in sheet.iter_rows(min_row=2):
            if str(row[step_col].value or "").strip() != "step3":
                continue
            for name in COMMAND_HEADERS:
                if name in header:
                    row[header.index(name)].value = ops.get(name)
    book.save(path)
    return path


@contextmanager
def simulator(folder: Path, workbook: Path, faults: Faults, per_code: int) -> Iterator[Sim]:
    """The simulator over `workbook` with `per_code` products a code (`running_simulator`)."""
    with running_simulator(folder, workbook, faults, per_code=per_code) as sim:
        yield sim


def run_step(sim: Sim, step: str, state: Path, **options: object) -> dict:
    """One `stepbatch run` in this process; returns its summary.json (plus `products_per_min`)."""
    req = RunRequest(
        step=step,
        workbook=sim.workbook,
        account=sim.book.accounts[0].email,
        base_url=sim.url,
        state_dir=state,
        options=RunOptions(step=step, **options),
    )  # type: ignore[arg-type]
    t0 = time.perf_counter()
    code = run_one(req, out=io.StringIO(), live=False)
    wall = time.perf_counter() - t0
    summary = json.loads(
        sorted(state.glob("runs/*/summary.json"), key=lambda p: p.stat().st_mtime)[-1].read_text(
            encoding="utf-8"
        )
    )
    summary["exit"] = code
    summary["wall_s"] = wall
    summary["products_per_min"] = (
        summary["items_done"] / summary["duration_s"] * 60 if summary["duration_s"] else 0
    )
    summary["verified"] = verify(sim.db_path, sim.workbook, step=step).line()
    return summary


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def write_section(part: str, body: str) -> None:
    """Replace `### <part>` inside `## Step runs` of docs/benchmarks.md (other sections untouched)."""
    replace_subsection(SECTION, part, body, BENCHMARKS_MD)


def table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
