"""End-to-end fixtures (helpers live in e2e_support.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import simulator

from stepbatch.simulator.testing import Sim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """The small e2e workbook served (the same `Sim` type as the simulator tests' `sim`)."""
    with simulator(tmp_path) as s:
        yield s
