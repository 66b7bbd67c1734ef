"""The runner with a fake browser and a file-based fake site: batches, recycling, errors, stops, stats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_fakes import (
    SERVER,
    Fault,
    Harness,
    check_exactly_once,
)

from stepbatch.engine.errors import BrowserCrashed, Permanent, SessionExpired, StopAccount, Transient
from stepbatch.engine.runner import RunSummary, code_location


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path, [3, 0, 2, 4, 1, 2, 3])


def test_batches_recycle_between_but_not_after_the_last(h: Harness) -> None:
    summary = h.run(batch_size=3)
    assert (summary.outcome, summary.exit_code) == ("complete", 0)
    assert [e["units"] for e in h.of("batch_started")] == [
        [f"X0{i}@{SERVER}" for i in range(3)],
        [f"X0{i}@{SERVER}" for i in range(3, 6)],
        [f"X06@{SERVER}"],
    ]
    assert [e["reason"] for e in h.of("browser_started")] == ["first", "batch", "batch"]
    assert [e["reason"] for e in h.of("browser_closed")] == ["batch", "batch", "end"]
    assert len(h.factory.browsers) == 3 and not h.factory.unclosed
    assert check_exactly_once(h.site) == []
    assert summary.items_done == 15 and summary.restarts == {"batch": 2}
    store = h.store()
    assert store.complete and store.state["total_processed_items"] == 15
    assert store.state["completed_provider_codes"] == [u.provider_code for u in h.units]
    assert list((store.path.parent / "archive").glob("step3-서버2-1-*.json"))
    run_dir = summary.run_dir
    assert sorted(p.name for p in run_dir.glob("batch-*.log")) == [
        "batch-0001.log",
        "batch-0002.log",
        "batch-0003.log",
    ]
    events = [
        json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert events == h.events and events[-1]["event"] == "run_finished"
    assert json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["items_done"] == 15
    assert "unit_finished unit=X03@서버2-1 status=done" in (run_dir / "batch-0002.log").read_text(
        encoding="utf-8"
    )


def test_second_run_on_a_complete_store_does_nothing_unless_new_cycle(h: Harness) -> None:
    h.run(batch_size=3)
    browsers = len(h.factory.browsers)
    again = h.run(batch_size=3)
    assert (again.outcome, again.exit_code, again.already_complete) == ("complete", 0, True)
    assert "everything is done" in again.message and "--new-cycle" in again.message
    assert len(h.factory.browsers) == browsers  # the browser was never touched
    cycle = h.run(batch_size=3, new_cycle=True)
    assert cycle.outcome == "complete" and cycle.cumulative["cycle"] == 2
    assert h.store().cycle == 2 and len(h.processor.calls) == 14  # every unit ran again (site now empty)


def test_recycle_by_memory_continues_the_same_unit(tmp_path: Path) -> None:
    h = Harness(tmp_path, [7, 2])
    h.factory.mb_per_item = 50  # 100 MB + 50 per item
    summary = h.run(batch_size=5, restart_above_mb=240)
    starts = [e["reason"] for e in h.of("browser_started")]
    assert starts == ["first", "memory", "memory"]  # the third is due after the last item: not needed
    assert summary.restarts == {"memory": 2} and summary.peak_memory_mb == 250
    assert h.processor.calls == ["X00", "X00", "X00", "X01"]
    assert check_exactly_once(h.site) == [] and summary.outcome == "complete"
    assert all(b.items <= 3 for b in h.factory.browsers)


def test_recycle_by_item_count(tmp_path: Path) -> None:
    h = Harness(tmp_path, [4, 3])
    summary = h.run(batch_size=5, restart_every_items=3)
    assert [b.items for b in h.factory.browsers] == [3, 3, 1]
    assert summary.restarts == {"items": 2}
    assert check_exactly_once(h.site) == []


def test_transient_backs_off_and_retries(h: Harness) -> None:
    h.processor.faults = [Fault("X02", Transient("HTTP 503"), at_item=1, times=2)]
    summary = h.run(batch_size=3)
    retries = h.of("retry")
    assert [(e["unit"], e["error_class"], e["attempt"]) for e in retries] == [
        (f"X02@{SERVER}", "Transient", 1),
        (f"X02@{SERVER}", "Transient", 2),
    ]
    assert all(0 <= e["delay_s"] <= 0.01 for e in retries)
    assert summary.outcome == "complete" and summary.retries == {"Transient": 2}
    assert h.store().units[f"X02@{SERVER}"]["attempts"] == 2
    assert check_exactly_once(h.site) == []


def test_transient_until_attempts_run_out_fails_the_unit_and_goes_on(h: Harness) -> None:
    h.processor.faults = [Fault("X03", ValueError("unexpected"), times=99)]
    summary = h.run(batch_size=3, max_attempts=3)
    assert (summary.outcome, summary.exit_code) == ("failed", 1)
    assert summary.units_failed == 1 and summary.units_done == 6
    assert h.processor.calls.count("X03") == 3
    rec = h.store().units[f"X03@{SERVER}"]
    assert (rec["status"], rec["attempts"]) == ("failed", 3) and "unexpected" in rec["last_error"]
    assert [e["error_class"] for e in h.of("error")] == ["Transient"] * 3
    assert len(h.processor.captures) == 3 and h.of("error")[0]["screenshot"].startswith("artifacts/")
    assert (summary.run_dir / h.of("error")[0]["html"]).exists()
    # where it was raised (the processor, not the engine), and the whole traceback in the run's log
    assert all(
        e["where"].startswith("engine_fakes.py:") and e["where"].endswith(" _maybe_fault")
        for e in h.of("error")
    )
    run_log = (summary.run_dir / "run.log").read_text(encoding="utf-8")
    assert run_log.count(f"traceback of the Transient error in X03@{SERVER}") == 3
    assert "ValueError: unexpected" in run_log
    # the next run retries nothing (attempts exhausted) and still reports the failure
    again = h.run(batch_size=3, max_attempts=3)
    assert again.outcome == "failed" and h.processor.calls.count("X03") == 3


def test_attempts_count_failures_in_a_row_without_progress(h: Harness) -> None:
    """X03 (4 products) fails after each product it finishes: more failures than max_attempts, but
    every call made progress, so it goes on to the end instead of failing."""
    h.processor.faults = [Fault("X03", Transient("flaky"), at_item=i) for i in (1, 2, 3)]
    summary = h.run(batch_size=3, max_attempts=3)
    assert summary.outcome == "complete" and summary.units_failed == 0
    assert h.processor.calls.count("X03") == 4 and summary.retries == {"Transient": 3}
    assert [e["attempt"] for e in h.of("unit_started") if e["unit"] == f"X03@{SERVER}"] == [1, 2, 2, 2]
    assert check_exactly_once(h.site) == []


def test_session_expired_logs_in_again_without_counting_an_attempt(h: Harness) -> None:
    h.processor.faults = [Fault("X00", SessionExpired("redirected to /signin"), at_item=1, times=2)]
    summary = h.run(batch_size=10)
    assert h.processor.opens == [1, 1, 1]  # open() again on the same browser, twice
    assert h.store().units[f"X00@{SERVER}"]["attempts"] == 0
    assert summary.relogins == 2 and summary.retries == {"SessionExpired": 2}
    assert summary.restarts == {} and summary.outcome == "complete"
    assert check_exactly_once(h.site) == []


def test_session_expired_relogins_are_capped(h: Harness) -> None:
    h.processor.faults = [Fault("X00", SessionExpired("redirected to /signin"), times=99)]
    summary = h.run(batch_size=10, max_attempts=2)
    rec = h.store().units[f"X00@{SERVER}"]
    assert rec["status"] == "failed" and rec["attempts"] == 2
    # 3 relogins in a row without progress, then each SessionExpired counts an attempt
    assert summary.relogins == 3 and summary.retries == {"SessionExpired": 4}


def test_failed_relogin_starts_a_fresh_browser(h: Harness) -> None:
    h.processor.faults = [Fault("X00", SessionExpired("signin"), at_item=1)]
    h.processor.fail_open = []
    original_open = h.processor.open
    calls = {"n": 0}

    def flaky_open(browser, account):
        calls["n"] += 1
        original_open(browser, account)
        if calls["n"] == 2:
            raise Transient("login page did not load")

    h.processor.open = flaky_open
    summary = h.run(batch_size=10)
    assert [e["reason"] for e in h.of("browser_started")] == ["first", "relogin"]
    assert summary.restarts == {"relogin": 1} and summary.outcome == "complete"


def test_browser_crash_restarts_and_retries_the_unit(h: Harness) -> None:
    h.processor.faults = [Fault("X03", BrowserCrashed("target closed"), at_item=2)]
    summary = h.run(batch_size=10)
    assert [e["reason"] for e in h.of("browser_started")] == ["first", "crash"]
    assert summary.restarts == {"crash": 1} and summary.retries == {"BrowserCrashed": 1}
    assert h.processor.captures == []  # no screenshot of a dead browser
    assert check_exactly_once(h.site) == [] and summary.outcome == "complete"


def test_browser_that_does_not_start_counts_as_a_crash(h: Harness) -> None:
    h.factory.fail_next = 1
    summary = h.run(batch_size=10)
    assert summary.retries == {"BrowserCrashed": 1} and summary.outcome == "complete"
    assert "browser failed to start" in h.of("error")[0]["message"]


def test_hung_item_is_killed_by_the_watchdog(h: Harness) -> None:
    h.processor.faults = [Fault("X02", "hang", at_item=1)]
    summary = h.run(batch_size=10, item_timeout=0.5)
    assert h.factory.browsers[0].killed.is_set()
    errors = h.of("error")
    assert [(e["error_class"], e["message"]) for e in errors] == [
        ("BrowserCrashed", "item timeout after 0.5s")
    ]
    assert [e["reason"] for e in h.of("browser_started")] == ["first", "timeout"]
    assert summary.outcome == "complete" and check_exactly_once(h.site) == []


def test_permanent_fails_the_unit_with_artifacts_and_goes_on(h: Harness) -> None:
    h.processor.faults = [Fault("X03", Permanent("product has fewer images than asked"), at_item=1)]
    summary = h.run(batch_size=10)
    rec = h.store().units[f"X03@{SERVER}"]
    assert (rec["status"], rec["permanent"], rec["attempts"]) == ("failed", True, 0)
    assert summary.units_failed == 1 and summary.units_done == 6 and h.processor.calls.count("X03") == 1
    error = h.of("error")[0]
    assert error["error_class"] == "Permanent" and error["item"] is not None
    assert (summary.run_dir / error["screenshot"]).read_bytes().startswith(b"\x89PNG")
    assert summary.errors == ["X03: product has fewer images than asked"]
    finished = next(iter(h.of("batch_finished")))
    assert (finished["processed"], finished["failed"]) == (6, 1)


def test_stop_account_stops_cleanly(h: Harness) -> None:
    h.processor.faults = [Fault("X02", StopAccount("번역 가능 횟수를 모두 사용했습니다"), at_item=1)]
    summary = h.run(batch_size=3)
    assert (summary.outcome, summary.exit_code) == ("stopped", 1)
    assert summary.stop_reason.startswith("StopAccount: 번역")
    store = h.store()
    assert [store.units[u.key]["status"] for u in h.units] == ["done", "done", "partial"] + ["pending"] * 4
    assert h.of("stop")[0]["resume"].startswith("stepbatch run step3 --account ABC --server 서버2-1")
    assert not h.factory.unclosed and h.processor.calls[-1] == "X02"
    h.processor.faults = []
    resumed = h.run(batch_size=3)
    assert resumed.outcome == "complete" and check_exactly_once(h.site) == []
    assert h.processor.calls[3] == "X02"  # the partial unit comes first


def test_max_products_then_resume_adds_up(h: Harness) -> None:
    first = h.run(batch_size=2, max_products=4)
    assert (first.outcome, first.exit_code, first.stop_reason) == ("stopped", 0, "max_products")
    assert first.items_done == 4 and h.of("stop")[0]["reason"] == "max_products"
    second = h.run(batch_size=2, max_products=6)
    assert second.items_done == 6
    third = h.run(batch_size=3)
    assert third.outcome == "complete" and third.items_done == 5
    cumulative = third.cumulative
    assert cumulative["runs"] == 3 and cumulative["items_done"] == 15 and cumulative["units_done"] == 7
    assert (
        cumulative["restarts"]["batch"]
        == 2
        == sum(s.restarts.get("batch", 0) for s in (first, second, third))
    )
    assert check_exactly_once(h.site) == []


def test_max_products_per_code_leaves_units_partial(h: Harness) -> None:
    summary = h.run(batch_size=10, max_products_per_code=2)
    assert summary.outcome == "stopped" and summary.exit_code == 0
    store = h.store()
    assert [store.units[u.key]["status"] for u in h.units] == [
        "partial",
        "done",
        "done",
        "partial",
        "done",
        "done",
        "partial",
    ]
    assert summary.items_done == 2 + 0 + 2 + 2 + 1 + 2 + 2


def test_max_products_per_code_counts_over_the_run_not_per_browser(h: Harness) -> None:
    # A recycle after every item calls process() again for the same code: the cap must still hold.
    summary = h.run(batch_size=10, max_products_per_code=2, restart_every_items=1)
    assert summary.outcome == "stopped" and summary.exit_code == 0
    assert summary.items_done == 2 + 0 + 2 + 2 + 1 + 2 + 2


def test_removed_units_are_reported_not_processed(h: Harness) -> None:
    h.run(batch_size=3, max_products=2)
    h.units = h.units[1:]
    summary = h.run(batch_size=3)
    assert summary.removed_units == [f"X00@{SERVER}"] and h.of("units_removed")[0]["units"] == [
        f"X00@{SERVER}"
    ]
    assert h.processor.calls.count("X00") == 1


def test_listener_failure_does_not_break_the_run(h: Harness) -> None:
    def broken(_event: dict) -> None:
        raise RuntimeError("display died")

    summary = h.run(listeners=[broken], batch_size=3)
    assert summary.outcome == "complete"
    assert "display died" in (summary.run_dir / "run.log").read_text(encoding="utf-8")


def test_no_secret_in_run_files(h: Harness) -> None:
    summary = h.run(batch_size=3)
    for path in summary.run_dir.rglob("*"):
        if path.is_file():
            assert b"pw-never-shown" not in path.read_bytes()
    assert b"pw-never-shown" not in h.store().path.read_bytes()


def _raise_the_original() -> None:
    raise TimeoutError("Locator.wait_for: Timeout 20000ms exceeded.")


def _translate() -> None:
    try:
        _raise_the_original()
    except TimeoutError as exc:
        raise Transient(str(exc)) from exc


def test_an_error_is_placed_where_it_was_raised_not_where_it_was_translated() -> None:
    with pytest.raises(Transient) as info:
        _translate()
    assert code_location(info.value) == (
        f"test_engine_runner.py:{_raise_the_original.__code__.co_firstlineno + 1} _raise_the_original"
    )
    assert code_location(Transient("never raised")) is None  # no traceback: nothing to say


@pytest.mark.parametrize(
    ("outcome", "stop_reason", "items_failed", "exit_code"),
    [
        ("complete", None, 0, 0),
        ("complete", None, 3, 1),  # every code done, but some products could not take their edits
        ("stopped", "max_products", 0, 0),
        ("stopped", "StopAccount: no translation credits", 0, 1),
        ("failed", None, 0, 1),
        ("interrupted", "signal SIGINT", 0, 130),
    ],
)
def test_exit_code_tells_a_scheduler_whether_anything_needs_a_look(
    tmp_path: Path, outcome: str, stop_reason: str | None, items_failed: int, exit_code: int
) -> None:
    summary = RunSummary(
        run_id="r",
        run_dir=tmp_path,
        account="ABC",
        step="step3",
        server=None,
        outcome=outcome,
        stop_reason=stop_reason,
        items_failed=items_failed,
    )
    assert summary.exit_code == exit_code
