"""Live progress of a run, fed by the engine's events: a rich panel on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from stepbatch.contracts.events import Event
from stepbatch.text import plural

MEMORY_SAMPLES = 60


@dataclass
class ProgressModel:
    """What the display shows, updated from event records (pure: easy to test)."""

    label: str = ""
    units_total: int = 0
    units_remaining_at_start: int = 0
    units_finished: int = 0
    units_failed: int = 0
    items_done: int = 0
    items_failed: int = 0
    current_unit: str | None = None
    current_total: int | None = None
    batch: int = 0
    batches: int = 0
    browser_mb: float | None = None
    browser_starts: int = 0
    retries: int = 0  # retries after an error (re-logins are counted apart)
    relogins: int = 0
    current_item: str | None = None  # the last product reported in the current code
    items_found: int = 0  # products found in the codes finished in this run
    memory_samples: list[tuple[float, float]] = field(default_factory=list)  # (t, MB), the last 60
    warnings: int = 0  # `clamp` notes: a command beyond a product's images (the product is still done)
    outcome: str | None = None
    started: float = field(default_factory=time.monotonic)
    last_event_t: float = 0.0

    def apply(self, rec: dict[str, Any]) -> None:
        self.last_event_t = float(rec.get("t", self.last_event_t) or 0.0)
        match Event.parse(rec.get("event")):
            case Event.RUN_STARTED:
                self.units_total = int(rec.get("units_total") or 0)
                self.units_remaining_at_start = int(rec.get("units_remaining") or 0)
                self.batches = int(rec.get("batches") or 0)
                where = f"{rec.get('account', '')} {rec.get('step', '')} {rec.get('server') or ''}"
                self.label = where.strip()
            case Event.BATCH_STARTED:
                self.batch = int(rec.get("batch") or 0)
                self.batches = int(rec.get("batches") or self.batches)
            case Event.BROWSER_STARTED:
                self.browser_starts += 1
            case Event.MEMORY:
                self._memory(rec)
            case Event.UNIT_STARTED:
                self.current_unit = rec.get("unit")
                self.current_total = None
                self.current_item = None
            case Event.UNIT_FINISHED:
                self._unit_finished(rec)
            case Event.ITEM:
                self._item(rec)
            case Event.RETRY if rec.get("error_class") == "SessionExpired" and not rec.get("delay_s"):
                self.relogins += 1
            case Event.RETRY:
                self.retries += 1
            case Event.NOTE if rec.get("kind") == "clamp":
                self.warnings += 1
            case Event.RUN_FINISHED:
                self.outcome = rec.get("outcome")

    def _memory(self, rec: dict[str, Any]) -> None:
        self.browser_mb = rec.get("mb")
        if self.browser_mb is not None:
            self.memory_samples = [
                *self.memory_samples[-(MEMORY_SAMPLES - 1) :],
                (self.last_event_t, self.browser_mb),
            ]

    def _item(self, rec: dict[str, Any]) -> None:
        self.current_item = rec.get("item")
        if rec.get("status") == "done":
            self.items_done += 1
        elif rec.get("status") == "failed":
            self.items_failed += 1

    def _unit_finished(self, rec: dict[str, Any]) -> None:
        if rec.get("status") in ("done", "failed"):
            self.units_finished += 1
        if rec.get("status") == "failed":
            self.units_failed += 1
        self.current_total = rec.get("total_found")
        self.items_found += int(rec.get("total_found") or 0)

    @property
    def units_done_total(self) -> int:
        return self.units_total - self.units_remaining_at_start + self.units_finished

    def eta_s(self) -> float | None:
        left = self.units_remaining_at_start - self.units_finished
        if self.units_finished == 0 or left <= 0 or self.last_event_t <= 0:
            return None
        return self.last_event_t / self.units_finished * left

    def snapshot(self) -> dict[str, Any]:
        """The live view as plain JSON values (the web page, the cluster's `live` column)."""
        eta = self.eta_s()
        return {
            "label": self.label,
            "code": self.current_unit,
            "product": self.current_item,
            "codes_done": self.units_done_total,
            "codes_total": self.units_total,
            "codes_failed": self.units_failed,
            "products_done": self.items_done,
            "products_failed": self.items_failed,
            "products_found": self.items_found,
            "batch": self.batch,
            "batches": self.batches,
            "browser_mb": self.browser_mb,
            "memory": [[round(t, 1), round(mb, 1)] for t, mb in self.memory_samples],
            "browser_starts": self.browser_starts,
            "retries": self.retries,
            "relogins": self.relogins,
            "warnings": self.warnings,
            "eta_s": None if eta is None else round(eta, 1),
            "elapsed_s": round(self.last_event_t, 1),
            "outcome": self.outcome,
        }

    def line(self) -> str:
        mb = f"{self.browser_mb:.0f} MB" if self.browser_mb is not None else "- MB"
        eta = self.eta_s()
        parts = [
            self.label,
            f"codes {self.units_done_total}/{self.units_total}",
            f"products {self.items_done}" + (f" ({self.items_failed} failed)" if self.items_failed else ""),
            f"warnings {self.warnings}" if self.warnings else "",
            f"batch {self.batch}/{self.batches}",
            f"browser {mb}",
            f"now {self.current_unit or '-'}",
            f"ETA {_fmt_duration(eta)}" if eta is not None else "ETA -",
        ]
        return " | ".join(p for p in parts if p)


def _fmt_duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else f"{seconds // 60}m{seconds % 60:02d}s"
    )


class ProgressDisplay:
    """An engine event listener. Use as a context manager around the run."""

    PLAIN_EVENTS = frozenset(
        {
            Event.RUN_STARTED,
            Event.BATCH_STARTED,
            Event.UNIT_FINISHED,
            Event.RETRY,
            Event.ERROR,
            Event.STOP,
            Event.RUN_FINISHED,
        }
    )

    def __init__(self, stream: TextIO | None = None, *, live: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.model = ProgressModel()
        self.live_mode = self.stream.isatty() if live is None else live
        self._live: Live | None = None
        self._lock = threading.Lock()

    def __call__(self, rec: dict[str, Any]) -> None:
        with self._lock:
            self.model.apply(rec)
            if self._live is not None:
                self._live.update(self._render())
            elif Event.parse(rec.get("event")) in self.PLAIN_EVENTS:
                self.stream.write(self._plain(rec) + "\n")
                self.stream.flush()

    def _plain(self, rec: dict[str, Any]) -> str:
        at = f"[{rec.get('t', 0):8.1f}s]"
        match event := Event.parse(rec.get("event")):
            case Event.UNIT_FINISHED:
                done = plural(rec.get("items_done", 0), "product")
                return f"{at} {rec.get('unit')}: {rec.get('status')} ({done}) | {self.model.line()}"
            case Event.RETRY | Event.ERROR:
                what = f"{rec.get('error_class')} {rec.get('message')}"
                return f"{at} {event} {rec.get('unit')}: {what}"
            case Event.STOP:
                return f"{at} stop: {rec.get('reason')}"
            case Event.RUN_FINISHED:
                return f"{at} run finished: {rec.get('outcome')}"
            case _:
                return f"{at} {rec.get('event')} | {self.model.line()}"

    def _render(self) -> Table:
        m = self.model
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        eta = m.eta_s()
        table.add_row("run", m.label)
        table.add_row(
            "codes",
            f"{m.units_done_total}/{m.units_total}"
            + (f"  ({m.units_failed} failed)" if m.units_failed else ""),
        )
        table.add_row(
            "products", f"{m.items_done}" + (f"  ({m.items_failed} failed)" if m.items_failed else "")
        )
        if m.warnings:
            table.add_row("warnings", f"{m.warnings}  (clamped counts; see the report)")
        table.add_row("current", m.current_unit or "-")
        table.add_row("batch", f"{m.batch}/{m.batches}  (browser starts {m.browser_starts})")
        table.add_row("browser", f"{m.browser_mb:.0f} MB" if m.browser_mb is not None else "-")
        table.add_row("ETA", _fmt_duration(eta) if eta is not None else "-")
        return table

    def __enter__(self) -> ProgressDisplay:
        if self.live_mode:
            self._live = Live(
                self._render(), console=Console(file=self.stream), refresh_per_second=4, transient=False
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None
