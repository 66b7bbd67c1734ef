"""The per-run report: `report.html` (self-contained) and `summary.md`, both in the run folder."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from markupsafe import Markup

from stepbatch.errors import UserError
from stepbatch.report.chart import batch_timeline, format_clock, memory_chart, reason_colour
from stepbatch.report.events import RunData, load_run

REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.md"
STATUS_ORDER = ("failed", "partial", "in_progress", "pending", "done")
WARNINGS_SHOWN = 20  # warning messages listed per code (the count is exact)


@dataclass
class Totals:
    codes: int
    by_status: dict[str, int]
    items_done: int
    items_failed: int
    restarts_by_reason: dict[str, int]
    retries: int
    peak_mb: float | None


def totals(run: RunData) -> Totals:
    by_reason: dict[str, int] = {}
    for r in run.restarts:
        by_reason[r.reason] = by_reason.get(r.reason, 0) + 1
    items_done = run.items_done or sum(u.items_done for u in run.units.values())
    items_failed = run.items_failed or sum(u.items_failed for u in run.units.values())
    return Totals(
        codes=len(run.units),
        by_status=dict(sorted(run.status_counts().items(), key=lambda kv: _status_rank(kv[0]))),
        items_done=items_done,
        items_failed=items_failed,
        restarts_by_reason=by_reason,
        retries=sum(g.retries for g in run.errors),
        peak_mb=run.peak_mb,
    )


def translation_line(run: RunData) -> str | None:
    """`12 presses made · 5 saved by OCR (median 140 ms) · credits left 88 · gate: …` (step3 only)."""
    counts = run.notes.run
    if run.step != "step3" or not (run.translation_gate or counts.presses_made or counts.ocr_ms):
        return None
    parts = [f"{counts.presses_made} presses made", f"{counts.presses_saved} saved by OCR"]
    if counts.ocr_median_ms is not None:
        parts[-1] += f" (median {counts.ocr_median_ms} ms over {len(counts.ocr_ms)} images)"
    credits = counts.credits_left if counts.credits_left is not None else "unknown"
    parts.append(f"credits left {credits}")
    if run.translation_gate and run.translation_gate.get("description"):
        parts.append(f"gate: {run.translation_gate['description']}")
    return " · ".join(parts)


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("stepbatch.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clock"] = format_clock
    env.filters["when"] = _when
    env.filters["reason_colour"] = reason_colour
    env.filters["md"] = _md_cell
    env.filters["urlpath"] = lambda path: quote(str(path), safe="/:")
    return env


def _when(value: datetime | None) -> str:
    if value is None:
        return "?"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _md_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell (one line, no pipes)."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _context(run: RunData, link_base: str) -> dict[str, Any]:
    threshold = run.options.get("restart_above_mb")
    return {
        "run": run,
        "totals": totals(run),
        "units": list(run.units.values()),
        "translation": translation_line(run),
        "warnings_shown": WARNINGS_SHOWN,
        "link_base": link_base,
        "memory_svg": Markup(
            memory_chart(
                run.memory,
                run.restarts,
                run.duration_s,
                float(threshold) if isinstance(threshold, int | float) else None,
            )
        ),
        "timeline_svg": Markup(batch_timeline(run.batches, run.duration_s)),
        "generated": datetime.now().astimezone(),
    }


def render_html(run: RunData, link_base: str = ".") -> str:
    return _environment().get_template("report.html.j2").render(_context(run, link_base))


def render_summary_md(run: RunData, link_base: str = ".") -> str:
    return _environment().get_template("summary.md.j2").render(_context(run, link_base))


def write_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write `report.html` (or `out`) and `summary.md` for a run folder; returns the HTML path."""
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    html_path = Path(out) if out is not None else run_dir / REPORT_NAME
    if html_path.is_dir():
        html_path = html_path / f"{run.run_id}.html"
    link_base = _relative(run_dir, html_path.parent)
    _write_text(html_path, render_html(run, link_base))
    _write_text(run_dir / SUMMARY_NAME, render_summary_md(run, "."))
    return html_path


def _relative(target: Path, start: Path) -> str:
    try:
        return Path(os.path.relpath(target.resolve(), start.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return target.resolve().as_uri()


def _write_text(path: Path, text: str) -> None:
    """Atomic replace, so a viewer never sees half a report."""
    if not path.parent.is_dir():
        raise UserError(f"{path.parent}: output folder does not exist")
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="\n")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UserError(f"{path}: cannot write the report ({exc.strerror})") from None


def write_report_quietly(run_dir: Path, log: logging.Logger | None = None) -> Path | None:
    """For the end of a run: write the report, but only log (never raise) when that fails."""
    try:
        return write_report(run_dir)
    except Exception as exc:  # the run's own outcome matters more than its report
        (log or logging.getLogger("stepbatch.report")).warning("report for %s not written: %s", run_dir, exc)
        return None
