"""Fixture builders for the bad-input corpus: real files (xlsx, xls, encrypted, damaged) and state folders.

Every builder takes the case's folder and returns nothing; it writes `tasks.xlsx` (and/or `state/`)
there. The corpus table in bad_inputs_cases.py names a builder per case.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from openpyxl import Workbook

from stepbatch.workbook.columns import TASK_HEADERS

# The workbook tests' cell-by-cell builders serve this corpus too; pytest puts only each test's own folder
# on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "workbook"))
from workbook_helpers import LOGIN_HEADER, task_row, write_xlsx

NICK = "ABC"
EMAIL = "seller01@example.com"
PASSWORD = "demo-pass-123"
LOGIN_ROW = [EMAIL, PASSWORD, "김하늘", NICK]
WORKBOOK = "tasks.xlsx"


def good_rows() -> list[list[object]]:
    """A clean sheet: three step3 codes in 서버1-1, one in 서버2-1, one step2 code."""
    return [
        list(TASK_HEADERS),
        task_row("X12", image_delete="first:1", thumbnail_delete="first:2"),
        task_row("Y34", image_delete="last:1", image_translate="specific:all"),
        task_row("Z56", option_image_copy="copy:1"),
        task_row("Q78", server="서버2-1", target="대기2", image_delete="first:1/last:1"),
        task_row("W90", server="서버1", step="step2", target="서버1"),
    ]


def standard_sheets(rows: Sequence[Sequence[object]] | None = None) -> dict[str, Sequence[Sequence[object]]]:
    return {"login_id": [LOGIN_HEADER, LOGIN_ROW], NICK: rows if rows is not None else good_rows()}


def good_workbook(folder: Path) -> Path:
    return write_xlsx(folder / WORKBOOK, standard_sheets())


def with_rows(mutate: Callable[[list[list[object]]], None]) -> Callable[[Path], None]:
    """A builder: the good sheet with `mutate` applied to its rows (row 0 is the header)."""

    def build(folder: Path) -> None:
        rows = good_rows()
        mutate(rows)
        write_xlsx(folder / WORKBOOK, standard_sheets(rows))

    return build


def set_cell(row: int, header: str, value: object) -> Callable[[list[list[object]]], None]:
    def mutate(rows: list[list[object]]) -> None:
        rows[row][TASK_HEADERS.index(header)] = value

    return mutate


# --- whole-file damage ----------------------------------------------------------------------------------


def text_file(folder: Path) -> None:
    (folder / WORKBOOK).write_text("provider_code,final_group\nX12,서버1-1\n", encoding="utf-8")


def empty_file(folder: Path) -> None:
    (folder / WORKBOOK).write_bytes(b"")


def truncated_zip(folder: Path) -> None:
    good = good_workbook(folder)
    data = good.read_bytes()
    good.write_bytes(data[: len(data) // 2])


def encrypted_xlsx(folder: Path) -> None:
    """A real password-protected workbook (Excel's ECMA-376 agile encryption, via msoffcrypto-tool)."""
    import msoffcrypto.format.ooxml

    plain = write_xlsx(folder / "plain.xlsx", standard_sheets())
    with plain.open("rb") as src, (folder / WORKBOOK).open("wb") as dst:
        msoffcrypto.format.ooxml.OOXMLFile(src).encrypt("secret-pw", dst)
    plain.unlink()


def real_xls(folder: Path) -> None:
    """An Excel 97-2003 file (BIFF8 in an OLE container) with the right sheets and headers."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    for name, rows in standard_sheets().items():
        ws = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    ws.write(r, c, value)
    book.save(str(folder / "tasks.xls"))


def xlsx_named_xls(folder: Path) -> None:
    good = good_workbook(folder)
    good.rename(folder / "tasks.xls")


def no_login_sheet(folder: Path) -> None:
    write_xlsx(folder / WORKBOOK, {NICK: good_rows()})


def no_task_sheet(folder: Path) -> None:
    write_xlsx(folder / WORKBOOK, {"login_id": [LOGIN_HEADER, LOGIN_ROW], "XYZ": good_rows()})


def no_password(folder: Path) -> None:
    login = [LOGIN_HEADER, [EMAIL, None, "김하늘", NICK]]
    write_xlsx(folder / WORKBOOK, {"login_id": login, NICK: good_rows()})


def missing_header(folder: Path) -> None:
    """The provider_code header cell is gone (renamed to something unknown)."""
    with_rows(set_cell(0, "provider_code", "상품코드"))(folder)


def duplicated_header(folder: Path) -> None:
    """Two provider_code columns, both with data (the old sheet's extra column)."""

    def mutate(rows: list[list[object]]) -> None:
        rows[0].append("provider_code")
        for row in rows[1:]:
            row.append("K99")

    with_rows(mutate)(folder)


def shifted_columns(folder: Path) -> None:
    """A column with data but a blank header inserted before the commands: H–O shift right by one."""

    def mutate(rows: list[list[object]]) -> None:
        at = TASK_HEADERS.index("image_delete")
        rows[0].insert(at, None)
        for row in rows[1:]:
            row.insert(at, "메모")

    with_rows(mutate)(folder)


def shifted_named_column(folder: Path) -> None:
    """An extra, named column before the commands: read by header, reported as a warning."""

    def mutate(rows: list[list[object]]) -> None:
        at = TASK_HEADERS.index("image_delete")
        rows[0].insert(at, "담당자")
        for row in rows[1:]:
            row.insert(at, "이서준")

    with_rows(mutate)(folder)


def formula_cells(folder: Path) -> None:
    """provider_code is a formula saved without a computed value (written by a script, never opened)."""
    with_rows(set_cell(2, "provider_code", '=CONCAT("Y","34")'))(folder)


def formula_with_value(folder: Path) -> None:
    """Formulas as Excel saves them: the formula and its computed value (`<f>` and `<v>`)."""
    formula_cells(folder)
    path = folder / WORKBOOK
    with zipfile.ZipFile(path) as zf:
        parts = {name: zf.read(name) for name in zf.namelist()}
    sheet = "xl/worksheets/sheet2.xml"
    xml = parts[sheet].decode("utf-8")
    start = xml.index('<c r="B3"')
    end = xml.index("</c>", start) + len("</c>")
    parts[sheet] = (
        xml[:start] + '<c r="B3" t="str"><f>CONCAT("Y","34")</f><v>Y34</v></c>' + xml[end:]
    ).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def merged_cells(folder: Path) -> None:
    """provider_code of rows 2 and 3 merged into one cell (only the top-left keeps the value)."""

    def edit(book: Workbook) -> None:
        book[NICK].merge_cells("B2:B3")

    write_xlsx(folder / WORKBOOK, standard_sheets(), edit)


def million_rows(folder: Path, rows: int = 1_000_000) -> None:
    """A task sheet of `rows` data rows (repeating 23,400 distinct code/server pairs) whose last row
    has a numeric provider code. Written as raw SpreadsheetML (inline strings): openpyxl needs minutes."""
    servers = [f"서버{a}-{b}" for a in (1, 2, 3) for b in (1, 2, 3)]
    codes = [f"{chr(65 + i // 100)}{i % 100:02d}" for i in range(2600)]
    path = folder / WORKBOOK
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        _xlsx_boilerplate(zf, [("login_id", 1), (NICK, 2)])
        zf.writestr("xl/worksheets/sheet1.xml", _sheet_xml([LOGIN_HEADER, LOGIN_ROW]))
        with zf.open("xl/worksheets/sheet2.xml", "w", force_zip64=True) as fh:
            fh.write(_SHEET_HEAD)
            fh.write(_row_xml(1, list(TASK_HEADERS[:8])))
            for r in range(rows):
                i = r % (len(codes) * len(servers))
                code = 1234 if r == rows - 1 else codes[i // len(servers)]
                server = servers[i % len(servers)]
                fh.write(_row_xml(r + 2, ["s", code, "", server, "대기1", "step3", "", "first:1"]))
            fh.write(_SHEET_TAIL)


_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"


def _row_xml(r: int, values: Sequence[object]) -> bytes:
    cells = []
    for c, v in enumerate(values):
        ref = f"{chr(65 + c)}{r}"
        if isinstance(v, int):
            cells.append(f'<c r="{ref}"><v>{v}</v></c>')
        elif v:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>')
    return f'<row r="{r}">{"".join(cells)}</row>'.encode()


def _sheet_xml(rows: Sequence[Sequence[object]]) -> bytes:
    return _SHEET_HEAD + b"".join(_row_xml(i + 1, row) for i, row in enumerate(rows)) + _SHEET_TAIL


def _xlsx_boilerplate(zf: zipfile.ZipFile, sheets: list[tuple[str, int]]) -> None:
    main = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
        f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for _, n in sheets
    )
    zf.writestr(
        "[Content_Types].xml",
        (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
            '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            f'sheet.main+xml"/>{overrides}</Types>'
        ),
    )
    zf.writestr(
        "_rels/.rels",
        (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{main}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
    )
    sheet_tags = "".join(f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>' for name, n in sheets)
    zf.writestr(
        "xl/workbook.xml",
        (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            f'spreadsheetml/2006/main" xmlns:r="{main}"><sheets>{sheet_tags}</sheets></workbook>'
        ),
    )
    rels = "".join(
        f'<Relationship Id="rId{n}" Type="{main}/worksheet" Target="worksheets/sheet{n}.xml"/>'
        for _, n in sheets
    )
    zf.writestr(
        "xl/_rels/workbook.xml.rels",
        (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships">{rels}</Relationships>'
        ),
    )


# --- state folders ----------------------------------------------------------------------------------------


def state_with_progress(folder: Path) -> Path:
    """The good workbook plus the state a real earlier run leaves: a progress store with one unit done
    (written through the state package), and the account's lock file (released)."""
    from stepbatch.state.lock import AccountLock
    from stepbatch.state.progress import ProgressStore
    from stepbatch.workbook import load_workbook

    good_workbook(folder)
    state = folder / "state"
    units = load_workbook(folder / WORKBOOK).units(NICK, "step3")
    with AccountLock(state, NICK, "step3"):
        store = ProgressStore.open(state, NICK, "step3")
        store.add_units(units)
        store.compact(force=True)  # a snapshot of generation 1 with a .prev beside it
        store.close()
    return store.path


def damage_progress(damage: Callable[[Path], None], *, drop_prev: bool = True) -> Callable[[Path], None]:
    """A builder: a real progress store, then `damage` applied to its snapshot (and .prev removed, so
    nothing can be recovered losslessly)."""

    def build(folder: Path) -> None:
        snapshot = state_with_progress(folder)
        if drop_prev:
            for extra in snapshot.parent.glob(snapshot.name + ".prev"):
                extra.unlink()
        damage(snapshot)

    return build


def truncate_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def not_json(path: Path) -> None:
    path.write_text("progress: 3 of 5 codes done\n", encoding="utf-8")


def wrong_shape(path: Path) -> None:
    path.write_text(json.dumps({"schema_version": 1, "completed_keywords": ["X12"]}), encoding="utf-8")


def newer_version(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 2
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


def corrupt_journal(path: Path) -> None:
    """A journal whose first of two lines is garbage (a torn *last* line is tolerated, this is not)."""
    journal = path.with_name(path.stem + ".journal.jsonl")
    data = json.loads(path.read_text(encoding="utf-8"))
    good = json.dumps(
        {
            "g": data["generation"],
            "ts": "2026-01-01T00:00:00+00:00",
            "op": "meta",
            "set": {"current_batch_start_time": "2026-01-01T00:00:00+00:00"},
        }
    )
    journal.write_text("{not json at all\n" + good + "\n", encoding="utf-8")


def keep(path: Path) -> None:
    """No damage: the store is fine (the case damages something else, e.g. the disk)."""
