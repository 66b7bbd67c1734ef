"""Helpers for tests and benchmarks that need a running simulator (and a browser logged in to it).

`running_simulator` is the one way to start a simulator for them; `wait_until` the one way to wait for
something another thread or process does; `stepbatch_cli` runs the command line in its own process.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from stepbatch.simulator import db
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from stepbatch.workbook import Workbook
    from stepbatch.workbook.models import Account

T = TypeVar("T")


def stepbatch_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`stepbatch ARGS…` in a separate Python process, its output captured as UTF-8 text."""
    return subprocess.run(
        [sys.executable, "-m", "stepbatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )


def make_workbook(folder: Path, accounts: int = 1, codes: int = 8, seed: int = 1, **kwargs: Any) -> Path:
    """A sample workbook (fake accounts) in `folder`."""
    from stepbatch.workbook import write_sample_workbook

    return write_sample_workbook(
        Path(folder) / "workbook.xlsx", accounts=accounts, codes=codes, seed=seed, force=True, **kwargs
    )


def simulator(
    folder: Path,
    workbook: Path,
    faults: Faults | None = None,
    seed: int = 1,
    counts: dict[str, int] | None = None,
    mode: str = "thread",
    db_name: str = "sim.db",
) -> SimulatorServer:
    """A not-yet-started simulator over a new database in `folder` (use it as a context manager)."""
    return SimulatorServer(
        Path(folder) / db_name, workbook, seed=seed, faults=faults, counts=counts, mode=mode
    )  # type: ignore[arg-type]


@dataclass
class Sim:
    """A running simulator as tests and benchmarks use it: its address, database and workbook."""

    url: str
    db_path: Path
    workbook: Path
    book: Workbook
    pid: int | None = None  # of the server process (mode "subprocess"), else None

    def set_credits(self, credits: int) -> None:
        query(self.db_path, "UPDATE accounts SET credits=?", credits)


def code_counts(book: Workbook, per_code: int) -> dict[str, int]:
    """`per_code` products for every provider code of the book's step2 and step3 rows."""
    steps = ("step2", "step3")
    codes = {u.provider_code for a in book.accounts for s in steps for u in book.units(a, s)}
    return dict.fromkeys(codes, per_code)


@contextmanager
def running_simulator(
    folder: Path,
    workbook: Path,
    faults: Faults | None = None,
    *,
    per_code: int | None = None,
    counts: dict[str, int] | None = None,
    seed: int = 1,
    mode: str = "thread",
    db_name: str = "sim.db",
) -> Iterator[Sim]:
    """A simulator over a new database `folder/db_name` seeded from `workbook`, for the block.

    `per_code` products for each code of the workbook (or explicit `counts`; neither: the seed's own).
    """
    from stepbatch.workbook import load_workbook

    book = load_workbook(workbook)
    if per_code is not None:
        counts = code_counts(book, per_code)
    with simulator(folder, workbook, faults, seed, counts, mode, db_name) as server:
        yield Sim(server.url, server.db_path, Path(workbook), book, server.pid)


def wait_until(
    predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.05, what: str = "condition"
) -> T:
    """Poll `predicate` until it returns something truthy (returned); AssertionError after `timeout`."""
    value = poll_until(predicate, timeout, interval)
    if not value:
        raise AssertionError(f"timed out waiting for {what}")
    return value


def poll_until(predicate: Callable[[], T], timeout: float = 60.0, interval: float = 0.05) -> T:
    """Poll `predicate` until it is truthy or `timeout` passed; its last value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        # polling state another thread or process writes (files, a database, the process table)
        time.sleep(min(interval, max(deadline - time.monotonic(), 0.0)))


def query(db_path: Path, sql: str, *args: object) -> list[tuple]:
    """One statement on a simulator's database from outside the server (autocommitted), rows as tuples."""
    with closing(db.connect(db_path)) as conn:
        return [tuple(row) for row in conn.execute(sql, args).fetchall()]


def launch_chromium(playwright: Any) -> Browser:
    """Headless Chromium as every test here must start it (system binary, offline flags)."""
    from stepbatch.browser.flags import chromium_args

    return playwright.chromium.launch(
        executable_path="/usr/bin/chromium", headless=True, args=chromium_args(offline=True)
    )


def login(page: Page, base_url: str, account: Account, timeout_ms: float = 30_000) -> None:
    """Sign in through the page like a user and wait for the app shell."""
    page.goto(base_url + "/signin")
    page.fill("input#email", account.email)
    page.fill("input#password", account.password.reveal())
    page.click("button:has-text('이메일 로그인')")
    page.wait_for_url(base_url + "/", timeout=timeout_ms)
    page.wait_for_selector("aside.ant-layout-sider ul.ant-menu", timeout=timeout_ms)


class ApiClient:
    """The simulator's JSON API from Python (httpx), logged in as one account."""

    def __init__(self, base_url: str, account: Account) -> None:
        import httpx

        self.http = httpx.Client(base_url=base_url, timeout=30)
        r = self.http.post("/api/login", json={"email": account.email, "password": account.password.reveal()})
        r.raise_for_status()

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get(self, path: str, **params: Any) -> Any:
        r = self.http.get(path, params=params)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        r = self.http.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def search(self, code: str, group: str = "신규수집", size: int = 100) -> list[dict[str, Any]]:
        return self.get("/api/products", group=group, q=code, size=size)["items"]

    def apply_unit(self, product_id: str, unit: Any, move: bool = True) -> None:
        """Do what a correct automation does for one product of `unit`: its ops in order, then the move."""
        from stepbatch.simulator.replay import TRANSLATE_TARGET, copy_order, gated, positions
        from stepbatch.workbook.models import Action, CommandKind

        base = f"/api/products/{product_id}"
        for op in unit.ops:
            p = self.get(base)
            if op.action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
                kind = "detail" if op.action is Action.IMAGE_DELETE else "thumbnail"
                images = p["detail"] if kind == "detail" else p["thumbs"]
                for pos in sorted(positions(op.command, len(images)), reverse=True):
                    self.post(base + "/images/delete", {"list": kind, "image": images[pos - 1]["id"]})
            elif op.action is Action.OPTION_IMAGE_COPY:
                images = [o["image"] for o in p["options"] if o["image"]]
                for pos in copy_order(op.command, len(images)):
                    self.post(base + "/images/copy", {"list": "option", "image": images[pos - 1]["id"]})
            elif op.action in TRANSLATE_TARGET:
                target = TRANSLATE_TARGET[op.action]
                images = {
                    "detail": p["detail"],
                    "thumbnail": p["thumbs"],
                    "option": [o["image"] for o in p["options"] if o["image"]],
                }[target]
                for pos in positions(op.command, len(images)):
                    if gated(op.command) and not images[pos - 1]["src"].endswith("-zh.png"):
                        continue  # what the OCR gate skips: no Chinese text on the picture
                    self.post(base + "/translate", {"list": target, "image": images[pos - 1]["id"]})
            elif op.action is Action.IMAGE_TAG_INSERT and op.command.kind is CommandKind.YES:
                self.post(base + "/html", {"via": "embed", "html": '<img src="" alt="tag">'})
            elif op.action is Action.HTML_UPDATE and op.command.text:  # typed at the source's start
                self.post(base + "/html", {"via": "source", "old": "x", "new": op.command.text + "x"})
        if move:
            self.post(base + "/group", {"group": unit.target_group})
