"""The local source reads only what was appended to a run's events.jsonl, and never half a line."""

from __future__ import annotations

from pathlib import Path

from web_support import append, item, write_run

from stepbatch.web.local import LocalSource


def test_only_new_bytes_are_parsed_and_a_half_line_waits(tmp_path: Path):
    state = tmp_path / "state"
    run = write_run(state, "20261203-010000-ABC-step3", "ABC", [item(1.0, "X1@서버1", "p1")])
    source = LocalSource(state)
    assert source.rows()[0]["products_done"] == 1
    parsed = source.parsed_bytes()
    assert source.rows()[0]["products_done"] == 1 and source.parsed_bytes() == parsed  # unchanged: not read
    half = '{"ts": "2026-12-03T01:00:02+00:00", "t": 2.0, "event": "item", "unit": "X1@서버1", "it'
    append(run, [item(1.5, "X1@서버1", "p2")], tail=half)
    row = source.rows()[0]
    assert row["products_done"] == 2 and row["product"] is None  # not running (no lock): no "now"
    grown = source.parsed_bytes() - parsed
    assert 0 < grown < len((run / "events.jsonl").read_bytes()) - parsed  # the half line is not consumed
    with (run / "events.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('em": "p3", "status": "done"}\n')
    assert source.rows()[0]["products_done"] == 3


def test_the_latest_run_of_each_account_and_step_is_shown(tmp_path: Path):
    state = tmp_path / "state"
    write_run(state, "20261203-010000-ABC-step3", "ABC", [item(1.0, "X1@서버1", "p1")])
    write_run(state, "20261203-020000-ABC-step3", "ABC", [])
    finished = {"ts": "2026-12-03T03:00:09+00:00", "t": 9.0, "event": "run_finished", "outcome": "complete"}
    write_run(
        state, "20261203-030000-KBC-step2", "KBC", [item(1.0, "Y1@서버1", "q1"), finished], step="step2"
    )
    rows = {(r["account"], r["step"]): r for r in LocalSource(state).rows()}
    assert set(rows) == {("ABC", "step3"), ("KBC", "step2")}
    assert rows[("ABC", "step3")]["run_id"] == "20261203-020000-ABC-step3"
    assert rows[("ABC", "step3")]["status"] == "stopped"  # unfinished and nobody holds the lock
    assert rows[("KBC", "step2")]["status"] == "done"
