"""Fixtures shared by every test area."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
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


# -- PostgreSQL: one throwaway cluster per test process (each xdist worker starts its own) ------------


def pg_server_or_skip():
    """This process's throwaway PostgreSQL (started on first use); skips without initdb, fails on CI."""
    from stepbatch.state.pg.throwaway import PostgresNotInstalled, shared_server

    try:
        return shared_server()
    except PostgresNotInstalled as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required on CI: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session", autouse=True)
def _stop_pg_server_at_the_end():
    """Stops the throwaway PostgreSQL when the session ends, if anything started it (nothing starts here)."""
    yield
    from stepbatch.state.pg import throwaway

    throwaway.stop_shared_server()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL (Debian's initdb/pg_ctl) on 127.0.0.1 and a free port, for the whole session."""
    return pg_server_or_skip()


@pytest.fixture
def pg_dsn(pg_server) -> Iterator[str]:
    """A fresh, empty database for one test; dropped afterwards (its connections closed first)."""
    dsn = pg_server.new_database()
    yield dsn
    with contextlib.suppress(Exception):
        pg_server.drop_database(dsn.rsplit("/", 1)[1])
