"""Fakes for the engine tests: a browser, a file-based "site" (SQLite) and an exactly-once processor.

The site keeps products per provider code and an audit table; an edit and its audit row are written in
one SQLite transaction (like the real site's server does), so the audit log is the truth about which
operations landed. The processor follows the exactly-once rules of contracts.md: intent → checkpoint per
op → edited → done, and on resume it inspects the site before repeating anything.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepbatch.engine.options import RunOptions
from stepbatch.engine.protocol import ItemStatus, UnitContext, UnitResult, UnitStatus
from stepbatch.engine.runner import RunSummary, run_account
from stepbatch.state.progress import ProgressStore
from stepbatch.workbook.models import Account, Secret, Unit

OPS = ("del_first", "del_last", "translate")
SERVER = "서버2-1"


def make_account(nickname: str = "ABC") -> Account:
    return Account(
        email=f"{nickname.lower()}@example.com",
        password=Secret("pw-never-shown"),
        operator="홍길동",
        nickname=nickname,
        index=1,
    )


def make_units(n: int, *, server: str = "서버2-1", step: str = "step3", account: str = "ABC") -> list[Unit]:
    return [
        Unit(
            account=account,
            step=step,
            server=server,
            provider_code=f"X{i:02d}",
            target_group="대기2",
            sheet=account,
            rows=(i + 2,),
        )
        for i in range(n)
    ]


class FakeBrowser:
    kind = "fake"

    def __init__(self, number: int, mb_per_item: float = 0.0, base_mb: float = 100.0) -> None:
        self.number = number
        self.items = 0
        self.mb_per_item = mb_per_item
        self.base_mb = base_mb
        self.killed = threading.Event()
        self.closed = False
        self.logins = 0

    @property
    def pids(self) -> list[int]:
        return [10_000 + self.number]

    def memory_mb(self) -> float:
        return self.base_mb + self.mb_per_item * self.items

    def page_metrics(self) -> dict[str, Any]:
        return {"JSHeapUsedSize": 8 * 2**20, "Nodes": 1000 + self.items}

    def is_alive(self) -> bool:
        return not (self.closed or self.killed.is_set())

    def kill(self) -> None:
        self.killed.set()

    def close(self) -> None:
        self.closed = True


class FakeFactory:
    def __init__(self, mb_per_item: float = 0.0) -> None:
        self.browsers: list[FakeBrowser] = []
        self.mb_per_item = mb_per_item
        self.fail_next = 0

    def __call__(self) -> FakeBrowser:
        if self.fail_next:
            self.fail_next -= 1
            raise OSError("chromium did not start")
        browser = FakeBrowser(len(self.browsers) + 1, self.mb_per_item)
        self.browsers.append(browser)
        return browser

    @property
    def unclosed(self) -> list[FakeBrowser]:
        return [b for b in self.browsers if not b.closed and not b.killed.is_set()]


class Site:
    """Products per code in group `new`; `move` puts them in the target group (they leave the search)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, code TEXT, grp TEXT, images INTEGER,"
            " pos INTEGER);"
            "CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, product TEXT, op TEXT);"
        )

    def populate(self, counts: dict[str, int], images: int = 10) -> None:
        self.db.execute("BEGIN")
        pos = 0
        for code, n in counts.items():
            for _k in range(n):
                pos += 1
                pid = f"{pos:024x}"
                self.db.execute("INSERT INTO products VALUES (?,?,?,?,?)", (pid, code, "new", images, pos))
        self.db.execute("COMMIT")

    def search(self, code: str) -> list[str]:
        rows = self.db.execute("SELECT id FROM products WHERE code=? AND grp='new' ORDER BY pos", (code,))
        return [r[0] for r in rows]

    def images(self, pid: str) -> int:
        return self.db.execute("SELECT images FROM products WHERE id=?", (pid,)).fetchone()[0]

    def group(self, pid: str) -> str:
        return self.db.execute("SELECT grp FROM products WHERE id=?", (pid,)).fetchone()[0]

    def apply(self, pid: str, index: int, op: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("UPDATE products SET images = images - 1 WHERE id=?", (pid,))
        self.db.execute("INSERT INTO audit (product, op) VALUES (?,?)", (pid, f"{index}:{op}"))
        self.db.execute("COMMIT")

    def move(self, pid: str, target: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        self.db.execute("UPDATE products SET grp=? WHERE id=?", (target, pid))
        self.db.execute("INSERT INTO audit (product, op) VALUES (?,?)", (pid, "move"))
        self.db.execute("COMMIT")

    def audit_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]

    def audit(self) -> list[tuple[str, str]]:
        return list(self.db.execute("SELECT product, op FROM audit ORDER BY seq"))

    def products(self) -> list[tuple[str, str, str, int]]:
        return list(self.db.execute("SELECT id, code, grp, images FROM products ORDER BY pos"))

    def close(self) -> None:
        self.db.close()


@dataclass
class Fault:
    """Raise `exc` before the `at_item`-th item (0-based, counted over every call) of unit `code`.

    `exc="hang"` blocks until the browser is killed, then fails like a dead browser connection would.
    """

    code: str
    exc: BaseException | str
    at_item: int = 0
    times: int = 1


@dataclass
class SiteProcessor:
    site: Site
    step: str = "step3"
    ops: tuple[str, ...] = OPS
    faults: list[Fault] = field(default_factory=list)
    fail_open: list[BaseException] = field(default_factory=list)
    opens: list[int] = field(default_factory=list)  # browser number per open() call
    calls: list[str] = field(default_factory=list)  # unit code per process() call
    captures: list[Path] = field(default_factory=list)
    work: threading.Event | None = None  # when set, each op waits on it briefly (simulated page work)

    def open(self, browser: FakeBrowser, account: Account) -> None:
        self.browser = browser
        self.opens.append(browser.number)
        if self.fail_open:
            raise self.fail_open.pop(0)
        browser.logins += 1

    def capture_failure(self, path_stem: Path) -> dict[str, Path]:
        shot = path_stem.with_suffix(".png")
        html = path_stem.with_suffix(".html")
        shot.write_bytes(b"\x89PNG fake")
        html.write_text("<html>fake</html>", encoding="utf-8")
        self.captures.append(path_stem)
        return {"screenshot": shot, "html": html}

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        self.calls.append(unit.provider_code)
        ctx.set_total(len(self.site.search(unit.provider_code)))
        for rec in ctx.unfinished_items():
            if ctx.should_stop():
                return UnitResult(UnitStatus.PARTIAL)
            self._item(unit, rec.item_id, ctx)
        while True:
            candidates = [
                p
                for p in self.site.search(unit.provider_code)
                if (ctx.item_state(p) or _NONE).status != ItemStatus.FAILED
            ]
            if not candidates:
                return UnitResult(UnitStatus.DONE)
            if ctx.should_stop():
                return UnitResult(UnitStatus.PARTIAL)
            self._item(unit, candidates[0], ctx)

    def _maybe_fault(self, unit: Unit) -> None:
        seen = self._seen.get(unit.provider_code, 0)
        self._seen[unit.provider_code] = seen + 1
        for fault in self.faults:
            if fault.code == unit.provider_code and fault.at_item <= seen and fault.times > 0:
                fault.times -= 1
                self._seen[unit.provider_code] = seen  # the item was not processed
                if fault.exc == "hang":
                    self.browser.killed.wait(60)
                    raise RuntimeError("Target page, context or browser has been closed")
                assert isinstance(fault.exc, BaseException)
                raise fault.exc

    def __post_init__(self) -> None:
        self._seen: dict[str, int] = {}

    def _item(self, unit: Unit, pid: str, ctx: UnitContext) -> None:
        self._maybe_fault(unit)
        rec = ctx.item_state(pid)
        if rec is None:
            ctx.item_started(pid, list(self.ops), {"ops_done": 0})
            rec = ctx.item_state(pid)
            assert rec is not None
        if rec.status == ItemStatus.INTENT:
            done = rec.checkpoint.get("ops_done", 0)
            if rec.checkpoint.get("op") == done and self.site.images(pid) == rec.checkpoint["before"] - 1:
                done += 1  # the op in flight had landed before the crash
                ctx.item_checkpoint(pid, ops_done=done)
            for index in range(done, len(self.ops)):
                if self.work is not None:
                    self.work.wait(0.02)
                ctx.item_checkpoint(pid, op=index, before=self.site.images(pid))
                self.site.apply(pid, index, self.ops[index])
                ctx.item_checkpoint(pid, ops_done=index + 1)
            ctx.item_edited(pid)
        if self.site.group(pid) != unit.target_group:
            self.site.move(pid, unit.target_group)
        self.browser.items += 1
        ctx.item_done(pid)


class _NoRecord:
    status = None


_NONE = _NoRecord()


def check_exactly_once(site: Site, ops: tuple[str, ...] = OPS) -> list[str]:
    """Problems in the audit: each product must have each op once, then one move, and be moved."""
    problems = []
    seen: dict[str, list[str]] = {}
    for pid, op in site.audit():
        seen.setdefault(pid, []).append(op)
    expected = [f"{i}:{op}" for i, op in enumerate(ops)] + ["move"]
    for pid, _code, grp, _images in site.products():
        if seen.get(pid) != expected:
            problems.append(f"{pid}: {seen.get(pid)}")
        if grp == "new":
            problems.append(f"{pid}: not moved")
    return problems


class Harness:
    """One account's run over a fake site: units with `counts` products each, a fake browser factory and
    the site's exactly-once processor. Every event is kept in `events`."""

    def __init__(self, tmp_path: Path, counts: list[int], *, seed: int = 7) -> None:
        self.state_dir = tmp_path / "state"
        self.site = Site(tmp_path / "site.db")
        self.units = make_units(len(counts), server=SERVER)
        self.site.populate({u.provider_code: n for u, n in zip(self.units, counts, strict=True)})
        self.factory = FakeFactory()
        self.processor = SiteProcessor(self.site)
        self.events: list[dict] = []
        self.seed = seed

    def run(
        self,
        *,
        listeners: Sequence[Callable[[dict], None]] = (),
        engine: dict[str, Any] | None = None,
        **options: Any,
    ) -> RunSummary:
        """`options` are RunOptions fields; `engine` more run_account arguments (a backend, a stop switch)."""
        options.setdefault("backoff_base", 0.001)
        options.setdefault("backoff_max", 0.01)
        return run_account(
            state_dir=self.state_dir,
            account=make_account(),
            step="step3",
            server=SERVER,
            units=self.units,
            processor=self.processor,
            browser_factory=self.factory,
            options=RunOptions(**options),
            listeners=[self.events.append, *listeners],
            handle_signals=False,
            rng=random.Random(self.seed),
            **(engine or {}),
        )

    def of(self, name: str) -> list[dict]:
        return [e for e in self.events if e["event"] == name]

    def store(self) -> ProgressStore:
        return ProgressStore.open(self.state_dir, "ABC", "step3", SERVER, readonly=True)
