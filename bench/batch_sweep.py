"""The proposal's "batch size optimisation": step3 in the simulator's leak mode, one run per batch size.

For batch sizes 1, 2, 5, 10 and never-restart, runs the same products (default 300) and prints products
per minute beside peak browser memory, so the default batch size can be chosen on evidence.
Writes `### Batch size sweep` under `## Step runs` in docs/benchmarks.md.
Usage: .venv/bin/python bench/batch_sweep.py [--products 300] [--leak-mb 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stepbench import bench_workbook, run_step, simulator, table, write_section
from stepbatch.simulator.faults import Faults

SIZES: tuple[int | None, ...] = (1, 2, 5, 10, None)  # None: never restart
PER_CODE = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=300)
    parser.add_argument("--leak-mb", type=float, default=0.2)
    args = parser.parse_args()
    codes = max(args.products // PER_CODE, 1)
    rows = []
    with tempfile.TemporaryDirectory(prefix="stepbatch-sweep-") as tmp_name:
        for size in SIZES:
            folder = Path(tmp_name) / f"size-{size or 'never'}"
            folder.mkdir()
            workbook = bench_workbook(folder, codes, ops={"image_delete": "first:1"})
            with simulator(folder, workbook, Faults(leak_mb_per_action=args.leak_mb), PER_CODE) as sim:
                s = run_step(sim, "step3", folder / "state", batch_size=size or 100_000)
            restarts = sum(s["restarts"].values())
            row = [
                size or "never",
                s["items_done"],
                f"{s['products_per_min']:.0f}",
                f"{s['peak_memory_mb']:.0f}",
                restarts,
                f"{s['duration_s']:.0f}",
                s["verified"],
            ]
            print(" | ".join(str(c) for c in row), flush=True)
            rows.append(row)
    best = max(rows, key=lambda r: float(r[2]))
    never = rows[-1]
    verdict = (
        f"Fastest: batch size {best[0]} ({best[2]} products/min, peak {best[3]} MB); never restarting: "
        f"{never[2]} products/min, peak {never[3]} MB. The runs ran one after another on a shared machine, "
        "so compare neighbouring sizes with care."
    )
    result = table(
        [
            "batch size (codes per browser)",
            "products",
            "products/min",
            "peak browser MB",
            "restarts",
            "duration (s)",
            "verification",
        ],
        rows,
    )
    command = (
        "`.venv/bin/python bench/batch_sweep.py"
        + (f" --products {args.products}" if args.products != 300 else "")
        + (f" --leak-mb {args.leak_mb:g}" if args.leak_mb != 0.2 else "")
        + "`"
    )
    body = f"""Command: {command}

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average
{os.getloadavg()[0]:.1f} at the end. Leak mode: {args.leak_mb:g} MB retained per page action; each product
gets `image_delete first:1` and a move; {PER_CODE} products per code; one run per size.

{result}

{verdict}
"""
    print(body)
    write_section("Batch size sweep", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
