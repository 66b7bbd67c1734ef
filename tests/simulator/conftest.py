"""Fixtures of the simulator tests: a sample workbook, a running simulator, a browser page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults
from stepbatch.workbook import load_workbook
from stepbatch.workbook.models import Account


@pytest.fixture(scope="session")
def sim_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testing.make_workbook(tmp_path_factory.mktemp("wb"), accounts=2, codes=10, seed=5)


@pytest.fixture(scope="session")
def sim_account(sim_workbook: Path) -> Account:
    return load_workbook(sim_workbook).accounts[0]


@pytest.fixture
def sim(tmp_path: Path, sim_workbook: Path) -> Iterator[testing.Sim]:
    """A simulator with no faults over a fresh database (the same `Sim` as the e2e tests' `sim`)."""
    with testing.running_simulator(tmp_path, sim_workbook) as running:
        yield running


@pytest.fixture
def fast_sim(tmp_path: Path, sim_workbook: Path) -> Iterator[testing.Sim]:
    """A simulator whose translations answer at once (for API-driven tests)."""
    with testing.running_simulator(tmp_path, sim_workbook, Faults(translate_ms=0)) as running:
        yield running


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """One headless Chromium per test module (started before each test's leftover-process snapshot)."""
    from stepbatch.browser.playwright_session import playwright_driver

    browser = testing.launch_chromium(playwright_driver())  # one sync driver per thread, shared
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def page(chromium: object) -> Iterator[object]:
    context = chromium.new_context(viewport={"width": 1920, "height": 945}, locale="ko-KR")  # type: ignore[attr-defined]
    context.set_default_timeout(30_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield pg
    finally:
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
