"""What one `/api/status` update of `stepbatch web` costs with 50 accounts running.

Synthetic state: 50 run folders whose events.jsonl grow as a step3 run's would (a memory sample, an item,
now and then a unit boundary), appended by a writer thread between polls. The server is the real command
(`stepbatch web --port 0`) in its own process; this script polls /api/status like the page does and
measures the request time (median, p95) and the server process's CPU time per update (psutil).

    python bench/web_update_cost.py [--accounts 50] [--updates 200] [--interval 0.1] [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

HEADING = "## Web status page (bench/web_update_cost.py)"


def event(t: float, name: str, **fields: object) -> str:
    return json.dumps({"ts": "2026-12-03T01:00:00+00:00", "t": round(t, 3), "event": name, **fields}) + "\n"


def start_runs(state: Path, accounts: int) -> list[Path]:
    paths = []
    for n in range(accounts):
        run = state / "runs" / f"20261203-010000-A{n:02d}-step3"
        run.mkdir(parents=True)
        path = run / "events.jsonl"
        path.write_text(
            event(
                0,
                "run_started",
                run_id=run.name,
                account=f"A{n:02d}",
                step="step3",
                server=None,
                units_total=40,
                units_remaining=40,
                batches=8,
            ),
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def grow(paths: list[Path], stop: threading.Event, interval: float) -> None:
    """Each pass appends one product's events to every file (the state 50 busy runs leave)."""
    step = 0
    while not stop.is_set():
        step += 1
        t = step * 2.0
        for i, path in enumerate(paths):
            unit = f"C{step // 5}@서버1"
            lines = [event(t, "memory", mb=400 + (step * 7 + i) % 300, js_heap_mb=None, nodes=None)]
            if step % 5 == 1:
                lines.append(event(t, "unit_started", unit=unit, attempt=1))
            lines.append(event(t + 0.5, "item", unit=unit, item=f"p{step}", status="done"))
            if step % 5 == 0:
                lines.append(event(t + 1, "unit_finished", unit=unit, status="done", items_done=5,
                                   items_failed=0, total_found=5, message=""))  # fmt: skip
            with path.open("a", encoding="utf-8") as fh:
                fh.write("".join(lines))
        stop.wait(interval)


def start_server(state: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    cmd = [sys.executable, "-m", "stepbatch", "web", "--state-dir", str(state), "--port", "0"]
    out = log.open("wb")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        words = log.read_text("utf-8").split()
        url = next((w for w in words if w.startswith("http://")), None)
        if url:
            return proc, url.rstrip("/")
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit(f"the web server did not start: {log.read_text('utf-8')}")


def measure(accounts: int, updates: int, interval: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="stepbatch-web-bench-") as tmp:
        state = Path(tmp) / "state"
        paths = start_runs(state, accounts)
        proc, url = start_server(state, Path(tmp) / "web.log")
        stop = threading.Event()
        writer = threading.Thread(target=grow, args=(paths, stop, interval), daemon=True)
        try:
            server = psutil.Process(proc.pid)
            with httpx.Client(base_url=url, timeout=30) as client:
                client.get("/api/status").raise_for_status()  # the first full read, not counted
                writer.start()
                times, cpu0 = [], server.cpu_times()
                for _ in range(updates):
                    time.sleep(0.5 + interval)  # past the server's 0.5 s shared cache: a real read
                    t0 = time.perf_counter()
                    body = client.get("/api/status").json()
                    times.append((time.perf_counter() - t0) * 1000)
                    assert len(body["accounts"]) == accounts
                cpu1 = server.cpu_times()
        finally:
            stop.set()
            proc.terminate()
            proc.wait(timeout=20)
    cpu_ms = ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) * 1000 / updates
    times.sort()
    return {
        "median": statistics.median(times),
        "p95": times[int(len(times) * 0.95) - 1],
        "max": times[-1],
        "cpu": cpu_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--interval", type=float, default=0.1)
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    r = measure(args.accounts, args.updates, args.interval)
    command = "python bench/web_update_cost.py" + (
        f" --accounts {args.accounts} --updates {args.updates}"
        if (args.accounts, args.updates) != (50, 200)
        else ""
    )
    body = (
        f"Command: `{command}` ({args.accounts} synthetic step3 runs whose events.jsonl grow by one product "
        f"(memory, item, unit boundaries) between polls; the real `stepbatch web` in its own process; "
        f"{args.updates} polls of `/api/status`, each after the 0.5 s shared cache expired).\n\n"
        "| measure | value |\n|---|---|\n"
        f"| `/api/status` time, median | {r['median']:.1f} ms |\n"
        f"| `/api/status` time, p95 | {r['p95']:.1f} ms |\n"
        f"| `/api/status` time, max | {r['max']:.1f} ms |\n"
        f"| server CPU per update | {r['cpu']:.1f} ms |\n\n"
        "Each update stats every followed events.jsonl and parses only the bytes appended since the last "
        "one; "
        "measured on the shared 2-core machine while other work ran.\n"
    )
    print(body)
    if not args.no_docs:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _docs import replace_section

        replace_section(HEADING, f"{HEADING}\n\n{body}", tmp_tag="web")


if __name__ == "__main__":
    main()
