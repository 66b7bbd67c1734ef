"""Fault soak: the chaos run's workbook, once over a well-behaved simulator and once with every fault on
together (5% HTTP 503, added latency, login and marketing popups, Channel Talk, session expiry every
2 minutes, lingering modal wrappers, leak mode); both must end with the verifier clean.

Usage: .venv/bin/python bench/soak.py [--seed 1] [--accounts 2] [--codes 40] [--products 500]
           [--step step3|step2|both] [--dir DIR] [--doc]

Reports retries by error class, browser restarts and why, re-logins, peak browser memory (PSS of the
tree) and the wall time of the faulty run against the fault-free one measured in the same invocation.
A runner that exits with failures is started again (up to --max-runs per job); those restarts are
reported too. `--doc` writes the result into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from chaos import MARK_ENV, code_version, make_workbook, marked_browsers, runner_command, write_doc
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.verify import verify
from stepbatch.workbook import load_workbook


def fault_sets(translate_ms: int) -> tuple[Faults, Faults]:
    """(fault-free, every fault): the translation busy time is the site's normal speed, the same in both."""
    clean = Faults(translate_ms=translate_ms)
    faulty = Faults(
        error_rate=0.05,
        latency_ms=80,
        login_popup=True,
        popup_rate=0.05,
        channel_talk=True,
        session_expiry_min=2.0,
        linger_modal_ms=1500,
        leak_mb_per_action=2.0,
        translate_ms=translate_ms,
    )
    return clean, faulty


@dataclass
class Pass:
    """One full pass (every job) over one simulator."""

    name: str
    faults: Faults
    wall_s: float = 0.0
    runners: int = 0
    runner_exits: Counter = field(default_factory=Counter)
    retries: Counter = field(default_factory=Counter)
    restarts: Counter = field(default_factory=Counter)
    relogins: int = 0
    peak_mb: float = 0.0
    items_done: int = 0
    verify_line: str = ""
    ok: bool = False
    failures: list[str] = field(default_factory=list)


def run_pass(
    p: Pass, folder: Path, workbook: Path, steps: list[str], args: argparse.Namespace, mark: str
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    book = load_workbook(workbook)
    sim = SimulatorServer(folder / "sim.db", workbook, seed=args.seed, mode="subprocess", faults=p.faults)
    started = time.monotonic()
    with sim:
        for step in steps:
            for account in book.accounts:
                run_job(p, folder, sim.url, workbook, step, account.email, account.nickname, args, mark)
        p.wall_s = time.monotonic() - started
        results = [verify(sim.db_path, workbook, step=s) for s in steps]
    p.verify_line = "; ".join(f"{s}: {r.line()}" for s, r in zip(steps, results, strict=True))
    p.ok = all(r.ok for r in results) and not p.failures


def run_job(
    p: Pass,
    folder: Path,
    url: str,
    workbook: Path,
    step: str,
    email: str,
    nickname: str,
    args: argparse.Namespace,
    mark: str,
) -> None:
    for attempt in range(1, args.max_runs + 1):
        summary_path = folder / f"summary-{nickname}-{step}-{attempt}.json"
        log = folder / f"{nickname}-{step}-{attempt}.log"
        cmd = runner_command(
            step, workbook, email, url, folder / "state", args.batch_size, "--summary-json", str(summary_path)
        )
        env = {**os.environ, MARK_ENV: mark, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        print(f"soak {p.name}: {nickname} {step} run {attempt}", flush=True)
        with log.open("wb") as out:
            code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
        p.runners += 1
        p.runner_exits[code] += 1
        if summary_path.is_file():
            s = json.loads(summary_path.read_text(encoding="utf-8"))
            p.retries.update(s.get("retries") or {})
            p.restarts.update(s.get("restarts") or {})
            p.relogins += int(s.get("relogins") or 0)
            p.peak_mb = max(p.peak_mb, float(s.get("peak_memory_mb") or 0.0))
            p.items_done += int(s.get("items_done") or 0)
        if code == 0:
            return
        tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-2:]
        print(f"soak {p.name}: {nickname} {step} exit {code}: {' | '.join(tail)}", flush=True)
    p.failures.append(f"{nickname} {step}: not complete after {args.max_runs} runs")


def report(args: argparse.Namespace, passes: list[Pass], meta: dict[str, object]) -> str:
    clean, faulty = passes
    ratio = faulty.wall_s / clean.wall_s if clean.wall_s else float("nan")
    lines = [
        f"Command: `{meta['command']}` ({code_version()})",
        "",
        f"Workbook: {args.accounts} accounts, {meta['codes']} codes (seed {args.seed}), "
        f"{meta['products']} products in scope. Faults: `{fault_text(faulty.faults)}`; "
        f"translations take {args.translate_ms} ms in both passes. "
        f"Finished {meta['finished']}.",
        "",
        "| | fault-free | all faults |",
        "|---|---|---|",
    ]

    def row(name: str, a: object, b: object) -> None:
        lines.append(f"| {name} | {a} | {b} |")

    row("verifier", clean.verify_line, faulty.verify_line)
    row("wall time", f"{clean.wall_s / 60:.1f} min", f"{faulty.wall_s / 60:.1f} min ({ratio:.2f}x)")
    row("products done", clean.items_done, faulty.items_done)
    row("runner processes (exit code: count)", exits(clean), exits(faulty))
    row("retries by error class", counts(clean.retries), counts(faulty.retries))
    row("browser restarts by reason", counts(clean.restarts), counts(faulty.restarts))
    row("re-logins", clean.relogins, faulty.relogins)
    row("peak browser memory (PSS)", f"{clean.peak_mb:.0f} MB", f"{faulty.peak_mb:.0f} MB")
    for p in passes:
        lines += [f"\nFAILURE ({p.name}): {f}" for f in p.failures]
    return "\n".join(lines)


def fault_text(f: Faults) -> str:
    return (
        f"error_rate={f.error_rate} latency_ms={f.latency_ms} login_popup={f.login_popup} "
        f"popup_rate={f.popup_rate} channel_talk={f.channel_talk} "
        f"session_expiry_min={f.session_expiry_min} linger_modal_ms={f.linger_modal_ms} "
        f"leak_mb_per_action={f.leak_mb_per_action}"
    )


def exits(p: Pass) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(p.runner_exits.items())) or "-"


def counts(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--codes", type=int, default=40)
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--step", choices=("step3", "step2", "both"), default="both")
    ap.add_argument("--batch-size", type=int, default=5)
    ap.add_argument("--max-runs", type=int, default=3, help="runner starts per job before giving up")
    ap.add_argument("--translate-ms", type=int, default=60, help="simulator: translation busy time")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--doc", action="store_true", help="write the result into docs/reliability.md")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import uuid

    args = parse_args(argv)
    steps = ["step3", "step2"] if args.step == "both" else [args.step]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="stepbatch-soak-"))
    if folder.exists() and any(folder.iterdir()):  # an old simulator db or progress would taint the result
        sys.exit(f"soak: --dir {folder} is not empty; give a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    workbook, codes, products = make_workbook(
        folder, args.accounts, args.codes, args.products, steps, args.seed
    )
    print(f"soak: {folder}; {args.accounts} accounts, {codes} codes, {products} products", flush=True)
    mark = uuid.uuid4().hex
    clean, faulty = fault_sets(args.translate_ms)
    passes = [Pass("fault-free", clean), Pass("all faults", faulty)]
    for p in passes:
        run_pass(p, folder / p.name.replace(" ", "-"), workbook, steps, args, mark)
    left = marked_browsers(mark)
    meta = {
        "command": "python bench/soak.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "codes": codes,
        "products": products,
        "finished": time.strftime("%Y-%m-%d %H:%M"),
    }
    text = report(args, passes, meta)
    if left:
        text += f"\n\nFAILURE: browser processes left behind: {left}"
    ok = all(p.ok for p in passes) and not left
    print(text)
    print(f"\nsoak: {'PASS' if ok else 'FAIL'}")
    if args.doc:
        write_doc("## Fault soak (latest)", text + f"\n\nResult: **{'PASS' if ok else 'FAIL'}**")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
