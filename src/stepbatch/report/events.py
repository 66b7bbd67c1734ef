"""Reading a run directory's `events.jsonl` into the facts a report shows.

The reader is tolerant: a run that crashed may end with a half-written line, and a run that was killed has
no `run_finished`; both still produce a report (outcome `unfinished`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from stepbatch.contracts.events import Event
from stepbatch.engine.notes import NoteCounts, NoteTally
from stepbatch.errors import UserError

EVENTS_NAME = "events.jsonl"


@dataclass
class MemorySample:
    t: float
    mb: float
    js_heap_mb: float | None = None
    nodes: int | None = None


@dataclass
class BrowserStart:
    t: float
    reason: str
    startup_s: float | None = None


@dataclass
class BatchSpan:
    batch: int
    start: float
    end: float | None = None
    units: list[str] = field(default_factory=list)
    processed: int | None = None
    failed: int | None = None


@dataclass
class UnitRow:
    """One provider code: its last known status and what went wrong."""

    unit: str
    status: str = "pending"
    items_done: int = 0
    items_failed: int = 0
    total_found: int | None = None
    attempts: int = 0
    message: str = ""
    last_error: str = ""
    screenshots: list[str] = field(default_factory=list)


@dataclass
class ErrorGroup:
    error_class: str
    message: str  # the first message of the group (the group key is its normalised form)
    count: int = 0
    retries: int = 0
    units: list[str] = field(default_factory=list)
    first_t: float = 0.0
    last_t: float = 0.0
    screenshot: str | None = None
    where: str | None = None  # file:line function of the code that raised it (the first error that says)


@dataclass
class RunData:
    run_dir: Path | None  # None while a notifier folds live events
    run_id: str
    account: str = ""
    step: str = ""
    server: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    units_total: int | None = None
    units_remaining: int | None = None
    batches_planned: int | None = None
    started: datetime | None = None
    ended: datetime | None = None
    duration_s: float = 0.0
    outcome: str = "unfinished"
    stop_reasons: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    memory: list[MemorySample] = field(default_factory=list)
    browser_starts: list[BrowserStart] = field(default_factory=list)
    batches: list[BatchSpan] = field(default_factory=list)
    units: dict[str, UnitRow] = field(default_factory=dict)
    errors: list[ErrorGroup] = field(default_factory=list)
    items_done: int = 0
    items_failed: int = 0
    bad_lines: int = 0
    skipped_rows: list[dict[str, Any]] = field(default_factory=list)  # workbook rows left out
    translation_gate: dict[str, Any] | None = None  # step3's OCR gate, as the run started
    notes: NoteTally = field(default_factory=NoteTally)  # warnings, translate presses, OCR

    def unit_notes(self, key: str) -> NoteCounts:
        return self.notes.units.get(key) or NoteCounts()

    @property
    def restarts(self) -> list[BrowserStart]:
        """Every browser start after the first one of the run."""
        return self.browser_starts[1:]

    @property
    def peak_mb(self) -> float | None:
        return max((m.mb for m in self.memory), default=None)

    @property
    def not_reached(self) -> int:
        """Codes planned for this run that no batch started (the run stopped before them)."""
        if not isinstance(self.units_remaining, int):
            return 0
        return max(0, self.units_remaining - len(self.units))

    def status_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.units.values():
            counts[row.status] = counts.get(row.status, 0) + 1
        return counts


_VOLATILE = re.compile(r"\b[0-9a-f]{24}\b|\b\d+(\.\d+)?\b")


def normalise_message(message: str) -> str:
    """Group key of an error message: product ids and numbers replaced, so one cause is one group."""
    return _VOLATILE.sub("#", message.strip())[:300]


def read_events(path: Path) -> tuple[list[dict[str, Any]], int]:
    """All parseable event objects of an events.jsonl, and how many lines could not be read."""
    events: list[dict[str, Any]] = []
    bad = 0
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                events.append(event)
            else:
                bad += 1
    return events, bad


def load_run(run_dir: Path) -> RunData:
    """Parse `<run_dir>/events.jsonl` (UserError when the folder or the file is missing)."""
    run_dir = Path(run_dir)
    path = run_dir / EVENTS_NAME
    if not path.is_file():
        raise UserError(f"{path}: no events file; is {run_dir} a stepbatch run folder?")
    events, bad = read_events(path)
    run = RunData(run_dir=run_dir, run_id=run_dir.name, bad_lines=bad)
    builder = RunAccumulator(run)
    for event in events:
        builder.add(event)
    builder.finish(events)
    return run


def _time(event: dict[str, Any]) -> float:
    try:
        return float(event.get("t") or 0.0)
    except (TypeError, ValueError):
        return 0.0


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class RunAccumulator:
    """Folds events into a RunData one at a time (the notifier keeps one while the run goes on)."""

    def __init__(self, run: RunData) -> None:
        self.run = run
        self.open_batch: BatchSpan | None = None
        self.groups: dict[tuple[str, str], ErrorGroup] = {}
        self._handlers: dict[Event, Callable[[dict[str, Any], float], None]] = {
            Event.RUN_STARTED: self.on_run_started,
            Event.NOTE: self.on_note,
            Event.MEMORY: self.on_memory,
            Event.BROWSER_STARTED: self.on_browser_started,
            Event.BATCH_STARTED: self.on_batch_started,
            Event.BATCH_FINISHED: self.on_batch_finished,
            Event.UNIT_STARTED: self.on_unit_started,
            Event.UNIT_FINISHED: self.on_unit_finished,
            Event.ITEM: self.on_item,
            Event.RETRY: self.on_retry,
            Event.ERROR: self.on_error,
            Event.STOP: self.on_stop,
            Event.RUN_FINISHED: self.on_run_finished,
        }

    def unit(self, key: Any) -> UnitRow:
        key = str(key)
        if key not in self.run.units:
            self.run.units[key] = UnitRow(unit=key)
        return self.run.units[key]

    def add(self, event: dict[str, Any]) -> None:
        self.run.duration_s = max(self.run.duration_s, _time(event))
        kind = Event.parse(event.get("event"))
        handler = self._handlers.get(kind) if kind is not None else None
        if handler is not None:
            handler(event, _time(event))

    def on_run_started(self, e: dict[str, Any], t: float) -> None:
        run = self.run
        run.run_id = str(e.get("run_id") or run.run_id)
        run.account = str(e.get("account") or "")
        run.step = str(e.get("step") or "")
        run.server = e.get("server") or None
        run.options = e.get("options") if isinstance(e.get("options"), dict) else {}
        run.units_total = e.get("units_total")
        run.units_remaining = e.get("units_remaining")
        run.batches_planned = e.get("batches")
        rows = e.get("skipped_rows")
        run.skipped_rows = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        gate = e.get("translation_gate")
        run.translation_gate = gate if isinstance(gate, dict) else None

    def on_note(self, e: dict[str, Any], t: float) -> None:
        self.run.notes(e)

    def on_memory(self, e: dict[str, Any], t: float) -> None:
        if isinstance(e.get("mb"), int | float):
            nodes = e.get("nodes")
            self.run.memory.append(
                MemorySample(
                    t, float(e["mb"]), e.get("js_heap_mb"), nodes if isinstance(nodes, int) else None
                )
            )

    def on_browser_started(self, e: dict[str, Any], t: float) -> None:
        self.run.browser_starts.append(BrowserStart(t, str(e.get("reason") or "?"), e.get("startup_s")))

    def on_batch_started(self, e: dict[str, Any], t: float) -> None:
        units = [str(u) for u in e.get("units") or []]
        self.open_batch = BatchSpan(_int(e.get("batch")), t, units=units)
        self.run.batches.append(self.open_batch)
        for key in units:
            self.unit(key)

    def on_batch_finished(self, e: dict[str, Any], t: float) -> None:
        number = _int(e.get("batch"))
        span = self.open_batch
        if span is None or span.batch != number:  # a finish without its start: show a point
            span = BatchSpan(number, t)
            self.run.batches.append(span)
        span.end, span.processed, span.failed = t, e.get("processed"), e.get("failed")
        self.open_batch = None

    def on_unit_started(self, e: dict[str, Any], t: float) -> None:
        row = self.unit(e.get("unit"))
        row.status = "in_progress"
        row.attempts = max(row.attempts, _int(e.get("attempt"), row.attempts + 1))

    def on_unit_finished(self, e: dict[str, Any], t: float) -> None:
        row = self.unit(e.get("unit"))
        row.status = str(e.get("status") or row.status)
        row.items_done = _int(e.get("items_done"), row.items_done)
        row.items_failed = _int(e.get("items_failed"), row.items_failed)
        if e.get("total_found") is not None:
            row.total_found = _int(e.get("total_found"))
        row.message = str(e.get("message") or "")

    def on_item(self, e: dict[str, Any], t: float) -> None:
        if e.get("status") == "done":
            self.run.items_done += 1
        elif e.get("status") == "failed":
            self.run.items_failed += 1

    def on_retry(self, e: dict[str, Any], t: float) -> None:
        group = self.group(e, t)
        group.retries += 1
        if e.get("unit") is not None:
            row = self.unit(e.get("unit"))
            row.last_error = f"{e.get('error_class', '')}: {e.get('message', '')}"
            if row.unit not in group.units:
                group.units.append(row.unit)

    def on_error(self, e: dict[str, Any], t: float) -> None:
        group = self.group(e, t)
        group.count += 1
        screenshot = e.get("screenshot")
        if screenshot and group.screenshot is None:
            group.screenshot = str(screenshot)
        if e.get("where") and group.where is None:
            group.where = str(e["where"])
        if e.get("unit") is not None:
            row = self.unit(e.get("unit"))
            row.last_error = f"{e.get('error_class', '')}: {e.get('message', '')}"
            if screenshot and str(screenshot) not in row.screenshots:  # a retry may reuse the file name
                row.screenshots.append(str(screenshot))
            if row.unit not in group.units:
                group.units.append(row.unit)

    def on_stop(self, e: dict[str, Any], t: float) -> None:
        self.run.stop_reasons.append(str(e.get("reason") or ""))

    def on_run_finished(self, e: dict[str, Any], t: float) -> None:
        self.run.outcome = str(e.get("outcome") or "unknown")
        if isinstance(e.get("summary"), dict):
            self.run.summary = e["summary"]

    def group(self, e: dict[str, Any], t: float) -> ErrorGroup:
        cls = str(e.get("error_class") or "Error")
        message = str(e.get("message") or "")
        key = (cls, normalise_message(message))
        if key not in self.groups:
            self.groups[key] = ErrorGroup(cls, message, first_t=t)
            self.run.errors.append(self.groups[key])
        self.groups[key].last_t = t
        return self.groups[key]

    def finish(self, events: list[dict[str, Any]]) -> None:
        run = self.run
        if events:
            run.started = _parse_ts(events[0].get("ts"))
            run.ended = _parse_ts(events[-1].get("ts"))
            run.duration_s = max(_time(e) for e in events)
        if self.open_batch is not None:
            self.open_batch.end = run.duration_s
        run.errors.sort(key=lambda g: (-(g.count + g.retries), g.first_t))
