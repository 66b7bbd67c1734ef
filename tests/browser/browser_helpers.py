"""Helpers of the browser tests: PID liveness and condition waits."""

from __future__ import annotations

import psutil

from stepbatch.simulator.testing import poll_until


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
    """Whether `condition` became true within `timeout_s` (the caller asserts, after its cleanup)."""
    return bool(poll_until(condition, timeout_s, interval_s))
