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
    procs = []
    for pid in _chromium_pids() - before:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=5)
    leftovers = []
    for proc in alive:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                leftovers.append(proc.pid)
        except psutil.NoSuchProcess:
            pass
    assert not leftovers, f"test left browser processes behind: {leftovers}"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir()
    return d
