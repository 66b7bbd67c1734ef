"""A child process for the contract tests (commits to a store, or holds a lease, until it is killed),
and the parent's helpers to start, read and kill it.

usage: python state_store_child.py commits|lease SPEC_JSON
`commits` prints `ACK <op> <n>` after each commit returns; `lease` prints `LEASED` once the lease is
held. Either then waits on stdin, for the parent to kill it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from state_store_backends import backend_from_spec

from stepbatch.contracts.status import ItemStatus
from stepbatch.workbook.models import Unit

ACCOUNT, STEP, SERVER = "ABC", "step3", "서버2-1"
UNIT = Unit(ACCOUNT, STEP, SERVER, "A00", "대기2")
COMPACT_EVERY = 5  # compactions happen between the commits too
MAX_ITEMS = 10_000


def ack(op: str, n: int) -> None:
    print(f"ACK {op} {n}", flush=True)


def commits(spec: dict) -> None:
    store = backend_from_spec(spec).open_store(ACCOUNT, STEP, SERVER, compact_every=COMPACT_EVERY)
    store.add_units([UNIT])
    ack("units", 0)
    for n in range(MAX_ITEMS):
        item = f"p{n}"
        store.item_started(UNIT.key, item, ["image_delete first:1"], {"n": n})
        ack("started", n)
        store.item_checkpoint(UNIT.key, item, {"ops_done": 1})
        ack("checkpoint", n)
        store.item_status(UNIT.key, item, ItemStatus.DONE)
        ack("done", n)
        store.update_run("run-1", cycle=1, outcome="running", items_done=n + 1)
        ack("run", n)
    sys.stdin.readline()


def lease(spec: dict) -> None:
    held = backend_from_spec(spec).lease(ACCOUNT, STEP)
    held.acquire()
    print("LEASED", flush=True)
    sys.stdin.readline()  # holding `held` (a lease may free itself when collected)


# -- the parent's side ------------------------------------------------------------------------------


def spawn(role: str, spec: dict[str, Any]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__)), role, json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(timeout=30)
        stderr = proc.stderr.read() if proc.stderr else ""
        raise AssertionError(f"the child stopped (exit {proc.returncode}) before it said so:\n{stderr}")
    return line.strip()


def hard_kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL where it exists (no cleanup of any kind runs); TerminateProcess on Windows."""
    if hasattr(signal, "SIGKILL"):
        os.kill(proc.pid, signal.SIGKILL)
    else:  # pragma: no cover - Windows
        proc.kill()
    proc.wait(timeout=30)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


# -- the child's side -------------------------------------------------------------------------------


def main() -> None:
    role, spec = sys.argv[1], json.loads(sys.argv[2])
    {"commits": commits, "lease": lease}[role](spec)


if __name__ == "__main__":
    main()
