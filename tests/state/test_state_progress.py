"""The progress store: commits, compaction, recovery from damage, archive, cycles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stepbatch.engine.protocol import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.progress import SCHEMA_VERSION, ProgressStore, StorePaths, progress_path
from stepbatch.workbook.models import Unit

SERVER = "서버2-1"


def units(n: int) -> list[Unit]:
    return [Unit("ABC", "step3", SERVER, f"A{i:02d}", "대기2") for i in range(n)]


def open_store(state_dir: Path, **kw) -> ProgressStore:
    return ProgressStore.open(state_dir, "ABC", "step3", SERVER, **kw)


def fill(store: ProgressStore, n_units: int = 3) -> None:
    store.add_units(units(n_units))
    store.update_unit("A00@서버2-1", status=UnitStatus.IN_PROGRESS)
    store.item_started("A00@서버2-1", "p1", ["image_delete first:1"], {"ops_done": 0})
    store.item_checkpoint("A00@서버2-1", "p1", {"op": 0, "before": 9})
    store.item_checkpoint("A00@서버2-1", "p1", {"ops_done": 1})
    store.item_status("A00@서버2-1", "p1", ItemStatus.EDITED)
    store.item_status("A00@서버2-1", "p1", ItemStatus.DONE)
    store.update_unit("A00@서버2-1", status=UnitStatus.DONE)
    store.update_unit("A01@서버2-1", status=UnitStatus.IN_PROGRESS)
    store.item_started("A01@서버2-1", "p2", ["x"], {"ops_done": 0})
    store.item_checkpoint("A01@서버2-1", "p2", {"op": 0, "before": 4})


def check_filled(store: ProgressStore) -> None:
    assert store.unit_status("A00@서버2-1") == UnitStatus.DONE
    assert store.item("A00@서버2-1", "p1").status == ItemStatus.DONE  # plan/checkpoint may be compacted away
    assert store.item("A01@서버2-1", "p2").checkpoint == {"ops_done": 0, "op": 0, "before": 4}
    assert store.item("A01@서버2-1", "p2").plan == ["x"]
    assert store.state["completed_provider_codes"] == ["A00"]
    assert store.state["last_completed_provider_code"] == "A00"
    assert store.state["total_processed_items"] == 1
    assert [r.item_id for r in store.unfinished_items("A01@서버2-1")] == ["p2"]
    assert store.unit_status("A02@서버2-1") == UnitStatus.PENDING


def test_path_layout_and_proposal_fields(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store.close()
    path = state_dir / "progress" / "ABC" / "step3-서버2-1.json"
    assert store.path == path == progress_path(state_dir, "ABC", "step3", SERVER)
    data = json.loads(path.read_text(encoding="utf-8"))
    for key in (
        "account_id",
        "server_name",
        "last_completed_provider_code",
        "completed_provider_codes",
        "current_batch_start_time",
        "total_processed_items",
        "schema_version",
        "cycle",
        "units",
        "runs",
    ):
        assert key in data
    assert data["server_name"] == SERVER and data["schema_version"] == SCHEMA_VERSION
    assert progress_path(state_dir, "ABC", "step2", None).name == "step2.json"


def test_commits_survive_without_close_through_the_journal(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store._close_journal()  # the process dies: no compaction, only journal lines on disk
    journal = StorePaths(store.path).journal
    assert len(journal.read_text(encoding="utf-8").splitlines()) == 11
    check_filled(open_store(state_dir))


def test_compaction_every_n_lines_folds_the_journal(state_dir: Path) -> None:
    store = open_store(state_dir, compact_every=4)
    fill(store)
    paths = StorePaths(store.path)
    assert len(paths.journal.read_text(encoding="utf-8").splitlines()) == 11 % 4
    assert paths.prev.exists()
    store._close_journal()
    check_filled(open_store(state_dir))


def test_torn_last_line_is_ignored_and_cut_off(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store._close_journal()
    journal = StorePaths(store.path).journal
    with open(journal, "ab") as fh:
        fh.write(b'{"g":0,"ts":"x","op":"unit","k":"A02@\xec\x84')  # crash in the middle of a line
    again = open_store(state_dir)
    check_filled(again)
    assert any("torn" in w for w in again.warnings)
    assert journal.read_bytes().endswith(b"\n")  # the torn bytes are gone, the next line starts clean
    again.update_unit("A02@서버2-1", status=UnitStatus.DONE)
    again._close_journal()
    assert open_store(state_dir).unit_status("A02@서버2-1") == UnitStatus.DONE


def test_corrupt_middle_line_stops_with_file_and_line(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store._close_journal()
    journal = StorePaths(store.path).journal
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = "garbage}\n"
    journal.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(UserError) as err:
        open_store(state_dir)
    assert str(journal) in str(err.value) and "line 4" in str(err.value)
    assert journal.read_text(encoding="utf-8").count("\n") == 11  # nothing rewritten


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b'{"schema_version": 1, "units": ', "not valid JSON"),
        (b"[1, 2, 3]", "expected a JSON object"),
        (b'{"schema_version": 1, "units": []}', "unexpected content"),
        (b"\xff\xfe garbage", "not valid JSON"),
    ],
    ids=["empty", "truncated", "not-object", "wrong-shape", "binary"],
)
def test_damaged_snapshot_recovers_from_previous_generation(
    state_dir: Path, content: bytes, reason: str
) -> None:
    store = open_store(state_dir, compact_every=3)
    fill(store)
    store._close_journal()
    store.path.write_bytes(content)
    again = open_store(state_dir)
    check_filled(again)  # prev + its journal + the current journal: nothing lost
    assert len(again.warnings) == 1 and reason in again.warnings[0] and "recovered" in again.warnings[0]
    assert next(iter(store.path.parent.glob("*.damaged-*"))).read_bytes() == content  # kept, not deleted
    json.loads(store.path.read_text(encoding="utf-8"))  # a good snapshot was written at once
    again.close()
    check_filled(open_store(state_dir))


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"schema_version": 1}'])
def test_damaged_snapshot_without_previous_generation_is_a_clear_error(
    state_dir: Path, content: bytes
) -> None:
    store = open_store(state_dir)
    store.add_units(units(2))
    store.close(compact=False)
    store.path.write_bytes(content)
    with pytest.raises(UserError) as err:
        open_store(state_dir)
    message = str(err.value)
    assert str(store.path) in message and "no previous generation" in message and "\n" not in message
    assert store.path.read_bytes() == content  # never silently reset


def test_newer_schema_is_refused(state_dir: Path) -> None:
    store = open_store(state_dir, compact_every=2)
    fill(store)
    store.close()
    data = json.loads(store.path.read_text(encoding="utf-8"))
    data["schema_version"] = SCHEMA_VERSION + 1
    store.path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match="written by a newer stepbatch") as err:
        open_store(state_dir)
    assert str(store.path) in str(err.value)
    assert json.loads(store.path.read_text(encoding="utf-8"))["schema_version"] == SCHEMA_VERSION + 1


def test_interrupted_compaction_does_not_replay_folded_lines(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store._close_journal()
    journal = StorePaths(store.path).journal
    saved = journal.read_bytes()
    store.compact()  # snapshot now holds everything; simulate a crash before the journal was moved
    journal.write_bytes(saved)
    again = open_store(state_dir)
    assert again.state["total_processed_items"] == 1  # not 2: the old lines were recognised
    check_filled(again)


def test_readonly_open_changes_nothing(state_dir: Path) -> None:
    store = open_store(state_dir, compact_every=3)
    fill(store)
    store._close_journal()
    journal = StorePaths(store.path).journal
    with open(journal, "ab") as fh:
        fh.write(b'{"torn')
    store.path.write_bytes(b"")
    before = {p.name: p.read_bytes() for p in store.path.parent.iterdir() if p.is_file()}
    ro = open_store(state_dir, readonly=True)
    check_filled(ro)
    after = {p.name: p.read_bytes() for p in store.path.parent.iterdir() if p.is_file()}
    assert before == after
    with pytest.raises(RuntimeError):
        ro.update_unit("A02@서버2-1", status=UnitStatus.DONE)


def test_complete_archive_new_cycle_and_reset_failed(state_dir: Path) -> None:
    store = open_store(state_dir)
    store.add_units(units(2))
    store.update_unit("A00@서버2-1", status=UnitStatus.FAILED, attempts=3, permanent=True, last_error="x")
    assert store.reset_failed() == 1
    rec = store.units["A00@서버2-1"]
    assert (rec["status"], rec["attempts"], rec["permanent"]) == ("pending", 0, False)
    for key in store.units:
        store.update_unit(key, status=UnitStatus.DONE)
    archived = store.mark_complete()
    assert archived.parent == store.path.parent / "archive"
    assert archived.name.startswith("step3-서버2-1-")
    assert json.loads(archived.read_text(encoding="utf-8"))["complete"] is True
    store.close()
    again = open_store(state_dir)
    assert again.complete and again.cycle == 1
    again.start_new_cycle()
    assert (again.complete, again.cycle, again.units) == (False, 2, {})
    again.close()
    assert open_store(state_dir).cycle == 2


def test_compaction_keeps_details_only_for_open_items(state_dir: Path) -> None:
    store = open_store(state_dir)
    fill(store)
    store.close()
    data = json.loads(store.path.read_text(encoding="utf-8"))
    assert data["units"]["A00@서버2-1"]["items"]["p1"].keys() == {"status", "error", "updated_at"}
    assert data["units"]["A01@서버2-1"]["items"]["p2"]["plan"] == ["x"]
