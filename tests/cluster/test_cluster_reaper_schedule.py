"""The reaper's schedule: it must run every `reap_every_s` seconds, all the time."""

from __future__ import annotations

import datetime as dt

import pytest

croniter = pytest.importorskip("croniter")
pytest.importorskip("procrastinate")

from stepbatch.cluster.queue import make_app  # noqa: E402


@pytest.mark.parametrize("every", [2, 10, 30])
def test_the_reaper_runs_every_few_seconds_in_every_minute(every: int):
    async def reaper(app: object) -> None:
        return None

    app = make_app("postgresql://127.0.0.1:1/none", lambda ctx, rid: None, reaper, reap_every_s=every)
    periodics = {p.periodic_id: p for p in app.periodic_registry.periodic_tasks.values()}
    assert set(periodics) == {"reaper", "schedules"}
    assert periodics["schedules"].cron == "* * * * *"
    periodic = periodics["reaper"]
    start = dt.datetime(2026, 12, 2, 13, 54, 31)  # minute 54: not a multiple of 10 nor of 30
    it = croniter.croniter(periodic.cron, start)
    runs = [it.get_next(dt.datetime) for _ in range(4)]
    gaps = {(b - a).total_seconds() for a, b in zip([start, *runs], runs, strict=False)}
    assert max(gaps) <= every, (periodic.cron, runs)
