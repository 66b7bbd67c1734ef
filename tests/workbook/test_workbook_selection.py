"""Selecting units: step, server, sheet order, duplicates, normalised values, strictness."""

from __future__ import annotations

import re
import zipfile

import pytest
from workbook_helpers import task_row

from stepbatch.errors import UserError
from stepbatch.workbook import WorkbookError, load_workbook


@pytest.fixture
def book(make_book):
    rows = [
        task_row(
            "C30",
            server="서버2-1",
            target="대기2",
            image_delete="first:1/last:2",
            thumbnail_delete="first:4",
            option_image_copy="copy:2",
            image_translate="special:5",
            image_tag_insert="NO",
        ),
        task_row("A10", server="서버1-1", image_translate="specific:all"),
        task_row("B20", server="서버2-1", target="대기2"),
        task_row("S01", server="서버1", step="step2", target="서버1"),
        task_row("A10", server="서버2-1", target="대기2"),  # same code, other server: another unit
        None,
        task_row("S02", server="서버3", step="step2", target="서버3"),
        task_row("Z99", server=None, step=None, target=None),  # no step: not a work row
    ]
    return load_workbook(make_book({"ABC": [r or [] for r in rows]}))


def test_units_of_a_step_in_sheet_order(book) -> None:
    units = book.units("ABC", "step3")
    assert [u.key for u in units] == ["C30@서버2-1", "A10@서버1-1", "B20@서버2-1", "A10@서버2-1"]
    assert [u.rows for u in units] == [(2,), (3,), (4,), (6,)]
    assert {u.step for u in units} == {"step3"} and {u.sheet for u in units} == {"ABC"}


def test_ops_follow_column_order_h_to_o_and_no_is_dropped(book) -> None:
    unit = book.units("ABC", "step3", "서버2-1")[0]
    assert unit.plan() == [
        "image_delete first:1",
        "image_delete last:2",
        "thumbnail_delete first:4",
        "option_image_copy copy:2",
        "image_translate special:5",
    ]
    assert unit.target_group == "대기2"


def test_server_filter_is_exact(book) -> None:
    keys = [u.key for u in book.units("ABC", "step3", "서버2-1")]
    assert keys == ["C30@서버2-1", "B20@서버2-1", "A10@서버2-1"]
    assert [u.key for u in book.units("ABC", "step2", "서버1")] == ["S01@서버1"]


def test_servers_in_sheet_order(book) -> None:
    assert book.servers("ABC", "step3") == ["서버2-1", "서버1-1"]
    assert book.servers("ABC", "step2") == ["서버1", "서버3"]


def test_step2_units_have_no_ops(book) -> None:
    assert [u.ops for u in book.units("ABC", "step2")] == [(), ()]


def test_unknown_step_or_server_is_a_user_error_listing_choices(book) -> None:
    with pytest.raises(UserError, match="step2, step3"):
        book.units("ABC", "step4")
    with pytest.raises(UserError, match=r"서버2-1, 서버1-1"):
        book.units("ABC", "step3", "서버9")
    with pytest.raises(UserError):
        book.units("ABC", "step3", "서버1")  # 서버1 has step2 rows only


def test_identical_duplicates_merge(make_book) -> None:
    rows = [task_row("X12", image_delete="first:1"), task_row("Y34"), task_row("X12", image_delete="first:1")]
    book = load_workbook(make_book({"ABC": rows}))
    units = book.units("ABC", "step3")
    assert [(u.provider_code, u.rows) for u in units] == [("X12", (2, 4)), ("Y34", (3,))]
    assert book.problems == []


def test_conflicting_duplicates_are_an_error_naming_both_rows(make_book) -> None:
    rows = [task_row("X12", image_delete="first:1"), task_row("Y34"), task_row("X12", image_delete="last:1")]
    book = load_workbook(make_book({"ABC": rows}))
    (problem,) = book.problems
    assert (problem.sheet, problem.row, problem.column) == ("ABC", 4, "B")
    assert "rows 2 and 4" in problem.message
    with pytest.raises(WorkbookError, match="rows 2 and 4"):
        book.units("ABC", "step3")
    assert [u.key for u in book.units("ABC", "step3", strict=False)] == ["Y34@서버1-1"]


def test_same_code_with_different_target_conflicts_too(make_book) -> None:
    rows = [task_row("X12", target="대기1"), task_row("X12", target="검수1")]
    book = load_workbook(make_book({"ABC": rows}))
    assert "different target_group" in book.problems[0].message


def test_bad_rows_block_their_selection_only(make_book) -> None:
    rows = [task_row("X12", server="서버1-1", image_delete="copy2"), task_row("Y34", server="서버2-1")]
    book = load_workbook(make_book({"ABC": rows}))
    assert [u.key for u in book.units("ABC", "step3", "서버2-1")] == ["Y34@서버2-1"]
    with pytest.raises(WorkbookError, match=r"ABC!H2 \(image_delete\): 'copy2'.*did you mean copy:2"):
        book.units("ABC", "step3", "서버1-1")
    assert book.bad_row_count("ABC", "step3") == 1


def test_normalised_values_are_used_and_reported(make_book) -> None:
    rows = [task_row("Ｘ１２", server="서버1-1 ", step=" ｓｔｅｐ３", target="대기1\u3000")]
    book = load_workbook(make_book({"ABC": rows}))
    (unit,) = book.units("ABC", "step3", "서버1-1")
    assert (unit.provider_code, unit.server, unit.target_group) == ("X12", "서버1-1", "대기1")
    flagged = {(p.column, p.severity) for p in book.problems}
    assert flagged == {("B", "warning"), ("D", "warning"), ("E", "warning"), ("F", "warning")}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (None, "provider_code is blank"),
        (123, "provider_code is a number"),
        (12.5, "provider_code is a number"),
        ("X 12", "provider_code contains spaces"),
    ],
)
def test_blank_numeric_or_spaced_codes_are_errors(make_book, code, message) -> None:
    book = load_workbook(make_book({"ABC": [task_row(code), task_row("Y34")]}))
    (problem,) = book.problems
    assert (problem.row, problem.column, problem.is_error) == (2, "B", True)
    assert message in problem.message
    assert [u.provider_code for u in book.units("ABC", "step3", strict=False)] == ["Y34"]


def test_unknown_step_value_and_unknown_group_are_reported(make_book) -> None:
    rows = [task_row("X12", step="step1"), task_row("Y34", target="대기9")]
    book = load_workbook(make_book({"ABC": rows}))
    by_column = {p.column: p for p in book.problems}
    assert by_column["F"].is_error and "unknown step" in by_column["F"].message
    assert by_column["E"].severity == "warning" and "not a Percenty group" in by_column["E"].message


def test_step2_row_with_commands_warns(make_book) -> None:
    row = task_row("X12", step="step2", target="서버1", image_delete="first:1")
    book = load_workbook(make_book({"ABC": [row]}))
    (problem,) = book.problems
    assert problem.column == "H" and problem.severity == "warning"
    assert book.units("ABC", "step2")[0].ops == ()


def test_formula_cells_read_their_cached_value(make_book, tmp_path) -> None:
    path = make_book({"ABC": [task_row('="X"&"12"', image_delete='="first:"&"2"')]})
    # openpyxl writes no cached values; add them as Excel would.
    patched = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet2.xml":
                text = data.decode()
                text = re.sub(
                    r'<c r="B2"><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                    r'<c r="B2" t="str"><f>\1</f><v>X12</v></c>',
                    text,
                )
                text = re.sub(
                    r'<c r="H2"><f>(.*?)</f><v\s*/?>(</v>)?</c>',
                    r'<c r="H2" t="str"><f>\1</f><v>first:2</v></c>',
                    text,
                )
                assert text.count("<v>X12</v>") == 1 and text.count("<v>first:2</v>") == 1
                data = text.encode()
            dst.writestr(item, data)
    (unit,) = load_workbook(patched).units("ABC", "step3")
    assert unit.provider_code == "X12" and unit.plan() == ["image_delete first:2"]


def test_repeated_values_are_still_checked_on_every_row(make_book) -> None:
    """Rows that reuse values already seen clean must not hide a new problem (the reader's cache)."""
    clean = [task_row(f"A{i:02d}", image_delete="first:1", thumbnail_delete="first:2") for i in range(5)]
    rows = [
        *clean,
        task_row("B01", image_delete="copy2", thumbnail_delete="first:2"),
        task_row("B02 ", image_delete="first:1", thumbnail_delete="first:2"),
        task_row("S01", step="step2", target="서버1"),
        task_row("S02", step="step2", target="서버1", image_delete="first:1"),
        task_row("B03", image_delete="first:1", thumbnail_delete="first:2", image_tag_insert="YES"),
    ]
    book = load_workbook(make_book({"ABC": rows}))
    assert [(p.row, p.column, p.severity) for p in book.problems] == [
        (7, "H", "error"),
        (8, "B", "warning"),
        (10, "H", "warning"),
    ]
    units = {u.provider_code: u for u in book.units("ABC", "step3", strict=False)}
    assert "B01" not in units and units["B02"].plan() == units["A00"].plan()
    assert units["B03"].plan()[-1] == "image_tag_insert YES"
