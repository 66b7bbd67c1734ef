"""Step-run speed and memory on the simulator (headless Chromium, one account).

1. products per minute, step3 (light ops, and the sample workbook's mixed ops) and step2, no added latency;
2. browser restart cost: start + login to a usable page (median);
3. peak browser memory over a step3 run in the simulator's leak mode, recycling vs never, as a ratio.

Writes `### Throughput and memory` under `## Step runs` in docs/benchmarks.md.
Usage: .venv/bin/python bench/throughput.py [--memory-products 600] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stepbench import bench_workbook, median, run_step, simulator, table, write_section
from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.simulator.faults import Faults
from stepbatch.sites.percenty.site import PercentySite

LIGHT_OPS = {"image_delete": "first:1"}


def throughput(
    tmp: Path, name: str, codes: int, per_code: int, ops: dict | None, step: str, faults: Faults
) -> dict:
    folder = tmp / name
    folder.mkdir()
    workbook = bench_workbook(folder, codes, ops=ops, step2_share=1.0 if step == "step2" else 0.0)
    with simulator(folder, workbook, faults, per_code) as sim:
        return run_step(sim, step, folder / "state", batch_size=5)


def restart_cost(tmp: Path, runs: int) -> list[float]:
    folder = tmp / "restart"
    folder.mkdir()
    workbook = bench_workbook(folder, 2, ops=LIGHT_OPS)
    times = []
    with simulator(folder, workbook, Faults(), 1) as sim:
        account = sim.book.accounts[0]
        for _ in range(runs):
            t0 = time.perf_counter()
            session = start_session(BrowserOptions(offline=True))
            try:
                PercentySite(sim.url).open(session, account)
                times.append(time.perf_counter() - t0)
            finally:
                session.close()
    return times


def memory_pair(tmp: Path, products: int, leak_mb: float, batch_size: int) -> tuple[dict, dict]:
    per_code = 10
    codes = max(products // per_code, 1)
    results = []
    for label, size in (("recycle", batch_size), ("never", 10_000)):
        folder = tmp / f"mem-{label}"
        folder.mkdir()
        workbook = bench_workbook(folder, codes, ops=LIGHT_OPS)
        with simulator(folder, workbook, Faults(leak_mb_per_action=leak_mb), per_code) as sim:
            results.append(run_step(sim, "step3", folder / "state", batch_size=size))
    return results[0], results[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-products", type=int, default=600)
    parser.add_argument("--leak-mb", type=float, default=0.2)
    parser.add_argument("--batch-size", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    light_codes, mixed_codes, mem_products = (10, 3, args.memory_products) if not args.quick else (2, 2, 40)
    command = (
        "`.venv/bin/python bench/throughput.py"
        + (" --quick" if args.quick else "")
        + (f" --memory-products {args.memory_products}" if args.memory_products != 600 else "")
        + "`"
    )
    with tempfile.TemporaryDirectory(prefix="stepbatch-bench-") as tmp_name:
        tmp = Path(tmp_name)
        light = throughput(tmp, "light", light_codes, 10, LIGHT_OPS, "step3", Faults())
        mixed = throughput(tmp, "mixed", mixed_codes, 4, None, "step3", Faults())
        step2 = throughput(tmp, "step2", 4, 55, None, "step2", Faults())
        restarts = restart_cost(tmp, 7)
        recycle, never = memory_pair(tmp, mem_products, args.leak_mb, args.batch_size)
    rows = [
        [
            f"step3, `image_delete first:1` per product ({light['items_done']} products)",
            f"{light['products_per_min']:.0f}",
            f"{light['duration_s']:.0f}",
            light["verified"],
        ],
        [
            f"step3, sample workbook's mixed ops, translate 300 ms ({mixed['items_done']} products)",
            f"{mixed['products_per_min']:.0f}",
            f"{mixed['duration_s']:.0f}",
            mixed["verified"],
        ],
        [
            f"step2, bulk moves ({step2['items_done']} products)",
            f"{step2['products_per_min']:.0f}",
            f"{step2['duration_s']:.0f}",
            step2["verified"],
        ],
    ]
    speed = table(
        ["run (no added latency, batch size 5)", "products/min", "duration (s)", "verification"], rows
    )
    mem_rows = [
        [
            f"recycle every {args.batch_size} codes",
            f"{recycle['peak_memory_mb']:.0f}",
            f"{recycle['products_per_min']:.0f}",
            sum(recycle["restarts"].values()),
            recycle["verified"],
        ],
        [
            "never recycle",
            f"{never['peak_memory_mb']:.0f}",
            f"{never['products_per_min']:.0f}",
            sum(never["restarts"].values()),
            never["verified"],
        ],
    ]
    memory = table(
        ["step3 in leak mode", "peak browser MB (PSS)", "products/min", "browser restarts", "verification"],
        mem_rows,
    )
    ratio = never["peak_memory_mb"] / recycle["peak_memory_mb"] if recycle["peak_memory_mb"] else float("nan")
    body = f"""Command: {command}

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average
{os.getloadavg()[0]:.1f} at the end (the machine is shared, so absolute numbers are noisy).

{speed}

Browser restart (start Chromium + log in, to a usable page): median {median(restarts):.2f} s over
{len(restarts)} runs (min {min(restarts):.2f}, max {max(restarts):.2f}).

Leak mode ({args.leak_mb:g} MB retained per page action), {mem_products} products, one run each:

{memory}

Peak memory without recycling / with recycling: **{ratio:.1f}x**.
"""
    print(body)
    write_section("Throughput and memory", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
