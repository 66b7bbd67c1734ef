"""Header-based column mapping of a task sheet, with detection of shifted, blank and duplicated headers.

The operators' old tools read columns by position, and real sheets have an extra column or a blank
header that shifts the later ones. Here every column is found by its header name; anything that
would have made a positional reader go wrong is reported as a `Problem`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from stepbatch.workbook.models import Action, Problem

# The standard layout (percenty-domain.md §1): field name → (0-based position, header as written).
STANDARD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("provider_id", "provider_id"),
    ("provider_code", "provider_code"),
    ("provider_gender", "provider_gender"),
    ("final_group", "final_group"),
    ("target_group", "target_group"),
    ("step", "step2 or step3"),
    ("modify_event", "modify_event"),
    *((a.value, a.value) for a in Action),
    ("quantity1", "quantity1"),
    ("quantity2", "quantity2"),
    ("memo", "memo"),
    ("memo2", "memo2"),
)
STANDARD_POSITION: dict[str, int] = {name: i for i, (name, _) in enumerate(STANDARD_COLUMNS)}
TASK_HEADERS: tuple[str, ...] = tuple(header for _, header in STANDARD_COLUMNS)
REQUIRED = ("provider_code", "final_group", "target_group", "step")
COMMAND_FIELDS = tuple(a.value for a in Action)

_ALIASES = {"step": "step", "step2orstep3": "step", "step3orstep2": "step"}


def header_key(value: object) -> str:
    """Header comparison key: NFKC, case-, space-, underscore- and hyphen-insensitive."""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return re.sub(r"[\s_\-]+", "", text)


_KNOWN = {header_key(name): name for name, _ in STANDARD_COLUMNS} | _ALIASES


def letter(index: int) -> str:
    return get_column_letter(index + 1)


@dataclass
class ColumnMap:
    """Where each field lives in one sheet (0-based column index)."""

    positions: dict[str, int] = field(default_factory=dict)
    has_header: bool = True
    problems: list[Problem] = field(default_factory=list)
    blocking: bool = False  # a sheet-level error: no unit of this sheet can be trusted

    def column(self, name: str) -> int | None:
        return self.positions.get(name)


def map_columns(sheet: str, rows: list[list[object]]) -> ColumnMap:
    header = rows[0] if rows else []
    keys = [_KNOWN.get(header_key(v)) if _is_text(v) else None for v in header]
    if not any(keys):
        return _positional(sheet)
    found: dict[str, list[int]] = {}
    for index, name in enumerate(keys):
        if name:
            found.setdefault(name, []).append(index)
    cmap = ColumnMap()
    for name, indexes in found.items():
        cmap.positions[name] = _choose_duplicate(sheet, name, indexes, rows, cmap)
    _check_blank_headers(sheet, header, rows, cmap)
    _check_positions(sheet, cmap)
    _check_required(sheet, cmap)
    return cmap


def _positional(sheet: str) -> ColumnMap:
    cmap = ColumnMap(positions=dict(STANDARD_POSITION), has_header=False)
    cmap.problems.append(
        Problem(
            sheet,
            1,
            "A",
            None,
            "no header row found; reading the standard positions "
            "(B = provider_code, D = final_group, E = target_group, F = step, H–O = commands)",
            severity="warning",
        )
    )
    return cmap


def _choose_duplicate(
    sheet: str, name: str, indexes: list[int], rows: list[list[object]], cmap: ColumnMap
) -> int:
    if len(indexes) == 1:
        return indexes[0]
    with_data = [i for i in indexes if _column_has_data(rows, i)]
    where = " and ".join(letter(i) for i in indexes)
    if len(with_data) <= 1:
        chosen = with_data[0] if with_data else indexes[0]
        cmap.problems.append(
            Problem(
                sheet,
                1,
                letter(chosen),
                None,
                f"header {name} appears in columns {where}; only {letter(chosen)} has data, reading it",
                header=name,
                severity="warning",
            )
        )
        return chosen
    cmap.blocking = True
    cmap.problems.append(
        Problem(
            sheet,
            1,
            letter(with_data[1]),
            None,
            f"header {name} appears in columns {where} and more than one has data; "
            "cannot tell which is meant (delete or rename the extra column)",
            header=name,
        )
    )
    return with_data[0]


def _check_blank_headers(sheet: str, header: list[object], rows: list[list[object]], cmap: ColumnMap) -> None:
    important = (*REQUIRED, *COMMAND_FIELDS)
    last_important = max((cmap.positions[c] for c in important if c in cmap.positions), default=-1)
    width = max((len(r) for r in rows), default=0)
    for index in range(width):
        if index < len(header) and not _is_blank(header[index]):
            continue
        if not _column_has_data(rows, index):
            continue
        inside = index < last_important
        cmap.problems.append(
            Problem(
                sheet,
                1,
                letter(index),
                None,
                "column has data but no header"
                + (
                    "; it sits among the known columns, so later columns may be shifted "
                    "(name it or delete it)"
                    if inside
                    else "; it is ignored"
                ),
                severity="error" if inside else "warning",
            )
        )
        cmap.blocking = cmap.blocking or bool(inside)


def _check_positions(sheet: str, cmap: ColumnMap) -> None:
    for name, index in sorted(cmap.positions.items(), key=lambda kv: kv[1]):
        expected = STANDARD_POSITION[name]
        if index != expected:
            cmap.problems.append(
                Problem(
                    sheet,
                    1,
                    letter(index),
                    None,
                    f"{name} is in column {letter(index)}, expected {letter(expected)} "
                    "(read by its header; tools reading by position would misread it)",
                    header=name,
                    severity="warning",
                )
            )


def _check_required(sheet: str, cmap: ColumnMap) -> None:
    for name in REQUIRED:
        if name not in cmap.positions:
            cmap.blocking = True
            shown = "step2 or step3" if name == "step" else name
            cmap.problems.append(Problem(sheet, 1, None, None, f"no {shown!r} column in the header row"))
    for name in COMMAND_FIELDS:
        if name not in cmap.positions:
            cmap.problems.append(
                Problem(
                    sheet,
                    1,
                    None,
                    None,
                    f"no {name!r} column; no {name} operations will be read",
                    severity="warning",
                )
            )


def _column_has_data(rows: list[list[object]], index: int) -> bool:
    return any(index < len(row) and not _is_blank(row[index]) for row in rows[1:])


def _is_text(value: object) -> bool:
    return isinstance(value, str)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
