"""A report and notifications from a real engine run (stepbatch.engine.runner with a small fake site)."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from report_eventgen import PNG_1PX

from stepbatch.engine.errors import Permanent, StopAccount, Transient
from stepbatch.engine.options import RunOptions
from stepbatch.engine.protocol import UnitContext, UnitResult, UnitStatus
from stepbatch.engine.runner import run_account
from stepbatch.report.events import load_run
from stepbatch.report.html import write_report
from stepbatch.report.notify import Notifier, RateLimit
from stepbatch.workbook.models import Account, Secret, Unit

PASSWORD = "pw-engine-Secret-77"
SERVER = "서버1-2"


class GrowingBrowser:
    """A browser stand-in whose memory grows with every product, so the engine recycles it on memory."""

    kind = "fake"

    def __init__(self, number: int) -> None:
        self.number, self.items, self.closed = number, 0, False

    @property
    def pids(self) -> list[int]:
        return [20_000 + self.number]

    def memory_mb(self) -> float:
        return 250.0 + 120.0 * self.items

    def page_metrics(self) -> dict[str, Any]:
        return {"JSHeapUsedSize": 16 * 2**20, "Nodes": 900 + self.items}

    def is_alive(self) -> bool:
        return not self.closed

    def kill(self) -> None:
        self.closed = True

    def close(self) -> None:
        self.closed = True


class ScriptedProcessor:
    """Each code has `products` products; A01 times out twice, A02 is Permanent, A05 exhausts credits."""

    step = "step3"

    def __init__(self, products: dict[str, int]) -> None:
        self.products = products
        self.failures = {"A01": 2}

    def open(self, browser: GrowingBrowser, account: Account) -> None:
        self.browser = browser

    def capture_failure(self, path_stem: Path) -> dict[str, Path]:
        shot = path_stem.with_suffix(".png")
        shot.write_bytes(PNG_1PX)
        return {"screenshot": shot}

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        code = unit.provider_code
        if self.failures.get(code, 0) > 0:
            self.failures[code] -= 1
            raise Transient("timeout 30000 ms waiting for 상품 목록")
        if code == "A02":
            raise Permanent("상세페이지 이미지가 2개뿐인데 first:4 삭제를 요청했습니다")
        if code == "A05":
            raise StopAccount("번역 가능 횟수를 모두 사용했습니다")
        ctx.set_total(self.products[code])
        for n in range(self.products[code]):
            if ctx.should_stop():
                return UnitResult(UnitStatus.PARTIAL)
            item = f"{int(code[1:]):04x}{n:04x}" + "cd" * 8
            state = ctx.item_state(item)
            if state is not None and state.status == "done":
                continue  # done before the browser was recycled
            if state is None:
                ctx.item_started(item, [op.describe() for op in unit.ops])
            ctx.item_edited(item)
            self.browser.items += 1
            ctx.item_done(item)
        return UnitResult(UnitStatus.DONE, items_done=self.products[code])


def test_report_and_notifications_from_a_real_engine_run(tmp_path: Path, http_sink, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    state = tmp_path / "state"
    products = {f"A{i:02d}": n for i, n in enumerate([3, 2, 1, 4, 2, 5, 3])}
    units = [
        Unit(
            account="ABC",
            step="step3",
            server=SERVER,
            provider_code=code,
            target_group="대기1",
            sheet="ABC",
            rows=(i + 2,),
        )
        for i, code in enumerate(products)
    ]
    account = Account(
        email="abc@example.com", password=Secret(PASSWORD), operator="홍길동", nickname="ABC", index=1
    )
    browsers: list[GrowingBrowser] = []

    def factory() -> GrowingBrowser:
        browsers.append(GrowingBrowser(len(browsers) + 1))
        return browsers[-1]

    notifier = Notifier(
        [f"json://bot:{PASSWORD}@127.0.0.1:{http_sink.port}/hook"],
        RateLimit(per_key_s=600, per_minute=60),
        repeated_failures=2,
        secrets=[account.password.reveal()],
    )
    summary = run_account(
        state_dir=state,
        account=account,
        step="step3",
        server=SERVER,
        units=units,
        processor=ScriptedProcessor(products),
        browser_factory=factory,
        options=RunOptions(
            batch_size=2, restart_above_mb=700, max_attempts=3, backoff_base=0.001, backoff_max=0.01
        ),
        listeners=[notifier],
        handle_signals=False,
        rng=random.Random(3),
    )
    notifier.close()
    assert summary.outcome == "stopped"

    html_path = write_report(summary.run_dir)
    run = load_run(summary.run_dir)
    html = html_path.read_text(encoding="utf-8")
    assert run.outcome == "stopped" and 'id="outcome">stopped<' in html
    assert run.account == "ABC" and run.server == SERVER
    statuses = {k: r.status for k, r in run.units.items()}
    assert statuses[f"A00@{SERVER}"] == "done" and statuses[f"A02@{SERVER}"] == "failed"
    assert statuses[f"A05@{SERVER}"] == "partial" and f"A06@{SERVER}" not in statuses
    assert run.not_reached == 1 and '<b id="not-reached">1</b>not reached' in html
    assert run.units[f"A01@{SERVER}"].attempts == 3
    assert sum(summary.restarts.values()) == len(run.restarts) > 0
    assert {r.reason for r in run.restarts} >= {"batch", "memory"}
    assert html.count('class="restart-marker"') == len(run.restarts)
    assert len(run.memory) == summary.items_done == sum(r.items_done for r in run.units.values())
    assert run.peak_mb == summary.peak_memory_mb
    classes = {g.error_class: g for g in run.errors}
    assert classes["Transient"].count == 2 and classes["Transient"].retries == 2
    assert classes["Permanent"].screenshot and (summary.run_dir / classes["Permanent"].screenshot).is_file()
    assert "StopAccount" in classes
    md = (summary.run_dir / "summary.md").read_text(encoding="utf-8")
    assert md.startswith(f"# ABC · step3 · {SERVER} — stopped")

    titles = [p["title"] for p in http_sink.payloads()]
    assert titles[0] == f"stepbatch ▶ ABC step3 {SERVER}"
    assert f"stepbatch ⚠ ABC step3 {SERVER}" in titles  # A01 failed twice
    assert f"stepbatch ⏸ ABC step3 {SERVER}" in titles
    assert titles[-1] == f"stepbatch ■ ABC step3 {SERVER}: stopped"
    logs = "\n".join(r.getMessage() for r in caplog.records)
    files = "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in summary.run_dir.rglob("*")
        if p.is_file() and p.suffix != ".png"
    )
    for text in (*http_sink.bodies(), logs, files):
        assert PASSWORD not in text
