"""A realistic fake task workbook (never real personal data), deterministic per seed.

Used by `stepbatch sample-workbook`, the simulator (it seeds products for every step2/step3 code),
the engine tests and the demo. `dirty=True` adds every kind of damage the validator must report.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook as XlsxWorkbook

from stepbatch.errors import UserError
from stepbatch.workbook.book import LOGIN_SHEET
from stepbatch.workbook.columns import TASK_HEADERS

_SUFFIX_HEADERS = tuple(f"suffix{g}{n}" for g in "ABCD" for n in (1, 2, 3))
_OPERATORS = (
    "김하늘",
    "이서준",
    "박지우",
    "최민서",
    "정도윤",
    "강서연",
    "조하준",
    "윤지아",
    "장예준",
    "임수아",
    "한지호",
    "오채원",
)
_MEMOS = ("재고 확인 필요", "여름 시즌 상품", "가격 재검토", "이미지 교체 예정", "인기 상품", "")
_STEP3_SERVERS = tuple(f"서버{a}-{b}" for a in (1, 2, 3) for b in (1, 2, 3))
_GUIDE = (
    ("column", "command", "where in the UI"),
    ("H image_delete", "first:N / last:N / specific:a,b", "상세페이지 → 일괄 편집 → 이미지 삭제"),
    ("I thumbnail_delete", "first:N / last:N / specific:a,b", "썸네일 → 삭제"),
    ("J option_image_copy", "copy:N", "옵션 → 썸네일로 복사 (first N option images)"),
    (
        "K image_translate",
        "specific:all / special:N / specific:a,b",
        "일괄 편집 → 편집하기 → 원클릭 이미지 번역",
    ),
    ("L image_tag_insert", "YES / NO", "상세페이지 → 소스 → insert an <img> block"),
    ("M html_update", "raw HTML", "상세페이지 → HTML 삽입"),
    ("N thumbnail_translate", "specific:all / special:N", "썸네일 → 편집하기 → 원클릭 이미지 번역"),
    ("O optionimage_translate", "specific:all / special:N", "옵션 → 편집하기 → 원클릭 이미지 번역"),
    ("", "combine with '/'", "first:1/last:2 = delete the first image, then the last two"),
)
_EXTRA = "extra"  # row key of a dirty sheet's inserted column


@dataclass
class _Sheet:
    nickname: str
    rows: list[dict[str, object]]
    headers: list[str] = field(default_factory=lambda: list(TASK_HEADERS))
    keys: list[str] = field(default_factory=lambda: list(TASK_HEADERS))


def write_sample_workbook(
    path: str | os.PathLike[str],
    accounts: int = 2,
    codes: int = 30,
    seed: int = 1,
    dirty: bool = False,
    step2_share: float = 0.2,
    *,
    force: bool = False,
) -> Path:
    """Write a fake operators' workbook to `path` and return it. Refuses to overwrite unless `force`."""
    path = Path(path)
    _check_args(path, accounts, codes, step2_share, force)
    rng = random.Random(f"stepbatch-sample-{seed}")
    nicknames = _nicknames(rng, accounts)
    sheets = [
        _task_sheet(random.Random(f"{seed}-{i}"), nick, codes, step2_share)
        for i, nick in enumerate(nicknames)
    ]
    if dirty:
        _make_dirty(sheets)
    book = XlsxWorkbook(write_only=True)
    _write_login(book, rng, nicknames)
    for sheet in sheets:
        _write_task_sheet(book, sheet)
    guide = book.create_sheet("guide")
    for line in _GUIDE:
        guide.append(list(line))
    _save_atomically(book, path)
    return path


def _check_args(path: Path, accounts: int, codes: int, step2_share: float, force: bool) -> None:
    if not 1 <= accounts <= 99:
        raise UserError(f"--accounts must be between 1 and 99, got {accounts}")
    if not 1 <= codes <= 1_000_000:
        raise UserError(f"--codes must be between 1 and 1000000, got {codes}")
    if not 0.0 <= step2_share <= 1.0:
        raise UserError(f"--step2-share must be between 0 and 1, got {step2_share}")
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UserError(f"{path}: the sample workbook must end in .xlsx")
    if path.is_dir():
        raise UserError(f"{path}: is a directory")
    if path.exists() and not force:
        raise UserError(f"{path}: already exists (use --force to overwrite)")
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: folder does not exist")


def _nicknames(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        name = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        if name not in names:
            names.append(name)
    return names


def _codes(rng: random.Random, count: int) -> list[str]:
    digits = 2
    while 26 * 10**digits < count * 2:
        digits += 1
    space = 10**digits
    return [f"{chr(65 + n // space)}{n % space:0{digits}d}" for n in rng.sample(range(26 * space), count)]


def _task_sheet(rng: random.Random, nickname: str, codes: int, step2_share: float) -> _Sheet:
    step2_count = round(codes * step2_share)
    steps = ["step2"] * step2_count + ["step3"] * (codes - step2_count)
    rng.shuffle(steps)
    rows = [_row(rng, code, step) for code, step in zip(_codes(rng, codes), steps, strict=True)]
    return _Sheet(nickname, rows)


def _row(rng: random.Random, code: str, step: str) -> dict[str, object]:
    if step == "step2":
        server = f"서버{rng.randint(1, 3)}"
        target = server
    else:
        server = rng.choice(("서버1", "서버2")) if rng.random() < 0.1 else rng.choice(_STEP3_SERVERS)
        target = rng.choices((f"대기{server[2]}", "검수1", "검수2", "수동2"), (90, 4, 3, 3))[0]
    row: dict[str, object] = {
        "provider_id": f"shop{rng.randint(10000, 99999)}",
        "provider_code": code,
        "provider_gender": rng.choice(("여성", "남성")),
        "final_group": server,
        "target_group": target,
        "step2 or step3": step,
        "modify_event": "without modification" if step == "step2" else "with modification",
        "quantity1": rng.randint(0, 35000),
        "quantity2": rng.randint(1, 500) if rng.random() < 0.1 else None,
        "memo": rng.choice(_MEMOS) or None,
    }
    if step == "step3":
        row.update(_commands(rng, code))
    return row


def _commands(rng: random.Random, code: str) -> dict[str, object]:
    pick = rng.choices
    return {
        "image_delete": pick(
            ("first:1", "last:1", "first:1/last:1", "first:2/last:1", None), (40, 20, 25, 5, 10)
        )[0],
        "thumbnail_delete": pick((f"first:{rng.randint(1, 3)}", "specific:3,4", None), (70, 5, 25))[0],
        "option_image_copy": f"copy:{rng.randint(1, 2)}" if rng.random() < 0.5 else None,
        "image_translate": pick(("specific:all", f"special:{rng.randint(2, 5)}", None), (50, 40, 10))[0],
        "image_tag_insert": "YES" if rng.random() < 0.05 else None,
        "html_update": (
            f'<img src="https://example.com/banner/{code.lower()}.jpg">' if rng.random() < 0.05 else None
        ),
        "thumbnail_translate": "specific:all" if rng.random() < 0.3 else None,
        "optionimage_translate": "specific:all" if rng.random() < 0.3 else None,
    }


def _step3_rows(sheet: _Sheet) -> list[dict[str, object]]:
    return [r for r in sheet.rows if r["step2 or step3"] == "step3"]


def _make_dirty(sheets: list[_Sheet]) -> None:
    """Add every kind of damage real sheets have (see percenty-domain.md §1)."""
    first, second = sheets[0], sheets[-1]
    for sheet in {id(first): first, id(second): second}.values():
        _ensure_step3_rows(sheet, 10)
    rows = _step3_rows(first)
    # an extra thumbnail_translate column at L (shifts L–O, and the header is duplicated)
    first.headers.insert(11, "thumbnail_translate")
    first.keys.insert(11, _EXTRA)
    for row in rows[::2]:
        row[_EXTRA] = "specific:all"
    rows[0]["image_delete"] = "copy2"
    rows[1]["image_delete"] = "copy4opthonimages"
    identical = dict(rows[2])
    conflicting = dict(rows[3], target_group="검수2", image_delete="last:3")
    first.rows += [identical, conflicting]
    _damage_values(second)


def _ensure_step3_rows(sheet: _Sheet, count: int) -> None:
    """Top up a small sheet so that each dirty case gets a step3 row of its own."""
    taken = {str(r["provider_code"]) for r in sheet.rows}
    rng = random.Random(f"dirty-{sheet.nickname}")
    while len(_step3_rows(sheet)) < count:
        code = next(c for c in _codes(rng, len(taken) + 1) if c not in taken)
        taken.add(code)
        row = _row(rng, code, "step3")
        row["image_delete"] = "first:1"
        sheet.rows.append(row)


def _damage_values(sheet: _Sheet) -> None:
    # a blank header at N with data below it
    sheet.headers.insert(13, "")
    sheet.keys.insert(13, _EXTRA)
    rows = _step3_rows(sheet)
    for row in rows[::3]:
        row[_EXTRA] = "specific:all"
    rows[4]["provider_code"] = None
    rows[5]["provider_code"] = 123
    code = str(rows[6]["provider_code"])
    rows[6]["provider_code"] = "".join(chr(ord(c) + 0xFEE0) for c in code)  # full-width
    rows[7]["final_group"] = f"{rows[7]['final_group']} "
    rows[8]["step2 or step3"] = "ｓｔｅｐ３"


def _write_login(book: XlsxWorkbook, rng: random.Random, nicknames: list[str]) -> None:
    sheet = book.create_sheet(LOGIN_SHEET)
    sheet.append(["id", "password", "operator", "sheet_nickname", *_SUFFIX_HEADERS])
    for i, nickname in enumerate(nicknames, start=1):
        password = "demo-" + "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(10))
        suffixes = [f"{g}{n}{rng.choice('QRSTUVWXYZ')}" for g in "ABCD" for n in (1, 2, 3)]
        sheet.append(
            [
                f"seller{i:02d}@example.com",
                password,
                _OPERATORS[(i - 1) % len(_OPERATORS)],
                nickname,
                *suffixes,
            ]
        )


def _write_task_sheet(book: XlsxWorkbook, sheet: _Sheet) -> None:
    ws = book.create_sheet(sheet.nickname)
    ws.append(sheet.headers)
    for row in sheet.rows:
        ws.append([row.get(key) for key in sheet.keys])


def _save_atomically(book: XlsxWorkbook, path: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        book.save(tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
