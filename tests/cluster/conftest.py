"""A throwaway PostgreSQL for the cluster tests, a fresh initialised database per test, a simulator."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_support import Machines

from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import Sim, make_workbook, running_simulator


@pytest.fixture(scope="session")
def pg() -> Iterator[object]:
    from stepbatch.state.pg.throwaway import PostgresNotInstalled, ThrowawayPostgres

    try:
        server = ThrowawayPostgres()
    except PostgresNotInstalled as exc:
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def dsn(pg) -> Iterator[str]:
    from stepbatch.cluster.dbinit import init_database

    url = pg.new_database()
    init_database(url)
    yield url
    with contextlib.suppress(Exception):
        pg.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture
def sim4(tmp_path: Path) -> Iterator[Sim]:
    """4 accounts × 2 codes, 1 product a code."""
    workbook = make_workbook(tmp_path, accounts=4, codes=2, seed=3, step2_share=0.0)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=1) as sim:
        yield sim


@pytest.fixture
def sim1(tmp_path: Path) -> Iterator[Sim]:
    """1 account × 2 codes, 3 products a code (long enough to interrupt it mid-way)."""
    workbook = make_workbook(tmp_path, accounts=1, codes=2, seed=4, step2_share=0.0)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=3) as sim:
        yield sim


@pytest.fixture
def machines(tmp_path: Path, dsn: str) -> Iterator[Machines]:
    m = Machines(tmp_path / "machines", dsn)
    try:
        yield m
    finally:
        m.stop_all()
