"""The events a run emits (`events.jsonl`, the live display, the report, the notifier).

Each line of `events.jsonl` is `{"ts": …, "t": …, "event": <Event value>, **payload}`; the payload of
each event is the TypedDict named in `PAYLOADS`. Consumers dispatch on `Event(rec["event"])`; a name they
do not know (a newer stepbatch wrote the file) is skipped, never an error.
"""

# No `from __future__ import annotations` here: on Python 3.11 a TypedDict's string annotations hide
# `NotRequired`, and `__required_keys__`/`__optional_keys__` (which consumers and tests read) come out wrong.
from enum import StrEnum
from typing import Any, NotRequired, TypedDict


class Event(StrEnum):
    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    BATCH_STARTED = "batch_started"
    BATCH_FINISHED = "batch_finished"
    BROWSER_STARTED = "browser_started"
    BROWSER_CLOSED = "browser_closed"
    BROWSER_FAILED = "browser_failed"  # the browser did not come back (the notifier reacts to it)
    MEMORY = "memory"
    UNIT_STARTED = "unit_started"
    UNIT_FINISHED = "unit_finished"
    ITEM = "item"
    NOTE = "note"
    RETRY = "retry"
    ERROR = "error"
    WARNING = "warning"
    STOP = "stop"
    NEW_CYCLE = "new_cycle"
    UNITS_REMOVED = "units_removed"

    @classmethod
    def parse(cls, name: object) -> "Event | None":
        """The event named `name`, or None for a name this version does not know."""
        try:
            return cls(name)  # type: ignore[arg-type]
        except ValueError:
            return None


class RunStarted(TypedDict):
    run_id: str
    account: str
    step: str
    server: str | None
    units_total: int
    units_remaining: int
    batches: int
    options: dict[str, Any]
    skipped_rows: NotRequired[list[dict[str, Any]]]
    translation_gate: NotRequired[dict[str, Any] | None]


class RunFinished(TypedDict):
    outcome: str
    summary: dict[str, Any]  # RunSummary.to_dict()


class BatchStarted(TypedDict):
    batch: int
    batches: int
    units: list[str]


class BatchFinished(TypedDict):
    batch: int
    processed: int
    failed: int
    partial: int
    errors: list[dict[str, Any]]
    should_stop: bool


class BrowserStarted(TypedDict):
    reason: str
    startup_s: float
    pids: list[int]


class BrowserClosed(TypedDict):
    reason: str
    close_s: float


class BrowserFailed(TypedDict):
    reason: str
    message: NotRequired[str]


class Memory(TypedDict):
    mb: float
    js_heap_mb: float | None
    nodes: int | None


class UnitStarted(TypedDict):
    unit: str
    attempt: int


class UnitFinished(TypedDict):
    unit: str
    status: str
    items_done: int
    items_failed: int
    total_found: int | None
    message: str


class Item(TypedDict):
    unit: str
    item: str
    status: str  # an ItemStatus value


class Note(TypedDict):
    """A warning or decision about an item: kind "clamp" (op, message), "ocr" (target, position,
    chinese, ms, engine, reused), "press" (target, position). Extra keys depend on the kind."""

    unit: str
    item: str
    kind: str


class Retry(TypedDict):
    unit: str
    error_class: str
    message: str
    attempt: int
    delay_s: float
    by: NotRequired[str]  # "processor" when the processor logged in again by itself


class Error(TypedDict):
    unit: str
    item: str | None
    error_class: str
    message: str
    where: str | None
    screenshot: str | None
    html: str | None


class RunWarning(TypedDict):
    message: str


class Stop(TypedDict):
    reason: str | None
    resume: str


class NewCycle(TypedDict):
    cycle: int


class UnitsRemoved(TypedDict):
    units: list[str]


PAYLOADS: dict[Event, type] = {
    Event.RUN_STARTED: RunStarted,
    Event.RUN_FINISHED: RunFinished,
    Event.BATCH_STARTED: BatchStarted,
    Event.BATCH_FINISHED: BatchFinished,
    Event.BROWSER_STARTED: BrowserStarted,
    Event.BROWSER_CLOSED: BrowserClosed,
    Event.BROWSER_FAILED: BrowserFailed,
    Event.MEMORY: Memory,
    Event.UNIT_STARTED: UnitStarted,
    Event.UNIT_FINISHED: UnitFinished,
    Event.ITEM: Item,
    Event.NOTE: Note,
    Event.RETRY: Retry,
    Event.ERROR: Error,
    Event.WARNING: RunWarning,
    Event.STOP: Stop,
    Event.NEW_CYCLE: NewCycle,
    Event.UNITS_REMOVED: UnitsRemoved,
}
