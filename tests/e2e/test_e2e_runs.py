"""step2 and step3 end to end in headless Chromium against the simulator, with each fault switched on."""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from e2e_support import Sim, query, request, serve, simulator, small_workbook

from stepbatch.app.run import run_one
from stepbatch.browser.factory import BrowserOptions, browser_factory
from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import run_account
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.verify import verify
from stepbatch.sites.percenty import Step3Processor
from stepbatch.workbook import load_workbook

pytestmark = pytest.mark.browser


def run(sim: Sim, step: str, state: Path, **options) -> tuple[int, str]:
    out = io.StringIO()
    code = run_one(request(sim, step, state, **options), out=out, live=False)
    return code, out.getvalue()


def assert_verified(sim: Sim, step: str | None = None) -> str:
    result = verify(sim.db_path, sim.workbook, step=step)
    line = result.line() if callable(getattr(result, "line", None)) else str(result.line)
    assert " 0 missing, 0 repeated, 0 unexpected" in line, line
    return line


def summaries(state: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(state.glob("runs/*/summary.json"))]


def test_step2_then_step3_complete_and_verified(sim: Sim, tmp_path: Path):
    state = tmp_path / "state"
    code2, out2 = run(sim, "step2", state)
    assert code2 == 0, out2
    code3, out3 = run(sim, "step3", state)
    assert code3 == 0, out3
    assert "complete" in out3
    assert_verified(sim)
    last = summaries(state)[-1]
    assert last["items_done"] > 0 and last["items_failed"] == 0
    assert last["restarts"].get("batch", 0) >= 1  # batch size 2 over more codes: the browser was recycled


FAULTS = {
    "latency": Faults(latency_ms=40, translate_ms=30),
    "5xx": Faults(error_rate=0.08, translate_ms=30),
    "popups": Faults(login_popup=True, popup_rate=0.15, translate_ms=30),
    "channel_talk": Faults(channel_talk=True, translate_ms=30),
    "session_expiry": Faults(session_expiry_min=0.08, translate_ms=30),  # < one batch's time
    "lingering_modal": Faults(linger_modal_ms=1500, translate_ms=30),
    "leak": Faults(leak_mb_per_action=2.0, translate_ms=30),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_step3_survives_fault(fault: str, tmp_path: Path):
    with simulator(tmp_path, faults=FAULTS[fault], codes=3) as sim:
        extra = {"restart_every_items": 3} if fault == "leak" else {}
        code, out = run(sim, "step3", tmp_path / "state", **extra)
        assert code == 0, out
        assert_verified(sim, step="step3")
        last = summaries(tmp_path / "state")[-1]
        if fault == "leak":
            assert last["restarts"].get("items", 0) >= 1
        if fault == "session_expiry":  # whether the engine or the site adapter logged in again
            assert last["relogins"] >= 1 and last["retries"].get("SessionExpired", 0) >= 1, last


def test_credits_running_out_stops_the_account_then_resumes(tmp_path: Path):
    with simulator(
        tmp_path, faults=Faults(translation_credits=1, translate_ms=30), codes=4, per_code=3
    ) as sim:
        state = tmp_path / "state"
        code, out = run(sim, "step3", state)
        assert code == 1, out
        first = summaries(state)[-1]
        assert (first["stop_reason"] or "").startswith("StopAccount"), first
        sim.set_credits(10_000)
        code, out = run(sim, "step3", state)
        assert code == 0, out
        assert_verified(sim, step="step3")


class _RoutedStep3(Step3Processor):
    """Step3 whose page answers `/api/products…` requests through `_answer` (one route per page)."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self._routed: object = None

    def open(self, browser, account) -> None:
        super().open(browser, account)
        if self._routed is not self.site.page:
            self._routed = self.site.page
            self.site.page.route("**/api/products**", self._answer)

    def _answer(self, route) -> None:
        route.continue_()


def run_step3_with(processor: Step3Processor, sim: Sim, state: Path):
    """run_account in this process with `processor`, for tests that reach into the page."""
    account = sim.book.accounts[0]
    return run_account(
        state_dir=state,
        account=account,
        step="step3",
        server=None,
        units=sim.book.units(account, "step3"),
        processor=processor,
        browser_factory=browser_factory(BrowserOptions(offline=True, state_dir=state, account="e2e")),
        options=RunOptions(step="step3", batch_size=5, backoff_base=0.2, backoff_max=1.0),
        handle_signals=False,
    )


class _SessionEndsOnARefresh(_RoutedStep3):
    """The list refresh right after the first move is answered 401, as when the session expires at that
    moment: the app leaves for the sign-in page and, on the way, shows an empty list."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.moves = 0
        self.expired = 0

    def _answer(self, route) -> None:
        request = route.request
        if request.method == "POST" and request.url.endswith("/group"):
            self.moves += 1
        is_list = request.method == "GET" and urlparse(request.url).path == "/api/products"
        if is_list and self.moves == 1 and not self.expired:
            self.expired += 1
            route.fulfill(status=401, body="{}", content_type="application/json")
            return
        route.continue_()


def test_a_session_that_ends_on_the_list_refresh_does_not_end_the_code(tmp_path: Path):
    """An empty list is only believed after a fresh search: the code's other products still get done."""
    with simulator(tmp_path, codes=2, per_code=4) as sim:
        processor = _SessionEndsOnARefresh(sim.url)
        summary = run_step3_with(processor, sim, tmp_path / "state")
        assert processor.expired == 1 and summary.outcome == "complete", summary
        assert summary.retries.get("Transient", 0) == 0, summary.retries  # a re-login, no attempt used
        assert_verified(sim, step="step3")


def test_more_failed_products_than_a_list_page_holds_are_paged_past(tmp_path: Path):
    """51 products that cannot take the code's edits stay in the search (failed, not moved) and fill the
    first 50-row page; the 2 that can are on page 2 and still get done."""
    workbook = small_workbook(tmp_path, codes=2, seed=5)
    book = load_workbook(workbook)
    account = book.accounts[0]
    (unit,) = book.units(account, "step3")
    # a copy with no option image to copy is the one count the real tool could not clamp: infeasible
    assert any(op.describe().startswith("option_image_copy") for op in unit.ops), unit.ops
    counts = {u.provider_code: 1 for s in ("step2", "step3") for u in book.units(account, s)}
    counts[unit.provider_code] = 53
    db = tmp_path / "sim.db"
    with serve(db, workbook, Faults(translate_ms=30), counts) as url:
        listed = "SELECT id FROM products WHERE code=? ORDER BY seq DESC"  # the list's order: newest first
        ids = [pid for (pid,) in query(db, listed, unit.provider_code)]
        unworkable, workable = ids[:51], ids[51:]
        for pid in unworkable:
            query(db, "UPDATE products SET options='[]', orig_options='[]' WHERE id=?", pid)
        exit_code, out = run(Sim(url, db, workbook, book), "step3", tmp_path / "state")
        groups = dict(query(db, "SELECT id, grp FROM products WHERE code=?", unit.provider_code))
    last = summaries(tmp_path / "state")[-1]
    assert (last["items_done"], last["items_failed"]) == (2, 51), (last, out)
    assert exit_code == 1, out  # finished, with failures
    assert all(groups[pid] == unit.target_group for pid in workable), groups
    assert not any(groups[pid] == unit.target_group for pid in unworkable)


class _SessionExpiresRightAfterTheMove(_RoutedStep3):
    """The server applies the first move and ends the session at that moment; the list refresh that
    follows fails with a 5xx, so the row stays on screen and the adapter's own check hits the 401."""

    def __init__(self, base_url: str, db_path: Path) -> None:
        super().__init__(base_url)
        self.db_path = db_path
        self.moved: str | None = None
        self.failed_refreshes = 0

    def _answer(self, route) -> None:
        request = route.request
        path = urlparse(request.url).path
        if request.method == "POST" and path.endswith("/group") and self.moved is None:
            response = route.fetch()
            if response.ok:
                self.moved = path.split("/")[-2]
                query(self.db_path, "DELETE FROM sessions")
            route.fulfill(response=response)
            return
        if request.method == "GET" and path == "/api/products" and self.moved and not self.failed_refreshes:
            self.failed_refreshes += 1
            route.fulfill(status=503, body="{}", content_type="application/json")
            return
        route.continue_()


def test_a_product_moved_just_before_the_session_ended_is_recorded_done(tmp_path: Path):
    """The move landed, the session ended before the adapter saw the row go: the product is done (once)."""
    with simulator(tmp_path, codes=2, per_code=3) as sim:
        processor = _SessionExpiresRightAfterTheMove(sim.url, sim.db_path)
        summary = run_step3_with(processor, sim, tmp_path / "state")
        assert processor.moved and summary.outcome == "complete", summary
        assert summary.relogins >= 1, summary
        assert_verified(sim, step="step3")
        moved = query(sim.db_path, "SELECT COUNT(*) FROM products WHERE grp IS NOT orig_grp")[0][0]
        assert summary.items_done == moved, (summary.items_done, moved)
