"""--skip-invalid and --translate-all: spelled in RunOptions, stepbatch.toml, the child command and the
processor; the translation-gate line; the end-of-run summary lines."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path

import pytest

from stepbatch.app import preflight, processors
from stepbatch.app.preflight import TRANSLATE_ALL_LINE, translation_gate
from stepbatch.app.run import RunRequest, check_options, child_command, format_summary, with_flags
from stepbatch.config import load_config
from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import RunSummary
from stepbatch.errors import UserError
from stepbatch.workbook import SkippedRow


def test_both_flags_come_from_stepbatch_toml_and_the_command_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "stepbatch.toml"
    path.write_text("[step3]\nskip_invalid = true\ntranslate_all = true\n", encoding="utf-8")
    config = load_config(path)
    options, _ = config.resolve("step3", {"skip_invalid": None, "translate_all": None})
    assert options.skip_invalid and options.translate_all
    step2, _ = config.resolve("step2", {"skip_invalid": None, "translate_all": None})
    assert not step2.skip_invalid and not step2.translate_all
    path.write_text("[step3]\ntranslate_all = 1\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"\[step3\] translate_all must be true or false, got int 1"):
        load_config(path)
    path.write_text("[step3]\ntranslate_al = true\n", encoding="utf-8")
    with pytest.raises(UserError, match="did you mean 'translate_all'"):
        load_config(path)


def test_translate_all_is_for_step3_only() -> None:
    check_options(RunOptions(step="step3", translate_all=True))
    check_options(RunOptions(step="step2", skip_invalid=True))
    with pytest.raises(UserError, match=r"--translate-all .* is for step3 only, not step2"):
        check_options(RunOptions(step="step2", translate_all=True))


def test_the_child_command_of_accounts_all_spells_both_flags() -> None:
    options = RunOptions(step="step3", skip_invalid=True, translate_all=True)
    req = RunRequest(step="step3", workbook=Path("w.xlsx"), options=options)
    cmd = child_command(req, "a@example.com", Path("s.json"))
    assert "--skip-invalid" in cmd and "--translate-all" in cmd and "--new-cycle" not in cmd
    plain = child_command(RunRequest(step="step3", workbook=Path("w.xlsx")), "a@example.com", Path("s.json"))
    assert "--skip-invalid" not in plain and "--translate-all" not in plain


def test_the_children_of_accounts_all_read_the_parents_config_file(tmp_path: Path) -> None:
    # An option left "off" there (item_timeout) and the config-only backoff exist only in that file.
    config = tmp_path / "other.toml"
    req = RunRequest(step="step3", workbook=Path("w.xlsx"), config=config)
    cmd = child_command(req, "a@example.com", Path("s.json"))
    assert cmd[cmd.index("--config") + 1] == str(config.resolve())
    plain = child_command(RunRequest(step="step3", workbook=Path("w.xlsx")), "a@example.com", Path("s.json"))
    assert "--config" not in plain


def test_the_step3_processor_gets_translate_all(monkeypatch) -> None:
    made: list[dict] = []

    class Step3:
        step = "step3"

        def __init__(self, base_url: str, **kwargs) -> None:
            made.append({"base_url": base_url, **kwargs})

        def open(self, browser, account) -> None: ...
        def process(self, unit, ctx): ...

    monkeypatch.setitem(sys.modules, "stepbatch.sites.percenty", types.SimpleNamespace(Step3Processor=Step3))
    processors.build_processor("step3", "http://x", translate_all=True)
    processors.build_processor("step3", "http://x", max_products_per_code=4)
    assert made == [
        {"base_url": "http://x", "max_products_per_code": None, "translate_all": True},
        {"base_url": "http://x", "max_products_per_code": 4, "translate_all": False},
    ]


def test_gate_line_with_translate_all_without_vision_and_from_vision(monkeypatch) -> None:
    assert translation_gate("step2", True) is None
    assert translation_gate("step3", True) == {
        "translate_all": True,
        "available": None,
        "description": "translation gate off (--translate-all): every named image is pressed",
    }
    monkeypatch.setitem(sys.modules, "stepbatch.vision", None)  # the module is not there: no line
    assert translation_gate("step3", False) is None
    fake = types.SimpleNamespace(availability=lambda: (True, "OCR gate on (test engine 1.0)"))
    monkeypatch.setitem(sys.modules, "stepbatch.vision", fake)
    assert translation_gate("step3", False) == {
        "translate_all": False,
        "available": True,
        "description": "OCR gate on (test engine 1.0)",
    }


def _summary(**fields) -> RunSummary:
    base = {"run_id": "r", "run_dir": Path("runs/r"), "account": "ABC", "step": "step3", "server": None}
    return RunSummary(outcome="complete", **{**base, **fields})


def test_end_of_run_summary_mentions_skips_warnings_and_translation() -> None:
    notes = {"warnings": 3, "presses_made": 7, "presses_saved": 5, "ocr_median_ms": 140, "credits_left": 88}
    gate = {"translate_all": False, "available": True, "description": "OCR gate on"}
    text = format_summary(_summary(skipped_rows=[{"row": 3}, {"row": 9}], notes=notes, translation_gate=gate))
    assert "  skipped rows: 2 with errors, not run (listed at the start and in the report)" in text
    assert "  warnings: 3 (a command asked for more images than a product has" in text
    assert "  translation: 7 pressed, 5 saved by OCR (median 140 ms), credits left 88" in text
    off = {"translate_all": True, "available": None, "description": TRANSLATE_ALL_LINE}
    text = format_summary(
        _summary(notes={"presses_made": 2, "credits_left": "unknown"}, translation_gate=off)
    )
    assert "translation: 2 pressed, 0 saved by OCR, credits left unknown; gate off (--translate-all)" in text
    assert "translation:" not in format_summary(_summary(notes={"presses_made": 0}, translation_gate=gate))
    quiet = format_summary(_summary(step="step2"))
    assert "skipped rows" not in quiet and "warnings:" not in quiet and "translation:" not in quiet


def test_start_lines_list_skips_then_the_gate() -> None:
    row = SkippedRow(
        "ABC", 4, "step3", "서버1", "X1", "K", "image_translate", "allx", "unknown command 'allx'"
    )
    out = io.StringIO()
    preflight.write_start_lines(out, preflight.Selection([], [row]), translation_gate("step3", True))
    assert out.getvalue().splitlines() == [
        "skipping 1 row(s) with errors (--skip-invalid); they are not run:",
        "  sheet ABC row 4 (X1), column K (image_translate): unknown command 'allx'",
        TRANSLATE_ALL_LINE,
    ]


def test_the_resume_command_keeps_the_flags_that_change_what_runs() -> None:
    hint = "stepbatch run step3 --account ABC --server 서버2-1 …"
    assert with_flags(hint, RunOptions()) == hint
    both = RunOptions(skip_invalid=True, translate_all=True)
    expected = "stepbatch run step3 --account ABC --server 서버2-1 --skip-invalid --translate-all …"
    assert with_flags(hint, both) == expected


def test_the_live_display_counts_warnings() -> None:
    from stepbatch.app.progress import ProgressModel

    model = ProgressModel()
    model.apply({"event": "note", "t": 1, "kind": "clamp", "op": "image_delete last:9", "message": "m"})
    model.apply({"event": "note", "t": 2, "kind": "press", "target": "detail", "position": 1})
    assert model.warnings == 1 and "warnings 1" in model.line()
    assert "warnings" not in ProgressModel().line()


def test_the_live_snapshot_separates_relogins_and_keeps_recent_memory() -> None:
    import json

    from stepbatch.app.progress import MEMORY_SAMPLES, ProgressModel

    model = ProgressModel()
    model.apply({"event": "run_started", "t": 0, "units_total": 4, "units_remaining": 3, "batches": 2})
    model.apply({"event": "unit_started", "t": 1, "unit": "A1", "attempt": 1})
    model.apply({"event": "item", "t": 2, "unit": "A1", "item": "p-1", "status": "done"})
    retry = {"event": "retry", "t": 3, "unit": "A1", "message": "m", "attempt": 1}
    model.apply({**retry, "error_class": "SessionExpired", "delay_s": 0})
    model.apply({**retry, "error_class": "PageTimeout", "delay_s": 2.0})
    for i in range(MEMORY_SAMPLES + 5):
        model.apply({"event": "memory", "t": 4 + i, "mb": 100.0 + i, "js_heap_mb": None, "nodes": None})
    model.apply(
        {
            "event": "unit_finished",
            "t": 100,
            "unit": "A1",
            "status": "done",
            "items_done": 1,
            "items_failed": 0,
            "total_found": 2,
            "message": "",
        }
    )
    live = json.loads(json.dumps(model.snapshot()))
    assert (live["relogins"], live["retries"]) == (1, 1)
    assert (live["code"], live["product"], live["products_done"], live["products_found"]) == (
        "A1",
        "p-1",
        1,
        2,
    )
    assert (live["codes_done"], live["codes_total"]) == (2, 4)
    assert len(live["memory"]) == MEMORY_SAMPLES and live["memory"][-1][1] == 100.0 + MEMORY_SAMPLES + 4
    assert live["eta_s"] == 200.0  # 100 s for one code, two left
