"""Inline SVG charts for the run report: browser memory with restart markers, and the batch timeline.

Generated in Python so the report needs no script library and no network to show them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from stepbatch.report.events import BatchSpan, BrowserStart, MemorySample
from stepbatch.text import plural

WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 20, 28, 36
MAX_POINTS = 1500  # above this the line keeps each bucket's min and max, so peaks survive
MAX_DOTS = 300  # hover dots only for short runs
MAX_LABELS = 30  # more restart markers than this keep their tooltip but lose the text label

REASON_COLOURS = {
    "first": "#64748b",
    "batch": "#2563eb",
    "memory": "#ea580c",
    "items": "#7c3aed",
    "crash": "#dc2626",
    "timeout": "#b91c1c",
    "relogin": "#0d9488",
}


def reason_colour(reason: str) -> str:
    return REASON_COLOURS.get(reason, "#475569")


def format_clock(seconds: float) -> str:
    seconds = round(seconds)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def nice_step(span: float, ticks: int = 5) -> float:
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power:
            return mult * power
    return 10 * power


def downsample(samples: list[MemorySample], limit: int = MAX_POINTS) -> list[MemorySample]:
    if len(samples) <= limit:
        return samples
    buckets = limit // 2
    size = len(samples) / buckets
    kept: list[MemorySample] = []
    for b in range(buckets):
        chunk = samples[int(b * size) : int((b + 1) * size)] or samples[-1:]
        low = min(chunk, key=lambda m: m.mb)
        high = max(chunk, key=lambda m: m.mb)
        kept.extend(sorted({id(low): low, id(high): high}.values(), key=lambda m: m.t))
    return kept


@dataclass
class _Axes:
    t_max: float
    y_max: float

    def x(self, t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (t / self.t_max)

    def y(self, mb: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - mb / self.y_max)


def _time_ticks(t_max: float) -> list[float]:
    candidates = (10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200)
    step = next((c for c in candidates if t_max / c <= 8), 86400)
    return [i * step for i in range(int(t_max // step) + 1)]


def memory_chart(
    memory: list[MemorySample],
    restarts: list[BrowserStart],
    duration_s: float,
    threshold_mb: float | None = None,
) -> str:
    """The memory chart as an `<svg>` element (empty-state text when there are no samples)."""
    if not memory:
        return '<p class="empty">No memory samples were recorded in this run.</p>'
    t_max = max([duration_s, memory[-1].t, *(r.t for r in restarts), 1.0])
    top = max([m.mb for m in memory] + [threshold_mb or 0.0])
    y_step = nice_step(top * 1.1)
    axes = _Axes(t_max, y_step * math.ceil(top * 1.1 / y_step))
    parts = [
        f'<svg class="chart memory-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="Browser memory over time" xmlns="http://www.w3.org/2000/svg">',
        _grid(axes, y_step),
    ]
    if threshold_mb:
        y = axes.y(threshold_mb)
        parts.append(
            f'<line class="threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="threshold-label" x="{LEFT + 4}" y="{y - 4:.1f}">'
            f"restart above {threshold_mb:g} MB</text>"
        )
    parts.append(_restart_markers(axes, restarts))
    points = downsample(memory)
    d = " ".join(
        f"{'M' if i == 0 else 'L'}{axes.x(m.t):.1f},{axes.y(m.mb):.1f}" for i, m in enumerate(points)
    )
    parts.append(f'<path class="mem-line" d="{d}"><title>browser memory (PSS, MB)</title></path>')
    if len(memory) <= MAX_DOTS:
        for m in memory:
            parts.append(
                f'<circle class="mem-point" cx="{axes.x(m.t):.1f}" cy="{axes.y(m.mb):.1f}" r="2.5">'
                f"<title>{format_clock(m.t)} — {m.mb:.0f} MB</title></circle>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _grid(axes: _Axes, y_step: float) -> str:
    out = []
    steps = round(axes.y_max / y_step)
    for i in range(steps + 1):
        mb = i * y_step
        y = axes.y(mb)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{mb:g}</text>'
        )
    for t in _time_ticks(axes.t_max):
        x = axes.x(t)
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
            f"{format_clock(t)}</text>"
        )
    out.append(
        f'<text class="axis-title" x="{LEFT - 46}" y="{TOP - 10}">MB</text>'
        f'<text class="axis-title" x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        "time since start</text>"
    )
    return "".join(out)


def _restart_markers(axes: _Axes, restarts: list[BrowserStart]) -> str:
    out = []
    labelled = len(restarts) <= MAX_LABELS
    for i, r in enumerate(restarts):
        x = axes.x(r.t)
        colour = reason_colour(r.reason)
        tip = f"browser restart ({escape(r.reason)}) at {format_clock(r.t)}"
        if r.startup_s is not None:
            tip += f", started in {float(r.startup_s):.1f} s"
        out.append(
            f'<g class="restart-marker" data-reason="{escape(r.reason)}"><title>{tip}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="{colour}"/>'
        )
        if labelled:
            y = TOP + 10 + (i % 3) * 12
            near_right = x > WIDTH - RIGHT - 60
            anchor = f'x="{x - 3:.1f}" text-anchor="end"' if near_right else f'x="{x + 3:.1f}"'
            out.append(f'<text {anchor} y="{y}" fill="{colour}">{escape(r.reason)}</text>')
        out.append("</g>")
    return "".join(out)


def batch_timeline(batches: list[BatchSpan], duration_s: float) -> str:
    """One bar per batch on the same time axis as the memory chart; failed units colour it red."""
    if not batches:
        return '<p class="empty">No batches were started in this run.</p>'
    height = 56
    t_max = max([duration_s, 1.0, *(b.end or b.start for b in batches)])
    axes = _Axes(t_max, 1.0)
    out = [
        f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="Batch timeline" xmlns="http://www.w3.org/2000/svg">'
    ]
    for b in batches:
        x0 = axes.x(b.start)
        x1 = axes.x(b.end if b.end is not None else t_max)
        cls = "batch-bar failed" if (b.failed or 0) > 0 else "batch-bar"
        cls += " open" if b.end is None else ""
        tip = (
            f"batch {b.batch}: {format_clock(b.start)}–{format_clock(b.end) if b.end is not None else '?'}, "
            f"{plural(len(b.units), 'code')}, processed {b.processed if b.processed is not None else '?'}, "
            f"failed {b.failed if b.failed is not None else '?'}"
        )
        out.append(
            f'<g class="{cls}"><title>{escape(tip)}</title>'
            f'<rect x="{x0:.1f}" y="6" width="{max(x1 - x0 - 1, 1.5):.1f}" height="24" rx="3"/>'
        )
        if x1 - x0 > 22:
            out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="22" text-anchor="middle">{b.batch}</text>')
        out.append("</g>")
    for t in _time_ticks(t_max):
        out.append(
            f'<text class="tick" x="{axes.x(t):.1f}" y="{height - 8}" text-anchor="middle">'
            f"{format_clock(t)}</text>"
        )
    out.append("</svg>")
    return "".join(out)
