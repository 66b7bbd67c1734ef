"""step2 and step3 end to end in headless Chromium against the simulator, with each fault switched on."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from e2e_support import Sim, request, simulator

from stepbatch.app.run import run_one
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.verify import verify

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
    "session_expiry": Faults(session_expiry_min=0.15, translate_ms=30),
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
