"""Fixtures shared by every test area."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import psutil
import pytest

os.environ["STEPBATCH_TEST"] = "1"
# Every process this pytest process starts inherits the marker, so a leftover browser is recognised as
# ours even after it was orphaned, and browsers of other pytest sessions on the machine are ignored.
_MARKER = f"STEPBATCH_TEST_SESSION={uuid.uuid4().hex}"
os.environ["STEPBATCH_TEST_SESSION"] = _MARKER.split("=", 1)[1]


def our_browser_pids() -> set[int]:
    """chromium/chromedriver processes started (directly or not) by this pytest process."""
    key, value = _MARKER.split("=", 1)
    pids = set()
    for proc in psutil.process_iter(["pid", "name"]):
        if "chrom" not in (proc.info["name"] or "").lower():
            continue
        try:
            if proc.environ().get(key) == value and proc.status() != psutil.STATUS_ZOMBIE:
                pids.add(proc.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


@pytest.fixture(autouse=True)
def _no_leftover_browsers(request: pytest.FixtureRequest):
    """Fail a browser test that leaves a chromium/chromedriver process of its own behind."""
    if request.node.get_closest_marker("browser") is None:
        yield
        return
    before = our_browser_pids()
    yield
    procs = []
    for pid in our_browser_pids() - before:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    _, alive = psutil.wait_procs(procs, timeout=5)
    leftovers = []
    for proc in alive:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                leftovers.append(proc.pid)
                proc.kill()
        except psutil.NoSuchProcess:
            pass
    assert not leftovers, f"test left browser processes behind (killed now): {leftovers}"


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    d = tmp_path / "state"
    d.mkdir()
    return d
