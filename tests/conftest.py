"""Fixtures shared by every test area."""

from __future__ import annotations

import os
from pathlib import Path

import psutil
import pytest

os.environ.setdefault("STEPBATCH_TEST", "1")


def _chromium_pids() -> set[int]:
    pids = set()
    for proc in psutil.process_iter(["pid", "name"]):
        name = (proc.info["name"] or "").lower()
        if "chrom" in name:
            pids.add(proc.info["pid"])
    return pids


@pytest.fixture(autouse=True)
def _no_leftover_browsers(request: pytest.FixtureRequest):
    """Fail a browser test that leaves a chromium/chromedriver process of its own behind."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    before = _chromium_pids()
    yield
    deadline_left = [p for p in _chromium_pids() - before if psutil.pid_exists(p)]
    gone, alive = psutil.wait_procs([psutil.Process(p) for p in deadline_left if psutil.pid_exists(p)], timeout=5)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"test left browser processes behind: {[p.pid for p in alive]}"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir()
    return d
