"""Item notes (warnings, translate presses, OCR) and the run's facts (skipped rows, gate) in the summary."""

from __future__ import annotations

import json
import random
from pathlib import Path

from engine_fakes import FakeFactory, make_account, make_units

from stepbatch.engine.notes import NoteTally
from stepbatch.engine.options import RunOptions
from stepbatch.engine.protocol import UnitContext, UnitResult, UnitStatus
from stepbatch.engine.runner import run_account
from stepbatch.workbook.models import Unit

SERVER = "서버2-1"


def note(unit: str, item: str, kind: str, **data) -> dict:
    return {"event": "note", "unit": unit, "item": item, "kind": kind, **data}


def ocr(unit: str, item: str, position: int, chinese: bool, ms: int, reused: bool = False) -> dict:
    return note(
        unit,
        item,
        "ocr",
        target="detail",
        position=position,
        chinese=chinese,
        ms=ms,
        engine="x",
        reused=reused,
    )


def test_tally_counts_per_unit_and_per_run() -> None:
    tally = NoteTally()
    events = [
        ocr("A@s", "p1", 1, True, 100),
        note("A@s", "p1", "press", target="detail", position=1, credits_left=41),
        ocr("A@s", "p1", 2, False, 300),
        ocr("A@s", "p1", 2, False, 0, reused=True),  # the decision again after a crash: not counted
        ocr("A@s", "p1", 2, False, 200),  # the same image read twice: saved once
        note("A@s", "p1", "clamp", op="image_delete last:9", message="only 4 image(s): deleted 4"),
        ocr("B@s", "p2", 1, False, 500),
        note("B@s", "p2", "press", target="option", position=1),  # no credits told
        {"event": "item", "unit": "B@s", "item": "p2", "status": "done"},  # not a note: ignored
        note("B@s", "p2", "ocr", target="detail", position="x", chinese=False, ms="slow"),  # odd values
    ]
    for rec in events:
        tally(rec)
    data = tally.to_dict()
    assert data["warnings"] == 1 and "warning_messages" not in data
    assert (data["presses_made"], data["presses_saved"], data["credits_left"]) == (2, 2, 41)
    assert data["ocr_images"] == 4 and data["ocr_median_ms"] == 250  # median of 100, 300, 200, 500
    a = data["units"]["A@s"]
    assert a["warning_messages"] == ["p1: image_delete last:9: only 4 image(s): deleted 4"]
    assert (a["presses_made"], a["presses_saved"], a["ocr_median_ms"]) == (1, 1, 200)
    b = data["units"]["B@s"]
    assert (b["warnings"], b["presses_made"], b["presses_saved"], b["credits_left"]) == (0, 1, 1, "unknown")


def test_no_notes_means_zero_counts_and_unknown_credits() -> None:
    data = NoteTally().to_dict()
    assert data == {
        "warnings": 0,
        "presses_made": 0,
        "presses_saved": 0,
        "ocr_images": 0,
        "ocr_median_ms": None,
        "credits_left": "unknown",
        "units": {},
    }


class NotingProcessor:
    """Two products per unit; each gets an OCR decision, one press and, on the first unit, a clamp."""

    step = "step3"

    def open(self, browser, account) -> None:
        pass

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        for n in range(2):
            item = f"{unit.provider_code}{n:022x}"
            ctx.item_started(item, unit.plan())
            ctx.item_note(
                item, "ocr", target="detail", position=1, chinese=False, ms=120, engine="x", reused=False
            )
            ctx.item_note(item, "press", target="detail", position=2, credits_left=90 - n)
            if unit.provider_code == "X00":
                ctx.item_note(item, "clamp", op="thumbnail_delete last:5", message="only 3 thumbnail(s)")
            ctx.item_done(item)
        return UnitResult(UnitStatus.DONE, items_done=2, total_found=2)


def test_summary_holds_notes_skipped_rows_and_gate(tmp_path: Path) -> None:
    skipped = [{"sheet": "ABC", "row": 7, "column": "K", "message": "unknown command 'yess'"}]
    gate = {"translate_all": False, "available": True, "description": "translation gate on: OCR x"}
    events: list[dict] = []
    summary = run_account(
        state_dir=tmp_path / "state",
        account=make_account(),
        step="step3",
        server=SERVER,
        units=make_units(2, server=SERVER),
        processor=NotingProcessor(),
        browser_factory=FakeFactory(),
        options=RunOptions(batch_size=5),
        listeners=[events.append],
        handle_signals=False,
        rng=random.Random(1),
        skipped_rows=skipped,
        translation_gate=gate,
    )
    assert summary.outcome == "complete" and summary.skipped_rows == skipped
    assert summary.translation_gate == gate
    notes = summary.notes
    assert (notes["warnings"], notes["presses_made"], notes["presses_saved"]) == (2, 4, 4)
    assert notes["credits_left"] == 89 and notes["ocr_median_ms"] == 120
    assert (
        notes["units"][f"X00@{SERVER}"]["warnings"] == 2 and notes["units"][f"X01@{SERVER}"]["warnings"] == 0
    )
    written = json.loads((summary.run_dir / "summary.json").read_text(encoding="utf-8"))
    assert written["skipped_rows"] == skipped and written["notes"] == notes
    started = next(e for e in events if e["event"] == "run_started")
    assert started["skipped_rows"] == skipped and started["translation_gate"] == gate
    assert started["options"]["skip_invalid"] is False and started["options"]["translate_all"] is False
