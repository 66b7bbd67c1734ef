"""Fixtures of the browser tests: sessions that are always closed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stepbatch.browser.playwright_session import PlaywrightSession


@pytest.fixture
def session() -> Iterator[PlaywrightSession]:
    s = PlaywrightSession(offline=True)
    try:
        yield s
    finally:
        s.close()
