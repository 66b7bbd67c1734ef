"""Every way a file can be unusable: one WorkbookError line naming the file."""

from __future__ import annotations

import struct
import threading
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from workbook_helpers import write_xlsx

from stepbatch.workbook import WorkbookError, load_workbook
from stepbatch.workbook.files import read_sheets

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def cfb_file(path: Path, stream_names: list[str]) -> Path:
    """A minimal OLE/CFB container: header sector plus one directory sector naming the streams."""
    header = OLE_MAGIC + b"\0" * 16 + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 470
    entries = b""
    for name in ["Root Entry", *stream_names]:
        encoded = (name + "\0").encode("utf-16-le")
        entries += encoded.ljust(64, b"\0") + struct.pack("<H", len(encoded)) + b"\x02" + b"\0" * 61
    path.write_bytes(header[:512] + entries.ljust(512, b"\0"))
    return path


def assert_one_line_naming(path: Path, fragment: str) -> None:
    with pytest.raises(WorkbookError) as info:
        load_workbook(path)
    message = str(info.value)
    assert str(path) in message and fragment in message and "\n" not in message


def test_not_found(tmp_path) -> None:
    assert_one_line_naming(tmp_path / "nope.xlsx", "not found")


def test_directory(tmp_path) -> None:
    assert_one_line_naming(tmp_path, "is a directory")


def test_empty_file(tmp_path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert_one_line_naming(path, "empty")


def test_text_file_is_not_excel(tmp_path) -> None:
    path = tmp_path / "notes.xlsx"
    path.write_text("id,password\n", encoding="utf-8")
    assert_one_line_naming(path, "not an Excel workbook")


def test_zip_that_is_not_a_workbook(tmp_path) -> None:
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    assert_one_line_naming(path, "not a readable Excel workbook")


def test_encrypted_workbook(tmp_path) -> None:
    path = cfb_file(tmp_path / "locked.xlsx", ["EncryptionInfo", "EncryptedPackage"])
    assert_one_line_naming(path, "password-protected")


def test_old_xls_workbook(tmp_path) -> None:
    path = cfb_file(tmp_path / "old.xls", ["Workbook", "\x05SummaryInformation"])
    assert_one_line_naming(path, "97-2003 (.xls)")


def test_xls_extension_without_ole_content(tmp_path) -> None:
    path = write_xlsx(tmp_path / "renamed.xls", {"login_id": [["id"]]})
    assert_one_line_naming(path, ".xls files are not supported")


def test_missing_login_sheet(tmp_path) -> None:
    path = write_xlsx(tmp_path / "nologin.xlsx", {"ABC": [["provider_code"]], "guide": [["x"]]})
    assert_one_line_naming(path, "no 'login_id' sheet (sheets: ABC, guide)")


def test_unusable_file_is_left_untouched(tmp_path) -> None:
    path = cfb_file(tmp_path / "locked.xlsx", ["EncryptionInfo"])
    before = path.read_bytes()
    with pytest.raises(WorkbookError):
        load_workbook(path)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_sheets_parsed_ahead_come_back_in_the_order_asked(tmp_path: Path):
    names = ["가", "B", "C", "D", "E"]
    path = write_xlsx(tmp_path / "five.xlsx", {name: [[name, index]] for index, name in enumerate(names)})
    asked = ["D", "가", "E", "B", "C"]
    assert [rows[0][0] for rows in read_sheets(path, asked)] == asked


def test_stopping_early_leaves_no_parse_thread_running(tmp_path: Path):
    path = write_xlsx(tmp_path / "four.xlsx", {name: [[name]] * 2000 for name in "ABCD"})
    with closing(read_sheets(path, list("ABCD"))) as sheets:
        assert next(sheets)[0] == ["A"]
    assert not [t for t in threading.enumerate() if t.name.startswith("sheet-parse")]


def test_an_unreadable_later_sheet_is_reported_when_it_is_reached(tmp_path: Path):
    path = write_xlsx(tmp_path / "two.xlsx", {"A": [["a"]], "B": [["b"]]})
    sheets = read_sheets(path, ["A", "missing"])
    assert next(sheets) == [["a"]]
    with pytest.raises(WorkbookError, match=r"two\.xlsx: sheet 'missing' cannot be read"):
        next(sheets)
