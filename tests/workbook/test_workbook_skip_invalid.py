"""Rows with errors: `Workbook.skipped_rows`, and how `stepbatch run` selects units with --skip-invalid."""

from __future__ import annotations

import pytest
from workbook_helpers import task_row

from stepbatch.app.preflight import SKIP_HINT, select_run_units, skipped_lines
from stepbatch.errors import UserError
from stepbatch.workbook import SkippedRow, load_workbook


@pytest.fixture
def book(make_book):
    rows = [
        task_row("A10", server="서버2-1", image_delete="first:1"),  # row 2: clean
        task_row("B20", server="서버2-1", image_tag_insert="yess"),  # row 3: unknown word
        task_row("C30", server="서버2-1", image_delete="first:1"),  # row 4: conflicts with row 6
        task_row("D40", server="서버1-1", image_translate="specific:all"),  # row 5: clean, other server
        task_row("C30", server="서버2-1", image_delete="first:2"),  # row 6: same code, other commands
        task_row("E50", server="서버1-1", thumbnail_delete="frist:1", image_translate="speical:2"),  # row 7
        task_row("S01", server="서버1", step="step2", target="서버1"),  # row 8: step2
    ]
    return load_workbook(make_book({"ABC": rows}))


def test_skipped_rows_name_sheet_row_column_and_message(book) -> None:
    skipped = book.skipped_rows("ABC", "step3")
    assert [(r.row, r.provider_code, r.column, r.header) for r in skipped] == [
        (3, "B20", "L", "image_tag_insert"),
        (4, "C30", "B", "provider_code"),  # no error of its own: the conflict reported on row 6
        (6, "C30", "B", "provider_code"),
        (7, "E50", "I", "thumbnail_delete"),
    ]
    first = skipped[0]
    assert isinstance(first, SkippedRow) and first.sheet == "ABC" and first.value == "yess"
    assert first.message == "unknown command 'yess'; image_tag_insert accepts YES, NO"
    assert "did you mean first:1?" in skipped[3].message  # a guess is offered, never applied
    assert first.line().startswith("sheet ABC row 3 (B20), column L (image_tag_insert): unknown command")
    assert skipped[3].errors == 2 and skipped[3].line().endswith("(+1 more error(s) in this row)")
    assert first.to_dict()["row"] == 3 and first.to_dict()["server"] == "서버2-1"


def test_skipped_rows_follow_the_server_filter_and_match_the_bad_row_count(book) -> None:
    assert [r.row for r in book.skipped_rows("ABC", "step3", "서버1-1")] == [7]
    assert book.skipped_rows("ABC", "step2") == []
    for server in (None, "서버2-1", "서버1-1"):
        assert len(book.skipped_rows("ABC", "step3", server)) == book.bad_row_count("ABC", "step3", server)


def test_without_skip_invalid_the_run_refuses_and_names_the_flag(book) -> None:
    account = book.account("ABC")
    with pytest.raises(UserError) as err:
        select_run_units(book, account, "step3", None, skip_invalid=False)
    message = str(err.value)
    assert "\n" not in message and message.endswith("; " + SKIP_HINT)
    assert "ABC!L3 (image_tag_insert): 'yess': unknown command 'yess';" in message
    assert message.startswith(f"{book.path}: 4 problem(s) in the step3 rows of ABC: ")


def test_with_skip_invalid_the_clean_rows_run_and_the_others_are_listed(book) -> None:
    selection = select_run_units(book, book.account("ABC"), "step3", None, skip_invalid=True)
    assert [u.key for u in selection.units] == ["A10@서버2-1", "D40@서버1-1"]
    assert [r.row for r in selection.skipped] == [3, 4, 6, 7]
    lines = skipped_lines(selection.skipped)
    assert lines[0] == "skipping 4 row(s) with errors (--skip-invalid); they are not run:"
    assert lines[1].startswith("  sheet ABC row 3 (B20), column L (image_tag_insert):")


def test_the_console_list_is_capped(book) -> None:
    rows = book.skipped_rows("ABC", "step3") * 5
    lines = skipped_lines(rows, limit=3)
    assert len(lines) == 5 and lines[-1].startswith("  … and 17 more")


def test_a_clean_selection_needs_no_flag(book) -> None:
    selection = select_run_units(book, book.account("ABC"), "step2", None, skip_invalid=False)
    assert [u.key for u in selection.units] == ["S01@서버1"] and selection.skipped == []


def test_skip_invalid_cannot_skip_a_login_error(make_book) -> None:
    login = [["abc@example.com", "", "김하늘", "ABC"]]  # no password
    path = make_book({"ABC": [task_row("A10", server="서버2-1")]}, login=login)
    book = load_workbook(path)
    for skip in (False, True):
        with pytest.raises(UserError, match="no password") as err:
            select_run_units(book, book.account("ABC"), "step3", None, skip_invalid=skip)
        assert ("--skip-invalid skips task rows only" in str(err.value)) is skip
        assert SKIP_HINT not in str(err.value)


def test_skip_invalid_with_no_clean_row_refuses(make_book) -> None:
    book = load_workbook(make_book({"ABC": [task_row("A10", server="서버2-1", image_delete="copy2")]}))
    with pytest.raises(UserError, match="every step3 row of sheet ABC has errors, nothing to run"):
        select_run_units(book, book.account("ABC"), "step3", None, skip_invalid=True)


def test_unknown_words_are_never_read_as_yes(book) -> None:
    """The old tool read any unknown text as YES; here the row is out, whatever the flag."""
    units = book.units("ABC", "step3", strict=False)
    assert "B20@서버2-1" not in {u.key for u in units}
