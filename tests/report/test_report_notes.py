"""Item notes (warnings, translate presses, OCR), skipped rows and the translation gate in the report."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from report_eventgen import generate_run
from test_report_html import _parse

from stepbatch.report.events import load_run
from stepbatch.report.html import write_report

SKIPPED = [
    {
        "sheet": "ABC",
        "row": 7,
        "step": "step3",
        "server": "서버2-1",
        "provider_code": "Q77",
        "column": "L",
        "header": "image_tag_insert",
        "value": "yess",
        "message": "unknown command 'yess'; image_tag_insert accepts YES, NO",
        "errors": 1,
    },
    {
        "sheet": "ABC",
        "row": 9,
        "step": "step3",
        "server": "서버2-1",
        "provider_code": "Q79",
        "column": "H",
        "header": "image_delete",
        "value": "frist:1",
        "message": "unknown command 'frist:1' (did you mean first:1?)",
        "errors": 2,
    },
]
GATE = {"translate_all": False, "available": True, "description": "translation gate on: OCR by rapidocr"}


def _run(runs_root: Path, **kwargs):
    return generate_run(runs_root, codes=8, batch_size=4, notes=True, **kwargs)


def test_notes_are_counted_like_the_engine_counts_them(runs_root: Path) -> None:
    run_dir, exp = _run(runs_root)
    run = load_run(run_dir)
    counts = run.notes.run
    assert counts.presses_made == exp.presses_made > 0
    assert counts.presses_saved == exp.presses_saved == 2 * exp.presses_made  # reused repeats not counted
    assert counts.ocr_median_ms == round(statistics.median(exp.ocr_ms))
    assert counts.credits_left == exp.credits_left
    assert {k: len(v.warnings) for k, v in run.notes.units.items() if v.warnings} == exp.warnings


def test_report_has_a_warnings_column_and_a_translation_line(runs_root: Path) -> None:
    run_dir, exp = _run(runs_root, translation_gate=GATE)
    html = write_report(run_dir).read_text(encoding="utf-8")
    page = _parse(html)
    header = re.search(r"<table id=\"codes\">.*?</thead>", html, re.S).group(0)
    assert "<th>warnings</th>" in header
    codes = {row[0]: row for row in page.rows["codes"]}
    for key, row in codes.items():
        n = exp.warnings.get(key, 0)
        assert row[6].split()[0] == str(n), (key, row[6])
        if n:
            assert "image_delete last:9: only 6 image(s): deleted 6" in row[6]  # the details list
    assert re.search(r'id="warning-count">(\d+)<', html).group(1) == str(sum(exp.warnings.values()))
    line = re.search(r'<p id="translation">(.*?)</p>', html).group(1)
    assert f"{exp.presses_made} presses made" in line and f"{exp.presses_saved} saved by OCR" in line
    assert f"credits left {exp.credits_left}" in line and "gate: translation gate on: OCR by rapidocr" in line
    assert f"median {round(statistics.median(exp.ocr_ms))} ms" in line
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert f"- translation: {exp.presses_made} presses made" in md
    assert f"- warnings: {sum(exp.warnings.values())} " in md and "## Warnings (" in md


def test_skipped_rows_table_in_report_and_summary_md(runs_root: Path) -> None:
    run_dir, _ = _run(runs_root, skipped_rows=SKIPPED)
    html = write_report(run_dir).read_text(encoding="utf-8")
    rows = _parse(html).rows["skipped-rows"]
    assert [r[:5] for r in rows] == [
        ["ABC", "7", "Q77", "서버2-1", "L (image_tag_insert)"],
        ["ABC", "9", "Q79", "서버2-1", "H (image_delete)"],
    ]
    assert rows[0][5] == "yess" and rows[0][6].startswith("unknown command 'yess'")
    assert rows[1][6].endswith("(+1 more error(s) in this row)")
    assert 'id="skipped-count">2<' in html
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert "## Skipped rows (2)" in md
    assert "| ABC | 7 | Q77 | 서버2-1 | L (image_tag_insert) | unknown command 'yess'; image_tag_insert" in md


def test_a_run_without_notes_or_skips_shows_neither(runs_root: Path) -> None:
    run_dir, _ = generate_run(runs_root, codes=4, batch_size=4, step="step2", server="서버1")
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert "Skipped rows" not in html and 'id="translation"' not in html and "warning-count" not in html
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert "translation:" not in md and "Skipped rows" not in md and "warnings:" not in md
