"""Helpers of the browser tests: PID liveness and condition waits."""

from __future__ import annotations

import time

import psutil


def alive(pids: list[int]) -> list[int]:
    """The pids that still run (zombies count as gone: they only wait for their parent's wait())."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            continue
    return out


def wait_until(condition, timeout_s: float = 30.0, interval_s: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval_s)  # polling a condition (process table / file), with a deadline
    return bool(condition())
