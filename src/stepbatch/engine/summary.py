"""What a run did (`RunSummary`, `summary.json`), its running counts, and the totals of its cycle."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stepbatch.contracts.status import ItemStatus
from stepbatch.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_PROBLEMS
from stepbatch.state.store import ProgressStore


@dataclass
class RunSummary:
    """What one run did (`summary.json`), plus the totals across the runs of this cycle."""

    run_id: str
    run_dir: Path
    account: str
    step: str
    server: str | None
    outcome: str  # complete | stopped | failed | interrupted
    stop_reason: str | None = None
    message: str = ""
    resume_hint: str | None = None
    already_complete: bool = False
    units_total: int = 0
    units_planned: int = 0
    units_done: int = 0
    units_partial: int = 0
    units_failed: int = 0
    items_done: int = 0
    items_failed: int = 0
    batches_planned: int = 0
    batches_run: int = 0
    restarts: dict[str, int] = field(default_factory=dict)  # by reason (batch, memory, items, crash…)
    retries: dict[str, int] = field(default_factory=dict)  # by error class
    relogins: int = 0
    peak_memory_mb: float | None = None
    duration_s: float = 0.0
    removed_units: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cumulative: dict[str, Any] = field(default_factory=dict)
    skipped_rows: list[dict[str, Any]] = field(default_factory=list)  # rows left out (--skip-invalid)
    translation_gate: dict[str, Any] | None = None  # step3: translate_all, available, description
    notes: dict[str, Any] = field(default_factory=dict)  # item notes: warnings, presses, OCR (notes.py)

    @property
    def exit_code(self) -> int:
        if self.outcome == "interrupted":
            return EXIT_INTERRUPTED
        if self.outcome == "failed" or (self.stop_reason or "").startswith("StopAccount"):
            return EXIT_PROBLEMS
        if self.items_failed:  # products that could not take their edits: a scheduler must notice them
            return EXIT_PROBLEMS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = str(self.run_dir)
        data["exit_code"] = self.exit_code
        return data


@dataclass
class RunStats:
    """The counts of the run in progress (its line in the store's `runs` and the summary's numbers)."""

    items_done: int = 0
    items_failed: int = 0
    restarts: Counter[str] = field(default_factory=Counter)  # browser starts after the first, by reason
    retries: Counter[str] = field(default_factory=Counter)  # by error class
    relogins: int = 0
    unit_outcomes: Counter[str] = field(default_factory=Counter)  # units finished, by status
    errors: list[str] = field(default_factory=list)  # "<code>: <message>" of units that failed
    batches_run: int = 0

    @property
    def run_items(self) -> int:
        return self.items_done + self.items_failed

    def item_finished(self, status: ItemStatus) -> None:
        if status == ItemStatus.DONE:
            self.items_done += 1
        else:
            self.items_failed += 1

    def relogin(self) -> None:
        self.relogins += 1
        self.retries["SessionExpired"] += 1

    def summary_fields(self) -> dict[str, Any]:
        """The counts as `RunSummary` takes them."""
        return {
            "units_done": self.unit_outcomes["done"],
            "units_partial": self.unit_outcomes["partial"],
            "units_failed": self.unit_outcomes["failed"],
            "items_done": self.items_done,
            "items_failed": self.items_failed,
            "batches_run": self.batches_run,
            "restarts": dict(self.restarts),
            "retries": dict(self.retries),
            "relogins": self.relogins,
            "errors": self.errors,
        }

    def run_fields(self, *, peak_memory_mb: float | None) -> dict[str, Any]:
        """The counts as `ProgressStore.update_run` takes them."""
        return {
            "items_done": self.items_done,
            "items_failed": self.items_failed,
            "restarts": dict(self.restarts),
            "retries": dict(self.retries),
            "relogins": self.relogins,
            "peak_memory_mb": peak_memory_mb,
        }


def cumulative_totals(store: ProgressStore) -> dict[str, Any]:
    """Totals of the current cycle across every run that worked on it (resumed runs add up)."""
    runs = [r for r in store.run_records() if r.cycle == store.cycle]
    restarts: Counter[str] = Counter()
    retries: Counter[str] = Counter()
    for run in runs:
        restarts.update(run.restarts)
        retries.update(run.retries)
    counts = store.counts()
    peaks = [r.peak_memory_mb for r in runs if r.peak_memory_mb is not None]
    return {
        "cycle": store.cycle,
        "runs": len(runs),
        "units_total": counts["units_total"],
        "units_done": counts["done"],
        "units_partial": counts["partial"] + counts["in_progress"],
        "units_failed": counts["failed"],
        "units_pending": counts["pending"],
        "items_done": counts["items_done"],
        "items_failed": counts["items_failed"],
        "restarts": dict(restarts),
        "retries": dict(retries),
        "relogins": sum(r.relogins for r in runs),
        "peak_memory_mb": max(peaks) if peaks else None,
        "duration_s": round(sum(r.duration_s for r in runs), 3),
    }


__all__ = ["RunStats", "RunSummary", "cumulative_totals"]
