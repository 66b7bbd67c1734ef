"""The sample workbook generator: realistic, deterministic, and (with dirty=True) every damage case."""

from __future__ import annotations

import re

import pytest
from python_calamine import CalamineWorkbook

from stepbatch.errors import UserError
from stepbatch.workbook import load_workbook, write_sample_workbook
from stepbatch.workbook.grammar import ALLOWED
from stepbatch.workbook.groups import GROUP_NAMES


def sheet_values(path) -> dict[str, list[list[object]]]:
    book = CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return write_sample_workbook(tmp_path_factory.mktemp("sample") / "clean.xlsx", accounts=3, codes=40)


def test_same_seed_same_workbook_other_seed_differs(tmp_path, clean) -> None:
    again = write_sample_workbook(tmp_path / "again.xlsx", accounts=3, codes=40)
    other = write_sample_workbook(tmp_path / "other.xlsx", accounts=3, codes=40, seed=2)
    assert sheet_values(again) == sheet_values(clean)
    assert sheet_values(other) != sheet_values(clean)


def test_clean_sample_has_no_problems_and_realistic_content(clean) -> None:
    book = load_workbook(clean)
    assert book.problems == []
    assert [a.email for a in book.accounts] == [f"seller0{i}@example.com" for i in (1, 2, 3)]
    assert all(re.fullmatch(r"[A-Z]{3}", a.nickname) for a in book.accounts)
    assert len({a.nickname for a in book.accounts}) == 3
    assert all(a.password.reveal().startswith("demo-") for a in book.accounts)
    assert all(re.fullmatch(r"[가-힣]{3}", a.operator) for a in book.accounts)
    for account in book.accounts:
        step2, step3 = book.units(account, "step2"), book.units(account, "step3")
        assert len(step2) + len(step3) == 40 and len(step2) == 8  # step2_share 0.2
        codes = [u.provider_code for u in step2 + step3]
        assert len(set(codes)) == 40 and all(re.fullmatch(r"[A-Z]\d{2}", c) for c in codes)
        assert {u.server for u in step2} <= {"서버1", "서버2", "서버3"}
        sub_servers = {f"서버{a}-{b}" for a in "123" for b in "123"}
        assert {u.server for u in step3} <= sub_servers | {"서버1", "서버2"}
        assert {u.target_group for u in step2 + step3} <= set(GROUP_NAMES)
        assert all(op.command.kind in ALLOWED[op.action] for u in step3 for op in u.ops)
        assert sum(bool(u.ops) for u in step3) >= len(step3) * 0.8
    assert "guide" in sheet_values(clean)


def test_step2_share_and_many_codes(tmp_path) -> None:
    path = write_sample_workbook(tmp_path / "big.xlsx", accounts=1, codes=3000, step2_share=0.5)
    book = load_workbook(path)
    step2, step3 = book.units("account_1", "step2"), book.units("account_1", "step3")
    assert (len(step2), len(step3)) == (1500, 1500)
    codes = {u.provider_code for u in step2 + step3}
    assert len(codes) == 3000 and all(re.fullmatch(r"[A-Z]\d{3}", c) for c in codes)


@pytest.mark.parametrize("accounts", [1, 2])
def test_dirty_sample_contains_every_damage_case(tmp_path, accounts) -> None:
    path = write_sample_workbook(tmp_path / "dirty.xlsx", accounts=accounts, dirty=True)
    book = load_workbook(path)
    messages = [(p.sheet, p.row, p.column, p.value, p.message) for p in book.problems]
    text = "\n".join(p.line() for p in book.problems)
    assert re.search(r"thumbnail_translate appears in columns L and [OP]", text)
    assert re.search(r"!N1: column has data but no header", text)
    assert "'copy2': unknown command 'copy2' (did you mean copy:2?" in text
    assert "did you mean copy:4?" in text
    assert re.search(r"also on row \d+ with different target_group", text)
    assert "provider_code is blank" in text and "'123': provider_code is a number" in text
    assert re.search(r"'[Ａ-Ｚ][０-９]{2}': provider_code read as '[A-Z]\d{2}'", text)
    assert re.search(r"'서버\d-\d ': final_group \(server\) read as", text)
    assert "'ｓｔｅｐ３': step read as 'step3'" in text
    assert all(sheet and row and (column or "column" in msg) for sheet, row, column, _, msg in messages)


def test_refuses_to_overwrite_unless_forced(tmp_path) -> None:
    path = tmp_path / "wb.xlsx"
    path.write_bytes(b"keep me")
    with pytest.raises(UserError, match="already exists"):
        write_sample_workbook(path)
    assert path.read_bytes() == b"keep me"
    write_sample_workbook(path, force=True, codes=5)
    assert load_workbook(path).problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wb.xlsx"]  # no temp file left


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"accounts": 0}, "--accounts"),
        ({"codes": 0}, "--codes"),
        ({"step2_share": 1.5}, "--step2-share"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, fragment) -> None:
    with pytest.raises(UserError, match=fragment):
        write_sample_workbook(tmp_path / "wb.xlsx", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_wrong_extension_is_refused(tmp_path) -> None:
    with pytest.raises(UserError, match=r"\.xlsx"):
        write_sample_workbook(tmp_path / "wb.csv")
