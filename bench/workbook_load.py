"""Benchmark: `load_workbook` on 100,000 task rows vs `pandas.read_excel` (openpyxl engine) on the same file.

Usage: .venv/bin/python bench/workbook_load.py [--runs 5] [--pandas-runs 3] [--no-write]

The workbook (4 accounts x 25,000 codes, seed 1) is generated once and cached in the temp folder.
Writes a `## Workbook load` section into docs/benchmarks.md (other sections are left alone).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _docs import BENCHMARKS_MD, replace_section
from stepbatch.workbook import load_workbook, write_sample_workbook

ROOT = Path(__file__).resolve().parent.parent
DOC = BENCHMARKS_MD
SECTION = "## Workbook load"
ACCOUNTS, CODES = 4, 25_000
TARGET_S, TARGET_RATIO = 2.0, 5.0


def cached_workbook() -> Path:
    folder = Path(tempfile.gettempdir()) / "stepbatch-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"workbook-{ACCOUNTS}x{CODES}-seed1.xlsx"
    if not path.exists():
        started = time.perf_counter()
        write_sample_workbook(path, accounts=ACCOUNTS, codes=CODES, seed=1)
        print(f"generated {path} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def time_runs(label: str, runs: int, load, check) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time shows the work when the machine is busy)."""
    walls, cpus = [], []
    for i in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        result = load()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
        check(result)  # outside the timing: the result is complete
        print(f"{label} run {i + 1}/{runs}: {walls[-1]:.2f} s wall, {cpus[-1]:.2f} s CPU", flush=True)
    return walls, cpus


def check_book(book) -> None:
    units = sum(len(book.units(a, s)) for a in book.accounts for s in ("step2", "step3"))
    assert units == ACCOUNTS * CODES and not book.problems, (units, book.problems[:3])


def read_pandas(path: Path):
    import pandas as pd

    return pd.read_excel(path, sheet_name=None, engine="openpyxl")  # the default engine today


def check_frames(frames) -> None:
    rows = sum(len(f) for name, f in frames.items() if name not in ("login_id", "guide"))
    assert rows == ACCOUNTS * CODES, rows


def render(
    path: Path,
    ours_runs: tuple[list[float], list[float]],
    theirs_runs: tuple[list[float], list[float]],
    command: str,
) -> str:
    (ours, ours_cpu), (theirs, theirs_cpu) = ours_runs, theirs_runs
    ours_m, theirs_m = statistics.median(ours), statistics.median(theirs)
    ours_c, theirs_c = statistics.median(ours_cpu), statistics.median(theirs_cpu)
    ratio = theirs_m / ours_m
    ok_time = "yes" if ours_m < TARGET_S else "NO"
    ok_ratio = "yes" if ratio >= TARGET_RATIO else "NO"
    size_mb = path.stat().st_size / 1e6
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "\n".join(
        [
            SECTION,
            "",
            f"Command: `{command}`",
            "",
            f"File: {ACCOUNTS} task sheets x {CODES:,} rows = {ACCOUNTS * CODES:,} task rows, 19 columns, "
            f"{size_mb:.1f} MB (written by `write_sample_workbook`, openpyxl inline strings).",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"load average {load:.1f} at the end of the run (the machine is shared).",
            "",
            "| reader | runs | median wall (s) | min wall (s) | max wall (s) | median CPU (s) |",
            "|---|---|---|---|---|---|",
            f"| `stepbatch.workbook.load_workbook` (calamine on 2 threads + full validation) | {len(ours)} | "
            f"{ours_m:.2f} | {min(ours):.2f} | {max(ours):.2f} | {ours_c:.2f} |",
            f"| `pandas.read_excel(sheet_name=None, engine='openpyxl')` (no validation) | {len(theirs)} | "
            f"{theirs_m:.2f} | {min(theirs):.2f} | {max(theirs):.2f} | {theirs_c:.2f} |",
            "",
            f"Speed-up (median wall): {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: {ok_ratio}); "
            f"CPU: {theirs_c / ours_c:.1f}x. "
            f"Median wall load {ours_m:.2f} s (target < {TARGET_S:.0f} s: {ok_time}).",
            "",
        ]
    )


def write_section(text: str) -> None:
    """Replace (or append) our section only; other engineers own the other sections."""
    replace_section(SECTION, text, DOC, tmp_tag="workbook")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--pandas-runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    if min(args.runs, args.pandas_runs) < 1:
        parser.error("--runs and --pandas-runs must be at least 1 (the table compares medians)")
    path = cached_workbook()
    ours = time_runs("load_workbook", args.runs, lambda: load_workbook(path), check_book)
    theirs = time_runs("pandas.read_excel", args.pandas_runs, lambda: read_pandas(path), check_frames)
    command = ".venv/bin/python bench/workbook_load.py" + "".join(
        f" {a}" for a in sys.argv[1:] if a != "--no-write"
    )
    text = render(path, ours, theirs, command)
    print(text)
    if not args.no_write:
        write_section(text)
        print(f"wrote the {SECTION!r} section of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
