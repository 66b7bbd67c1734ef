"""SIGKILL a real runner process at 50 random moments; after resuming, every edit happened exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from engine_fakes import Site, check_exactly_once

from stepbatch.state.progress import ProgressStore

WORKER = Path(__file__).with_name("engine_worker.py")
KILLS = 50
UNITS = 40


def start(state_dir: Path, site_db: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            str(state_dir),
            str(site_db),
            str(UNITS),
            "2",
            "--compact-every",
            "7",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONUTF8": "1"},
    )


def kill_at_a_random_moment(proc: subprocess.Popen, site: Site, rng: random.Random) -> bool:
    """SIGKILL `proc` at a random moment; True if it was still running (a real crash)."""
    if rng.random() < 0.2:  # anywhere, including start-up, loading and planning
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=rng.uniform(0.0, 0.6))
    else:  # somewhere inside the editing, after k more site operations (+ a little jitter)
        target = site.audit_count() + rng.randint(1, 15)
        deadline = time.monotonic() + 60
        while proc.poll() is None and site.audit_count() < target and time.monotonic() < deadline:
            time.sleep(0.002)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=rng.uniform(0.0, 0.01))
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return alive


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_fifty_sigkills_then_resume_edit_every_product_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(20240115)
    state_dir = tmp_path / "state"
    site = Site(tmp_path / "site.db")
    site.populate({f"X{i:02d}": rng.randint(0, 10) for i in range(UNITS)})
    crashes = 0
    for n in range(KILLS):
        if n % 10 < 6:  # the process kills itself right after a random durable action (or mid-line)
            kill_at = rng.randint(1, 150)
            torn = rng.random() < 0.2
            proc = start(state_dir, site.path, "--kill-at", str(kill_at), *(["--torn"] if torn else []))
            proc.communicate(timeout=120)
            crashes += proc.returncode == -signal.SIGKILL
            continue
        proc = start(state_dir, site.path)  # killed from outside at a random moment
        try:
            crashes += kill_at_a_random_moment(proc, site, rng)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert crashes >= KILLS * 0.8, "most kills must hit a running process"
    assert site.audit_count() > 0
    final = start(state_dir, site.path)
    out, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    summary = json.loads(out.split("SUMMARY ", 1)[1])
    assert summary["outcome"] == "complete"
    assert check_exactly_once(site) == []
    products = site.products()
    assert summary["cumulative"]["items_done"] == len(products)
    store = ProgressStore.open(state_dir, "ABC", "step3", "서버2-1", readonly=True)
    json.loads(store.path.read_text(encoding="utf-8"))
    assert store.complete and store.state["total_processed_items"] == len(products)
    assert all(u["status"] == "done" for u in store.units.values())
