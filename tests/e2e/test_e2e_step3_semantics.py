"""Step3 as the operators' rows mean it, end to end in headless Chromium with the real OCR: counts past what a
product has are clamped like the real tool, translation is pressed only where the picture has Chinese text
(or on every named image with --translate-all), and a SIGKILL between an OCR decision and its press resumes
without a second press."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from e2e_support import query, run_command, serve, small_workbook

from stepbatch.browser.factory import BrowserOptions, browser_factory
from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import run_account
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.verify import VerifyResult, verify
from stepbatch.sites.percenty import Step3Processor
from stepbatch.vision import availability
from stepbatch.workbook import Unit, load_workbook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not availability()[0], reason="the OCR extra is not installed"),
]


@dataclass
class Case:
    url: str
    db: Path
    workbook: Path
    unit: Unit
    products: list[str]  # the unit's products, newest first (the list's order)


@contextmanager
def step3_case(tmp_path: Path, per_code: int = 3) -> Iterator[Case]:
    """Seed 5's only step3 row: image_delete first:1 + last:1, copy:2, image special:5, option
    specific:all."""
    workbook = small_workbook(tmp_path, codes=2, seed=5)
    book = load_workbook(workbook)
    account = book.accounts[0]
    (unit,) = book.units(account, "step3")
    counts = {u.provider_code: 1 for s in ("step2", "step3") for u in book.units(account, s)}
    counts[unit.provider_code] = per_code
    db = tmp_path / "sim.db"
    with serve(db, workbook, Faults(translate_ms=30), counts) as url:
        listed = "SELECT id FROM products WHERE code=? AND orig_grp='신규수집' ORDER BY seq DESC"
        products = [pid for (pid,) in query(db, listed, unit.provider_code)]
        yield Case(url, db, workbook, unit, products)


def run_step3(case: Case, state: Path, *, translate_all: bool = False):
    account = load_workbook(case.workbook).accounts[0]
    return run_account(
        state_dir=state,
        account=account,
        step="step3",
        server=None,
        units=[case.unit],
        processor=Step3Processor(case.url, translate_all=translate_all),
        browser_factory=browser_factory(BrowserOptions(offline=True, state_dir=state, account="e2e")),
        options=RunOptions(step="step3", batch_size=5, backoff_base=0.2, backoff_max=1.0),
        handle_signals=False,
    )


def set_images(case: Case, product: str, column: str, images: list[dict]) -> None:
    data = json.dumps(images)
    query(case.db, f"UPDATE products SET {column}=?, orig_{column}=? WHERE id=?", data, data, product)


def images_of(case: Case, product: str, column: str) -> list[dict]:
    return json.loads(query(case.db, f"SELECT {column} FROM products WHERE id=?", product)[0][0])


def notes(state: Path) -> list[dict]:
    lines = [
        ln for p in sorted(state.glob("runs/*/events.jsonl")) for ln in p.read_text("utf-8").splitlines()
    ]
    return [e for e in map(json.loads, lines) if e.get("event") == "note"]


def assert_clean(result: VerifyResult) -> None:
    assert (result.missing, result.repeated, result.unexpected) == (0, 0, 0), [
        d.line() for d in result.details
    ]


def test_clamped_counts_cycled_copies_and_the_ocr_gate(tmp_path: Path):
    with step3_case(tmp_path) as case:
        few, one_option, mixed = case.products
        set_images(case, few, "detail", images_of(case, few, "detail")[:1])  # first:1 takes it, last:1 none
        options = images_of(case, one_option, "options")
        set_images(case, one_option, "options", [options[0], *({**o, "image": None} for o in options[1:])])
        detail = images_of(case, mixed, "detail")
        set_images(case, mixed, "detail", [{**im, "zh": i % 2 == 0} for i, im in enumerate(detail)])
        summary = run_step3(case, tmp_path / "state")
        groups = dict(query(case.db, "SELECT id, grp FROM products WHERE code=?", case.unit.provider_code))
        copies = [im["orig"] for im in images_of(case, one_option, "thumbs")[-2:]]
        result = verify(case.db, case.workbook, step="step3")
    assert summary.outcome == "complete", summary
    assert all(groups[p] == case.unit.target_group for p in case.products), groups  # clamped ones moved too
    assert copies == [options[0]["image"]["orig"]] * 2  # copy:2 over one option image cycled
    assert_clean(result)
    assert result.wasted == 0 and result.presses > 0, result.line()
    clamps = {(n["item"], n["op"]) for n in notes(tmp_path / "state") if n["kind"] == "clamp"}
    assert (few, "image_delete last:1") in clamps and (one_option, "option_image_copy copy:2") in clamps
    decided = [n for n in notes(tmp_path / "state") if n["kind"] == "ocr" and n["item"] == mixed]
    named = min(5, len(detail) - 2)  # special:5 after first:1 and last:1
    assert [n["chinese"] for n in decided if n["target"] == "detail"] == [i % 2 == 1 for i in range(named)]
    assert all(n["ms"] > 0 and n["engine"] == "rapidocr" for n in decided)


def test_translate_all_presses_every_named_image(tmp_path: Path):
    with step3_case(tmp_path, per_code=2) as case:
        for product in case.products:
            detail = images_of(case, product, "detail")
            set_images(case, product, "detail", [{**im, "zh": i % 2 == 0} for i, im in enumerate(detail)])
        summary = run_step3(case, tmp_path / "state", translate_all=True)
        result = verify(case.db, case.workbook, step="step3")
    assert summary.outcome == "complete", summary
    assert_clean(result)
    assert result.wasted >= 2, result.line()  # at least the no-Chinese pictures of special:5, per product
    assert not [n for n in notes(tmp_path / "state") if n["kind"] == "ocr"]


def test_a_sigkill_between_the_ocr_decision_and_the_press_resumes_without_a_second_press(tmp_path: Path):
    with step3_case(tmp_path, per_code=1) as case:
        (product,) = case.products
        detail = images_of(case, product, "detail")
        set_images(case, product, "detail", [{**im, "zh": True} for im in detail])
        state = tmp_path / "state"
        account = load_workbook(case.workbook).accounts[0].email
        cmd = run_command("step3", case.workbook, case.url, state, "--account", account, gate=True)
        killed = subprocess.run(
            [sys.executable, str(Path(__file__).with_name("step3_kill_worker.py")), *cmd[3:]],
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
        assert killed.returncode != 0, killed.stdout + killed.stderr
        presses_before = query(case.db, "SELECT count(*) FROM audit WHERE op='image_translate'")[0][0]
        resumed = subprocess.run(
            cmd, capture_output=True, text=True, encoding="utf-8", timeout=300, check=False
        )
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        result = verify(case.db, case.workbook, step="step3")
        pressed = [
            json.loads(args)["position"]
            for (args,) in query(case.db, "SELECT args FROM audit WHERE op='image_translate' ORDER BY rowid")
        ]
    assert presses_before == 0  # killed after its first decision, before that image's press
    assert_clean(result)
    assert sorted(pressed[:5]) == [1, 2, 3, 4, 5]  # special:5 after the deletes: each image once
    reused = [n for n in notes(state) if n["kind"] == "ocr" and n["reused"]]
    assert [(n["target"], n["position"]) for n in reused] == [("detail", 1)]
