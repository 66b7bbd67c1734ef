"""Checking a simulator database's end state and audit log against the workbook.

For every product seeded for a code in scope: it sits in the unit's target group, every planned
operation shows up in the audit log exactly once (the expected events come from replaying the unit's
ops on the product's original images), and the images end up as the replay says. Mutations of products
that belong to no workbook code, or of operations the row did not plan, are unexpected.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepbatch.errors import UserError
from stepbatch.simulator import db
from stepbatch.simulator.replay import Expected, NotEnoughImages, image_signature, replay
from stepbatch.simulator.seed import STEPS
from stepbatch.text import plural
from stepbatch.workbook.groups import SOURCE_GROUP
from stepbatch.workbook.models import Action, Unit

_OP_OF_ACTION = {
    Action.IMAGE_DELETE: "detail_image_delete",
    Action.THUMBNAIL_DELETE: "thumbnail_delete",
    Action.OPTION_IMAGE_COPY: "option_image_copy",
    Action.IMAGE_TRANSLATE: "image_translate",
    Action.THUMBNAIL_TRANSLATE: "image_translate",
    Action.OPTIONIMAGE_TRANSLATE: "image_translate",
    Action.IMAGE_TAG_INSERT: "html_insert",
    Action.HTML_UPDATE: "html_insert",
}


@dataclass(frozen=True)
class Discrepancy:
    kind: str  # missing | repeated | unexpected
    product: str
    code: str | None
    detail: str

    def line(self) -> str:
        return f"{self.kind:<10} {self.product} {self.code or '-':<5} {self.detail}"


@dataclass
class VerifyResult:
    products: int = 0
    details: list[Discrepancy] = field(default_factory=list)
    presses: int = 0  # translate presses on the products in scope (each cost a credit)
    wasted: int = 0  # of them, presses the rules did not ask for on pictures without Chinese text
    credits_left: dict[str, int] = field(default_factory=dict)  # per account

    def _count(self, kind: str) -> int:
        return len({d.product for d in self.details if d.kind == kind})

    @property
    def missing(self) -> int:
        return self._count("missing")

    @property
    def repeated(self) -> int:
        return self._count("repeated")

    @property
    def unexpected(self) -> int:
        return self._count("unexpected")

    @property
    def ok(self) -> bool:
        return not self.details

    def line(self) -> str:
        return (
            f"verified {plural(self.products, 'product')}: {self.missing} missing, {self.repeated} repeated, "
            f"{self.unexpected} unexpected; translate presses: {self.presses}, {self.wasted} wasted"
        )


def verify(
    db_path: Path, workbook_path: Path, step: str | None = None, account: str | None = None
) -> VerifyResult:
    """Compare the database with what the workbook asks for (optionally one step / one account)."""
    from stepbatch.workbook import load_workbook

    if step is not None and step not in STEPS:
        raise UserError(f"--step must be one of {', '.join(STEPS)}, got {step!r}")
    db_path = Path(db_path)
    if not db_path.is_file():
        raise UserError(f"--db {db_path}: no such simulator database")
    wb = load_workbook(Path(workbook_path))
    accounts = [wb.account(account)] if account else list(wb.accounts)
    conn = db.connect(db_path)
    try:
        result = VerifyResult()
        for acc in (a for a in accounts if wb.has_sheet(a)):
            scope = _first_unit_per_code(wb.units(acc, s, strict=False) for s in ((step,) if step else STEPS))
            all_codes = {u.provider_code for s in STEPS for u in wb.units(acc, s, strict=False)}
            _verify_account(conn, acc.email, scope, all_codes, result)
            row = conn.execute("SELECT credits FROM accounts WHERE email=?", (acc.email,)).fetchone()
            if row is not None:
                result.credits_left[acc.email] = int(row[0])
        return result
    except sqlite3.DatabaseError as exc:
        raise UserError(f"--db {db_path}: not a simulator database ({exc})") from None
    finally:
        conn.close()


def _first_unit_per_code(unit_lists: Any) -> dict[str, Unit]:
    out: dict[str, Unit] = {}
    for units in unit_lists:
        for unit in units:
            out.setdefault(unit.provider_code, unit)
    return out


def _verify_account(
    conn: sqlite3.Connection, email: str, scope: dict[str, Unit], all_codes: set[str], result: VerifyResult
) -> None:
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for ev in db.audit_events(conn):
        if ev["account"] == email:
            events[ev["product"]].append(ev)
    rows = conn.execute("SELECT * FROM products WHERE account=? ORDER BY seq", (email,)).fetchall()
    for row in rows:
        p = db.Product.from_row(row)
        unit = scope.get(p.code or "") if p.orig_group == SOURCE_GROUP else None
        if unit is not None:
            result.products += 1
            result.presses += sum(1 for e in events.get(p.id, []) if e["op"] == "image_translate")
            _check_product(p, unit, events.get(p.id, []), result)
        elif events.get(p.id) and not (p.code in all_codes and p.orig_group == SOURCE_GROUP):
            ops = ", ".join(sorted({e["op"] for e in events[p.id]}))
            result.details.append(Discrepancy("unexpected", p.id, p.code, f"not in the workbook, yet: {ops}"))


def _check_product(p: db.Product, unit: Unit, events: list[dict[str, Any]], result: VerifyResult) -> None:
    add = lambda kind, detail: result.details.append(Discrepancy(kind, p.id, p.code, detail))  # noqa: E731
    moves = [e for e in events if e["op"] == "group_move"]
    to_target = sum(1 for e in moves if e["args"].get("group") == unit.target_group)
    if p.group != unit.target_group:
        add("missing", f"in group {p.group or '그룹 없음'}, not {unit.target_group}")
    if to_target > 1:
        add("repeated", f"moved to {unit.target_group} {to_target} times")
    for e in moves:
        if e["args"].get("group") != unit.target_group:
            add("unexpected", f"moved to {e['args'].get('group') or '그룹 없음'}")
    try:
        exp = replay(p.orig_detail, p.orig_thumbs, p.orig_options, unit.ops)
    except NotEnoughImages as exc:
        add("unexpected", f"the seeded product cannot take its row's ops: {exc}")
        return
    planned = {_OP_OF_ACTION[op.action] for op in unit.ops}
    before = len(result.details)
    result.wasted += _compare_events(exp, events, planned, _chinese_pictures(p), add)
    _compare_html(exp, events, "html_insert" in planned, add)
    if len(result.details) == before and exp.signature() != image_signature(p.detail, p.thumbs, p.options):
        add("missing", "images differ from the expected end state")


def _event_key(e: dict[str, Any]) -> tuple[str, ...]:
    a = e["args"]
    if e["op"] == "image_translate":
        return ("image_translate", a.get("target", ""), a.get("image", ""))
    return (e["op"], str(a.get("image", a.get("option", ""))))


def _chinese_pictures(p: db.Product) -> set[str]:
    images = [*p.orig_detail, *p.orig_thumbs, *(o["image"] for o in p.orig_options if o.get("image"))]
    return {str(im["orig"]) for im in images if im.get("zh")}


def _compare_events(
    exp: Expected, events: list[dict[str, Any]], planned: set[str], chinese: set[str], add: Any
) -> int:
    """Adds missing/repeated/unexpected; returns the wasted presses (on pictures without Chinese text,
    beyond what the rules asked for): they cost credits but change nothing."""
    actual = Counter(_event_key(e) for e in events if e["op"] not in ("group_move", "html_insert"))
    wasted = 0
    for key, n in exp.events.items():
        if actual[key] < n:
            add("missing", f"{' '.join(key)} not applied")
    for key, n in actual.items():
        extra = n - exp.events.get(key, 0)
        if extra <= 0:
            continue
        if key[0] == "image_translate" and "image_translate" in planned and key[2] not in chinese:
            wasted += extra
            continue
        kind = "repeated" if key[0] in planned else "unexpected"
        add(kind, f"{' '.join(key)} applied {n}× (expected {exp.events.get(key, 0)})")
    return wasted


def _norm(html: str) -> str:
    return re.sub(r"\s+", " ", html).strip()


def _compare_html(exp: Expected, events: list[dict[str, Any]], planned: bool, add: Any) -> None:
    inserted = [e["args"] for e in events if e["op"] == "html_insert"]
    for want in exp.html:
        match = next(
            (
                i
                for i, a in enumerate(inserted)
                if (_norm(a.get("html", "")) == _norm(want) if want else a.get("source") == "tag")
            ),
            None,
        )
        if match is None:
            add("missing", "html insert not applied" if want else "image tag insert not applied")
            continue
        found = inserted.pop(match)
        if want and found.get("at") != "start":  # the operators' sheets expect M before the content
            add("unexpected", f"html inserted at the {found.get('at', 'end')}, not prepended: {want[:40]!r}")
    for a in inserted:
        add("repeated" if planned else "unexpected", f"extra html insert: {a.get('html', '')[:60]!r}")
