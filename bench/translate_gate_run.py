"""The OCR translation gate on a whole step3 run: presses made with the gate and with --translate-all,
credits saved, and wall time both ways, each on a fresh simulator seeded alike (real Chromium, real OCR).

    .venv/bin/python bench/translate_gate_run.py [--codes 6] [--per-code 3] [--write-doc]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _stepbench import bench_workbook, run_step, simulator, table, write_section
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.verify import verify


def measure(folder: Path, codes: int, per_code: int, translate_all: bool) -> dict:
    workbook = bench_workbook(folder, codes, ops=None, seed=11)
    with simulator(folder, workbook, Faults(translate_ms=300), per_code) as sim:
        summary = run_step(sim, "step3", folder / "state", batch_size=5, translate_all=translate_all)
        result = verify(sim.db_path, sim.workbook, step="step3")
    credits_left = sum(result.credits_left.values())
    return {
        "mode": "--translate-all" if translate_all else "OCR gate",
        "products": summary["items_done"],
        "presses": result.presses,
        "wasted": result.wasted,
        "credits_left": credits_left,
        "wall_s": summary["wall_s"],
        "verified": result.line(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codes", type=int, default=6)
    parser.add_argument("--per-code", type=int, default=3)
    parser.add_argument("--write-doc", action="store_true")
    args = parser.parse_args()
    rows = []
    for translate_all in (False, True):
        with tempfile.TemporaryDirectory(prefix="sb-gate-run-") as tmp:
            row = measure(Path(tmp), args.codes, args.per_code, translate_all)
        print(row)
        rows.append(row)
    gate, every = rows
    saved = every["presses"] - gate["presses"]
    body = table(
        ["mode", "products", "presses (credits)", "wasted", "wall s", "s / product"],
        [
            [
                r["mode"],
                r["products"],
                r["presses"],
                r["wasted"],
                f"{r['wall_s']:.0f}",
                f"{r['wall_s'] / max(r['products'], 1):.1f}",
            ]
            for r in rows
        ],
    )
    share = saved / every["presses"] if every["presses"] else 0.0
    body += (
        f"\n\nCredits saved by the gate: {saved} of {every['presses']} presses ({share:.0%}); "
        f"wall time ratio gate / translate-all: {gate['wall_s'] / every['wall_s']:.2f}.\n"
        f"Both runs verified: `{gate['verified']}` / `{every['verified']}`.\n\n"
        f"Command: `.venv/bin/python bench/translate_gate_run.py --codes {args.codes} "
        f"--per-code {args.per_code} --write-doc` (sample workbook seed 11, one account, translate 300 ms)."
    )
    print(body)
    if args.write_doc:
        write_section("OCR gate on a step3 run (bench/translate_gate_run.py)", body)


if __name__ == "__main__":
    main()
