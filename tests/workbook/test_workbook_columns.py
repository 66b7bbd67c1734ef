"""Header-based column mapping: shifted, blank, duplicated and missing headers."""

from __future__ import annotations

import pytest
from workbook_helpers import task_row

from stepbatch.workbook import WorkbookError, load_workbook
from stepbatch.workbook.columns import TASK_HEADERS


def test_columns_are_found_by_header_name_whatever_their_order(make_book) -> None:
    header = list(reversed(TASK_HEADERS))
    row = list(reversed(task_row("X12", image_delete="first:2", option_image_copy="copy:1")))
    book = load_workbook(make_book({"ABC": [row]}, header=header))
    (unit,) = book.units("ABC", "step3")
    assert unit.provider_code == "X12"
    assert unit.plan() == ["image_delete first:2", "option_image_copy copy:1"]
    moved = [p for p in book.problems if "expected" in p.message]
    assert {p.header for p in moved} >= {"provider_code", "image_delete"}
    assert all(p.severity == "warning" for p in moved)


def test_header_matching_ignores_case_spaces_and_underscores(make_book) -> None:
    header = [h.upper().replace("_", " ") + "  " for h in TASK_HEADERS]
    header[5] = " Step2 OR step3"
    book = load_workbook(make_book({"ABC": [task_row("X12", thumbnail_delete="first:1")]}, header=header))
    (unit,) = book.units("ABC", "step3")
    assert unit.plan() == ["thumbnail_delete first:1"]
    assert book.problems == []


def test_extra_thumbnail_translate_column_at_L_is_reported_not_misread(make_book) -> None:
    header = list(TASK_HEADERS)
    header.insert(11, "thumbnail_translate")
    row = task_row("X12", image_tag_insert="YES", thumbnail_translate="special:2")
    row.insert(11, "specific:all")
    book = load_workbook(make_book({"ABC": [row]}, header=header))
    dup = [p for p in book.problems if "appears in columns" in p.message]
    assert len(dup) == 1 and dup[0].is_error
    assert "L and O" in dup[0].message and dup[0].sheet == "ABC" and dup[0].header == "thumbnail_translate"
    with pytest.raises(WorkbookError, match="ABC"):
        book.units("ABC", "step3")
    assert book.units("ABC", "step3", strict=False) == []


def test_duplicated_header_with_one_empty_column_reads_the_other(make_book) -> None:
    header = list(TASK_HEADERS)
    header.insert(11, "thumbnail_translate")
    row = task_row("X12", thumbnail_translate="special:2")
    row.insert(11, None)
    book = load_workbook(make_book({"ABC": [row]}, header=header))
    (unit,) = book.units("ABC", "step3")
    assert unit.plan() == ["thumbnail_translate special:2"]
    (dup,) = [p for p in book.problems if "appears in columns" in p.message]
    assert dup.severity == "warning" and dup.column == "O"


def test_blank_header_with_data_inside_the_command_columns_is_an_error(make_book) -> None:
    header = list(TASK_HEADERS)
    header.insert(13, None)
    row = task_row("X12", thumbnail_translate="specific:all")
    row.insert(13, "specific:all")
    book = load_workbook(make_book({"ABC": [row]}, header=header))
    (blank,) = [p for p in book.problems if "no header" in p.message]
    assert (blank.sheet, blank.row, blank.column, blank.severity) == ("ABC", 1, "N", "error")
    shifted = {p.column: p.header for p in book.problems if "expected" in p.message}
    assert shifted["O"] == "thumbnail_translate"
    with pytest.raises(WorkbookError, match=r"ABC"):
        book.units("ABC", "step3")


def test_blank_header_without_data_is_fine_and_far_right_data_is_a_warning(make_book) -> None:
    header = [*TASK_HEADERS, None, None]
    row = [*task_row("X12"), None, "free note"]
    book = load_workbook(make_book({"ABC": [row]}, header=header))
    (note,) = book.problems
    assert note.column == "U" and note.severity == "warning"
    assert len(book.units("ABC", "step3")) == 1


def test_missing_header_row_falls_back_to_standard_positions(make_book) -> None:
    rows = [task_row("X12", image_delete="first:1"), task_row("Y34", server="서버2-1", target="대기2")]
    book = load_workbook(make_book({"ABC": rows}, header=None))
    units = book.units("ABC", "step3", strict=True)
    assert [u.provider_code for u in units] == ["X12", "Y34"]
    assert units[0].rows == (1,)  # row 1 is data
    (warning,) = book.problems
    assert "no header row" in warning.message and warning.severity == "warning"


def test_required_column_missing_is_a_sheet_error(make_book) -> None:
    header = [h if h != "target_group" else "target" for h in TASK_HEADERS]
    book = load_workbook(make_book({"ABC": [task_row("X12")]}, header=header))
    assert any("no 'target_group' column" in p.message and p.is_error for p in book.problems)
    with pytest.raises(WorkbookError):
        book.units("ABC", "step3")


def test_missing_command_column_is_a_warning(make_book) -> None:
    header = [h if h != "html_update" else "비고" for h in TASK_HEADERS]
    book = load_workbook(make_book({"ABC": [task_row("X12", image_delete="first:1")]}, header=header))
    (warning,) = book.problems
    assert "html_update" in warning.message and warning.severity == "warning"
    assert book.units("ABC", "step3")[0].plan() == ["image_delete first:1"]
