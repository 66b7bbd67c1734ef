"""Opening the workbook file: every way a file can be unusable becomes one `WorkbookError` line."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from pathlib import Path

import python_calamine

from stepbatch.workbook.models import WorkbookError

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# CFB directory entries store stream names in UTF-16LE; an encrypted OOXML file holds this stream.
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")
# calamine lets go of the GIL while it parses a sheet's XML, so a second thread parses the next sheet while
# the caller validates this one. More threads would only hold more parsed sheets in memory at once.
_PARSE_THREADS = 2


def check_file(path: Path) -> None:
    """Raise `WorkbookError` naming the file unless it looks like an .xlsx/.xlsm zip."""
    if not path.exists():
        raise WorkbookError(f"{path}: workbook not found")
    if path.is_dir():
        raise WorkbookError(f"{path}: is a directory, not a workbook file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
            is_ole = head == _OLE_MAGIC
            body = handle.read() if is_ole else b""
    except OSError as exc:
        raise WorkbookError(f"{path}: cannot read the file ({exc.strerror or exc})") from None
    if not head:
        raise WorkbookError(f"{path}: the file is empty")
    if is_ole:
        if _ENCRYPTION_INFO in body:
            raise WorkbookError(
                f"{path}: the workbook is password-protected (encrypted); "
                "save an unprotected copy in Excel and use that"
            )
        raise WorkbookError(f"{path}: old Excel 97-2003 (.xls) format; open it in Excel and save it as .xlsx")
    if path.suffix.lower() == ".xls":
        raise WorkbookError(f"{path}: .xls files are not supported; save it as .xlsx")
    if not head.startswith(_ZIP_MAGIC):
        raise WorkbookError(f"{path}: not an Excel workbook (.xlsx/.xlsm)")


def open_calamine(path: Path) -> python_calamine.CalamineWorkbook:
    check_file(path)
    try:
        return python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise WorkbookError(f"{path}: the workbook is password-protected (encrypted)") from None
    except Exception as exc:  # calamine raises several error types for damaged zips/xml
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkbookError(f"{path}: not a readable Excel workbook ({reason[:120]})") from None


def read_sheet(book: python_calamine.CalamineWorkbook, path: Path, name: str) -> list[list[object]]:
    """All rows of a sheet from A1 (so list index + 1 is the Excel row); blank cells are ''."""
    try:
        return book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WorkbookError(f"{path}: sheet {name!r} cannot be read ({reason[:120]})") from None


def read_sheets(path: Path, names: Sequence[str]) -> Iterator[list[list[object]]]:
    """The rows of each named sheet, in order, parsed at most `_PARSE_THREADS` sheets ahead of the caller."""
    if len(names) < 2:
        yield from (read_sheet(open_calamine(path), path, name) for name in names)
        return
    per_thread = threading.local()

    def parse(name: str) -> list[list[object]]:
        if not hasattr(per_thread, "book"):  # a workbook object is not shared across threads
            per_thread.book = open_calamine(path)
        return read_sheet(per_thread.book, path, name)

    pool = ThreadPoolExecutor(max_workers=_PARSE_THREADS, thread_name_prefix="sheet-parse")
    try:
        waiting = iter(names)
        ahead: deque[Future[list[list[object]]]] = deque(
            pool.submit(parse, name) for name in islice(waiting, _PARSE_THREADS)
        )
        while ahead:
            rows = ahead.popleft().result()
            following = next(waiting, None)
            if following is not None:
                ahead.append(pool.submit(parse, following))
            yield rows
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
