"""Several accounts on one machine: products/min for `--parallel 1, 2, 3` over the same total work.

One workbook of N accounts (the sample's step3 command mix, no added latency, translations of
`--translate-ms`), run as `stepbatch run step3 --accounts all --parallel P` for each P over a fresh
simulator database each time, so every P does exactly the same work. Reports the wall time, products/min
over all accounts, and each account's peak browser memory (PSS of its browser tree, from its summary).

Usage: .venv/bin/python bench/parallel_sizing.py [--accounts 3] [--codes 2] [--per-code 2]
           [--parallel 1,2,3] [--doc]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import stepbatch.app.run as run_mod
from _docs import replace_subsection
from _stepbench import table
from stepbatch.app.run import RunRequest
from stepbatch.engine.options import RunOptions
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.verify import verify
from stepbatch.workbook import load_workbook, write_sample_workbook

SPEED_SECTION = "## Step3 speed"
HEADERS = [
    "--parallel",
    "products",
    "wall (s)",
    "products/min",
    "peak MB (max account)",
    "peak MB (mean account)",
    "verification",
]


def one_setting(folder: Path, workbook: Path, per_code: int, parallel: int, faults: Faults) -> dict:
    book = load_workbook(workbook)
    codes = {u.provider_code for a in book.accounts for u in book.units(a, "step3")}
    with SimulatorServer(
        folder / "sim.db", workbook, faults=faults, counts=dict.fromkeys(codes, per_code)
    ) as sim:
        req = RunRequest(
            step="step3",
            workbook=workbook,
            all_accounts=True,
            parallel=parallel,
            base_url=sim.url,
            state_dir=folder / "state",
            options=RunOptions(step="step3", batch_size=5),
        )  # type: ignore[arg-type]
        t0 = time.perf_counter()
        code, summaries = run_all_keeping_summaries(req)
        wall = time.perf_counter() - t0
        line = verify(sim.db_path, workbook, step="step3").line()
    return {
        "parallel": parallel,
        "exit": code,
        "wall": wall,
        "verified": line,
        "products": sum(int(s.get("items_done", 0)) for s in summaries),
        "peaks": [float(s.get("peak_memory_mb") or 0.0) for s in summaries],
    }


def run_all_keeping_summaries(req: RunRequest) -> tuple[int, list[dict]]:
    """`run_all`, keeping each account's summary (its products and peak memory) from its result table."""
    kept: list[dict] = []
    original = run_mod.format_account_table

    def keep(results: list) -> str:
        kept.extend(r.summary or {} for r in results)
        return original(results)

    run_mod.format_account_table = keep  # type: ignore[assignment]
    try:
        code = run_mod.run_all(req, out=io.StringIO())
    finally:
        run_mod.format_account_table = original  # type: ignore[assignment]
    return code, kept


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=3)
    ap.add_argument("--codes", type=int, default=2, help="step3 codes per account")
    ap.add_argument("--per-code", type=int, default=2)
    ap.add_argument("--parallel", default="1,2,3")
    ap.add_argument("--translate-ms", type=int, default=0)
    ap.add_argument("--doc", action="store_true")
    args = ap.parse_args()
    load_at_start = os.getloadavg()[0]
    faults = Faults(translate_ms=args.translate_ms)
    rows, results = [], []
    with tempfile.TemporaryDirectory(prefix="stepbatch-parallel-") as tmp_name:
        tmp = Path(tmp_name)
        for p in [int(x) for x in args.parallel.split(",")]:
            folder = tmp / f"p{p}"
            folder.mkdir()
            workbook = write_sample_workbook(
                folder / "accounts.xlsx",
                accounts=args.accounts,
                codes=args.codes,
                seed=11,
                step2_share=0.0,
                force=True,
            )
            r = one_setting(folder, workbook, args.per_code, p, faults)
            results.append(r)
            peaks = r["peaks"]
            rows.append(
                [
                    p,
                    r["products"],
                    f"{r['wall']:.0f}",
                    f"{r['products'] / r['wall'] * 60:.1f}",
                    f"{max(peaks):.0f}" if peaks else "-",
                    f"{sum(peaks) / len(peaks):.0f}" if peaks else "-",
                    r["verified"],
                ]
            )
            print(rows[-1], flush=True)
    base = results[0]["products"] / results[0]["wall"] if results and results[0]["wall"] else 0
    speedups = ", ".join(
        f"--parallel {r['parallel']}: {r['products'] / r['wall'] / base:.2f}×" for r in results if base
    )
    body = f"""Command: `python bench/parallel_sizing.py {" ".join(sys.argv[1:])}`

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average
{load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (the runs' own browsers and OCR
included). {args.accounts} accounts ×
{args.codes} step3 codes × {args.per_code} products (the sample's command mix, OCR gate on, translations
{args.translate_ms} ms), the same work for every setting, each over a fresh simulator.

{table(HEADERS, rows)}

Throughput against `--parallel 1`: {speedups}.
"""
    print(body)
    if args.doc:
        replace_subsection(SPEED_SECTION, "Several accounts on one machine (bench/parallel_sizing.py)", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
