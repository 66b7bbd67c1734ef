"""Seeding a new simulator database from a workbook, reproducibly from a seed."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from stepbatch.simulator import db
from stepbatch.simulator.replay import needed
from stepbatch.workbook.groups import GROUP_NAMES, SOURCE_GROUP
from stepbatch.workbook.models import Account, Action, EditOp, Unit

STEPS = ("step2", "step3")
DEFAULT_CREDITS = 10_000

_WORDS = (
    "여성",
    "남성",
    "린넨",
    "와이드",
    "팬츠",
    "셔츠",
    "원피스",
    "니트",
    "가디건",
    "여름",
    "오버핏",
    "크롭",
    "데님",
    "스커트",
    "자켓",
    "코트",
    "슬랙스",
    "블라우스",
    "후드",
    "반팔",
    "긴팔",
    "캐주얼",
    "빈티지",
    "루즈핏",
)
_CATEGORIES = ("W", "M", "K", "A")
_SOURCES = ("1688", "taobao", "tmall")


@dataclass(frozen=True)
class SeedAccount:
    account: Account
    units: tuple[Unit, ...]  # step2 and step3 units of every server

    def codes(self) -> dict[str, tuple[EditOp, ...]]:
        """provider_code → the ops of its first step3 unit (step2 units have none)."""
        out: dict[str, tuple[EditOp, ...]] = {}
        for unit in self.units:
            if unit.provider_code not in out or (unit.ops and not out[unit.provider_code]):
                out[unit.provider_code] = unit.ops
        return out


def workbook_accounts(workbook_path: Path) -> list[SeedAccount]:
    """Every account of the workbook with its step2/step3 units."""
    from stepbatch.workbook import load_workbook

    wb = load_workbook(workbook_path)
    return [
        SeedAccount(acc, tuple(u for step in STEPS for u in wb.units(acc, step, strict=False)))
        for acc in wb.accounts
        if wb.has_sheet(acc)
    ]


def seed_database(
    path: Path,
    accounts: Iterable[SeedAccount],
    seed: int = 1,
    credits: int | None = None,
    counts: dict[str, int] | None = None,
) -> int:
    """Fill a new database. `counts` fixes the number of products of some codes. Returns products made."""
    rng = random.Random(seed)
    conn = db.connect(path)
    made = 0
    try:
        with db.transaction(conn):
            for sa in accounts:
                made += _seed_account(conn, rng, sa, credits, counts or {})
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('seed', ?)", (str(seed),))
    finally:
        conn.close()
    return made


def plan_counts(rng: random.Random, codes: list[str]) -> dict[str, int]:
    """Products per code: mostly a few, some none, some more than a page of 50."""
    buckets = ((0, 0), (1, 7), (8, 30), (51, 64))
    counts = {c: rng.randint(*rng.choices(buckets, (8, 52, 32, 8))[0]) for c in codes}
    if len(codes) >= 3:
        if 0 not in counts.values():
            counts[codes[rng.randrange(len(codes))]] = 0
        if not any(n > 50 for n in counts.values()):
            big = [c for c in codes if counts[c]] or codes
            counts[big[rng.randrange(len(big))]] = rng.randint(51, 64)
    return counts


def _seed_account(
    conn: sqlite3.Connection, rng: random.Random, sa: SeedAccount, credits: int | None, fixed: dict[str, int]
) -> int:
    acc = sa.account
    salt, digest = db.hash_password(acc.password.reveal())
    conn.execute(
        "INSERT INTO accounts(email, nickname, pw_salt, pw_hash, credits) VALUES(?,?,?,?,?)",
        (acc.email, acc.nickname, salt, digest, DEFAULT_CREDITS if credits is None else credits),
    )
    for pos, name in enumerate(GROUP_NAMES):
        conn.execute(
            "INSERT INTO groups(account, name, uuid, position) VALUES(?,?,?,?)",
            (acc.email, name, str(uuid.UUID(int=rng.getrandbits(128), version=4)), pos),
        )
    codes = sa.codes()
    counts = plan_counts(rng, list(codes))
    counts.update({c: n for c, n in fixed.items() if c in codes})
    maker = _ProductMaker(conn, rng, acc.email)
    for code, ops in codes.items():
        for _ in range(counts[code]):
            maker.make(code, ops, SOURCE_GROUP)
    for _ in range(rng.randint(25, 40)):  # unrelated products, some in 신규수집 with other codes
        code = _unused_code(rng, set(codes))
        group = rng.choice((SOURCE_GROUP, None, *GROUP_NAMES[1:]))
        maker.make(code, (), group, related=False)
    return maker.seq


def _unused_code(rng: random.Random, used: set[str]) -> str:
    while True:
        code = f"{chr(rng.randint(65, 90))}{rng.randint(0, 99):02d}"
        if code not in used:
            return code


class _ProductMaker:
    def __init__(self, conn: sqlite3.Connection, rng: random.Random, account: str) -> None:
        self.conn, self.rng, self.account, self.seq = conn, rng, account, 0
        self.day = date(2025, 6, 30)

    def make(self, code: str, ops: tuple[EditOp, ...], group: str | None, related: bool = True) -> None:
        rng = self.rng
        self.seq += 1
        words = " ".join(rng.sample(_WORDS, rng.randint(3, 5)))
        product_id = f"{rng.getrandbits(96):024x}"
        need = {a: sum(needed(op) for op in ops if op.action in acts) for a, acts in _NEEDS.items()}
        product = db.Product(
            id=product_id,
            account=self.account,
            seq=self.seq,
            code=code if related else None,
            name=f"{words} {code}{step1_ending(rng.randint(1, 9), product_id)}",
            memo=f"{rng.choice(_CATEGORIES)}-{rng.randint(1, 9)}-{rng.randint(10**11, 10**12 - 1)}-{code}",
            group=group,
            orig_group=group,
            price=rng.randrange(9_900, 89_900, 100),
            cost_cny=round(rng.uniform(15, 260), 1),
            shipping=rng.randrange(3_000, 12_000, 500),
            collected=(self.day - timedelta(days=rng.randint(0, 60))).isoformat(),
            source=rng.choice(_SOURCES),
            detail=self._images(
                "d", _fewer(product_id, rng.randint(6, 12) + need["detail"], need["detail"]), 0.5
            ),
            thumbs=self._images(
                "t", _fewer(product_id, rng.randint(3, 6) + need["thumbs"], need["thumbs"]), 0.3
            ),
        )
        options = _fewer(product_id, rng.randint(2, 4) + need["options"], need["options"])
        product.options = [
            {"name": f"{color} {size}", "zh_name": f"{zh}{size}", "image": self._images("o", 1, 0.5)[0]}
            for color, zh, size in self._option_names(options)
        ]
        db.insert_product(self.conn, product)

    def _images(self, kind: str, n: int, zh_share: float) -> list[dict[str, object]]:
        out = []
        for _ in range(n):
            image_id = f"{kind}{self.rng.getrandbits(48):012x}"
            out.append({"id": image_id, "orig": image_id, "zh": self.rng.random() < zh_share, "tr": False})
        return out

    def _option_names(self, n: int) -> list[tuple[str, str, str]]:
        colors = (
            ("블랙", "黑色"),
            ("화이트", "白色"),
            ("베이지", "米色"),
            ("네이비", "藏青"),
            ("그레이", "灰色"),
        )
        sizes = ("S", "M", "L", "XL", "FREE")
        return [(colors[i % 5][0], colors[i % 5][1], sizes[(i // 5) % 5]) for i in range(n)]


def _fewer(product_id: str, count: int, needed: int) -> int:
    """About one product in eight has fewer images than its row names (operators' rows meet such products;
    the real tool clamped), derived from the id so that the seed's random stream stays what it was."""
    if needed < 2 or int(product_id[4:6], 16) % 8:
        return count
    return max(1, needed - 1 - int(product_id[6], 16) % 3)


# Step1 appends letters to every name it keeps (real names end `…Z2A`, `…Z2AAAA`); some names are bare.
_STEP1_SUFFIXES = ("", "A", "A", "AB", "AAAA", "B")


def step1_ending(number: int, product_id: str) -> str:
    """`Z<n>` plus step1's letters (`Z2A`, `Z12AB`), the extras derived from the id so that the seed's
    random stream stays what it was."""
    if int(product_id[:2], 16) % 4 == 0:
        number += 10
    return f"Z{number}{_STEP1_SUFFIXES[int(product_id[-4:], 16) % len(_STEP1_SUFFIXES)]}"


_NEEDS = {
    "detail": (Action.IMAGE_DELETE, Action.IMAGE_TRANSLATE),
    "thumbs": (Action.THUMBNAIL_DELETE, Action.THUMBNAIL_TRANSLATE),
    "options": (Action.OPTION_IMAGE_COPY, Action.OPTIONIMAGE_TRANSLATE),
}
