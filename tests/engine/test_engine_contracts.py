"""The engine against the typed contracts: event payloads, the retry policy, the limits, one re-login cap."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from engine_fakes import FakeFactory, Fault, Site, SiteProcessor, check_exactly_once, make_account, make_units

from stepbatch.contracts.events import PAYLOADS, Event
from stepbatch.engine.errors import BrowserCrashed, Permanent, SessionExpired, Transient
from stepbatch.engine.limits import Boundary, Limits
from stepbatch.engine.options import RunOptions
from stepbatch.engine.protocol import UnitContext, UnitResult
from stepbatch.engine.retry import MAX_RELOGINS_IN_A_ROW, ReloginStreak, RetryPolicy
from stepbatch.engine.runner import RunSummary, run_account
from stepbatch.state.backends import FileBackend
from stepbatch.workbook.models import Unit

SERVER = "서버2-1"


class RelogsInPlace(SiteProcessor):
    """Logs in again by itself on SessionExpired, asking the engine first (like PercentySite.with_relogin)."""

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        while True:
            try:
                return super().process(unit, ctx)
            except SessionExpired as exc:
                if not ctx.relogged_in(str(exc)):
                    raise


def _run(
    tmp_path: Path, processor: SiteProcessor, units: list[Unit], events: list[dict], **options: Any
) -> RunSummary:
    options.setdefault("backoff_base", 0.001)
    options.setdefault("backoff_max", 0.01)
    return run_account(
        state_dir=tmp_path / "state",
        account=make_account(),
        step="step3",
        server=SERVER,
        units=units,
        processor=processor,
        browser_factory=FakeFactory(mb_per_item=60),
        options=RunOptions(**options),
        listeners=[events.append],
        handle_signals=False,
        rng=random.Random(3),
    )


def _check_payloads(events: list[dict]) -> set[Event]:
    seen = set()
    for rec in events:
        event = Event.parse(rec["event"])
        assert event is not None, rec
        seen.add(event)
        payload = set(rec) - {"ts", "t", "event"}
        schema = PAYLOADS[event]
        required, optional = schema.__required_keys__, schema.__optional_keys__
        assert required <= payload, (event, required - payload)
        if event is not Event.NOTE:  # a note's extra keys depend on its kind
            assert payload <= required | optional, (event, payload - required - optional)
    return seen


def test_every_emitted_payload_matches_its_typed_dict(tmp_path: Path) -> None:
    site = Site(tmp_path / "site.db")
    units = make_units(6, server=SERVER)
    site.populate({u.provider_code: 3 for u in units})
    processor = RelogsInPlace(site)
    processor.faults = [
        Fault("X00", SessionExpired("signin"), at_item=1),
        Fault("X01", Transient("HTTP 503"), at_item=1),
        Fault("X02", BrowserCrashed("target closed"), at_item=1),
        Fault("X03", Permanent("too few images"), at_item=1),
    ]
    events: list[dict] = []
    first = _run(tmp_path, processor, units[:5], events, batch_size=2, restart_above_mb=200, max_products=9)
    assert (first.outcome, first.stop_reason, first.relogins) == ("stopped", "max_products", 1)
    assert _run(tmp_path, processor, units[1:5], events).outcome == "failed"  # X00 left the workbook
    assert _run(tmp_path, processor, units[4:5], events).outcome == "complete"
    assert _run(tmp_path, processor, units[4:5], events, new_cycle=True).outcome == "complete"
    assert _run(tmp_path, processor, units[4:], events).outcome == "complete"  # X05 added: a warning
    seen = _check_payloads(events)
    relogins = [e for e in events if e["event"] == "retry" and e["error_class"] == "SessionExpired"]
    assert [e.get("by") for e in relogins] == ["processor"]
    # The fake processor writes no notes; browser_failed is optional (the notifier infers it otherwise).
    assert set(Event) - seen == {Event.NOTE, Event.BROWSER_FAILED}
    assert all(type(e["event"]) is Event for e in events)


def test_relogins_in_place_and_by_the_engine_share_one_cap(tmp_path: Path) -> None:
    site = Site(tmp_path / "site.db")
    units = make_units(2, server=SERVER)
    site.populate({u.provider_code: 2 for u in units})
    processor = RelogsInPlace(site, faults=[Fault("X00", SessionExpired("signin"), times=99)])
    events: list[dict] = []
    summary = _run(tmp_path, processor, units, events, max_attempts=2)
    # the same counts as when the engine logs in again itself (test_session_expired_relogins_are_capped)
    assert summary.relogins == MAX_RELOGINS_IN_A_ROW and summary.retries == {"SessionExpired": 4}
    relogins = [e for e in events if e["event"] == "retry" and e.get("by") == "processor"]
    assert len(relogins) == MAX_RELOGINS_IN_A_ROW  # logged in in place
    assert processor.opens == [1, 1, 1]  # first; before the second attempt; before X01 (session gone)
    assert summary.units_failed == 1 and summary.units_done == 1


def test_an_item_boundary_gives_the_relogins_back(tmp_path: Path) -> None:
    site = Site(tmp_path / "site.db")
    units = make_units(1, server=SERVER)
    site.populate({"X00": 6})
    faults = [Fault("X00", SessionExpired("signin"), at_item=i, times=2) for i in range(1, 5)]
    processor = RelogsInPlace(site, faults=faults)
    summary = _run(tmp_path, processor, units, [])
    assert (
        summary.outcome == "complete" and summary.relogins == 8 and summary.retries == {"SessionExpired": 8}
    )
    assert check_exactly_once(site) == []


def test_a_custom_backend_holds_progress_and_the_lease(tmp_path: Path) -> None:
    calls: list[str] = []

    class Recording(FileBackend):
        def open_store(self, *args: Any, **kwargs: Any) -> Any:
            calls.append("open_store")
            return super().open_store(*args, **kwargs)

        def lease(self, account: str, step: str) -> Any:
            calls.append("lease")
            return super().lease(account, step)

    site = Site(tmp_path / "site.db")
    units = make_units(1, server=SERVER)
    site.populate({"X00": 1})
    summary = run_account(
        state_dir=tmp_path / "runs-here",
        account=make_account(),
        step="step3",
        server=SERVER,
        units=units,
        processor=SiteProcessor(site),
        browser_factory=FakeFactory(),
        options=RunOptions(),
        handle_signals=False,
        backend=Recording(tmp_path / "progress-here"),
    )
    assert summary.outcome == "complete" and calls == ["lease", "open_store"]
    assert summary.run_dir.parent == tmp_path / "runs-here" / "runs"
    assert list((tmp_path / "progress-here").rglob("step3-*.json"))


def test_retry_policy_from_options_and_its_checks() -> None:
    policy = RetryPolicy.from_options(RunOptions(max_attempts=4, backoff_base=1.0, backoff_max=3.0))
    assert (policy.max_attempts, policy.relogins_in_a_row) == (4, MAX_RELOGINS_IN_A_ROW)
    rng = random.Random(1)
    assert all(0 <= policy.backoff(n, rng) <= min(3.0, 2 ** (n - 1)) for n in range(1, 8))
    assert policy.attempt(2, progressed=False) == 3 and policy.attempt(2, progressed=True) == 1
    assert not policy.exhausted(3) and policy.exhausted(4)
    for bad in (
        {"max_attempts": 0},
        {"backoff_base": -1.0},
        {"backoff_max": -1.0},
        {"relogins_in_a_row": -1},
    ):
        with pytest.raises(ValueError):
            RetryPolicy(**bad)
    with pytest.raises(AttributeError):
        policy.max_attempts = 9  # type: ignore[misc]
    streak = ReloginStreak(RetryPolicy(relogins_in_a_row=2))
    assert [streak.take() for _ in range(3)] == [True, True, False]
    streak.reset()
    assert streak.take()


def test_limits_each_read_their_own_option() -> None:
    limits = Limits(
        RunOptions(max_products=5, restart_above_mb=300, restart_every_items=4, max_products_per_code=2)
    )
    limits.item_boundary(Boundary(run_items=1, browser_items=1, memory_mb=None))
    assert (limits.stop_reason, limits.recycle_reason, limits.why_stop(1)) == (None, None, None)
    assert limits.why_stop(2) == "max_products_per_code" and limits.should_stop(2)
    limits.item_boundary(Boundary(run_items=2, browser_items=4, memory_mb=301))
    assert limits.recycle_reason == "memory" and limits.why_stop(0) == "memory"  # memory is named first
    limits.recycled()
    limits.item_boundary(Boundary(run_items=5, browser_items=1, memory_mb=100))
    assert (limits.stop_reason, limits.recycle_reason) == ("max_products", None)
    assert limits.stop_event.is_set() and not limits.signalled
    limits.request_stop("signal SIGINT")
    assert limits.stop_reason == "max_products"  # the first reason stays


def test_after_the_relogins_in_a_row_an_attempt_is_counted_and_the_retry_logs_in(tmp_path: Path) -> None:
    site = Site(tmp_path / "site.db")
    units = make_units(1, server=SERVER)
    site.populate({"X00": 2})
    processor = RelogsInPlace(site, faults=[Fault("X00", SessionExpired("signin"), times=4)])
    summary = _run(tmp_path, processor, units, [])
    assert summary.outcome == "complete" and summary.relogins == MAX_RELOGINS_IN_A_ROW
    assert summary.retries == {"SessionExpired": MAX_RELOGINS_IN_A_ROW + 1}
    assert processor.opens == [1, 1]  # open() again before the attempt that followed
    assert check_exactly_once(site) == []
