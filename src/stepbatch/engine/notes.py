"""Counting the `note` events of a run (see `UnitContext.item_note`): warnings, translate presses, OCR.

Kinds: `clamp` (`op`, `message`: a count beyond what the product has, clamped or skipped; the product is
still done), `ocr` (`target`, `position`, `chinese`, `ms`, `engine`, `reused`) and `press` (`target`,
`position`, optional `credits_left`). The engine folds them into `summary.json` (`notes`); the report
folds the same events from events.jsonl. Pure and tolerant of odd values: a bad field is ignored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

UNKNOWN = "unknown"
MAX_MESSAGES = 50  # warning messages kept per unit in summary.json (the count is always exact)


@dataclass
class NoteCounts:
    """The notes of one unit, or of a whole run."""

    warnings: list[str] = field(default_factory=list)  # "<product id>: <op>: <message>"
    presses_made: int = 0
    saved: set[tuple[str, str, str, int]] = field(default_factory=set)  # (unit, item, target, position)
    ocr_ms: list[int] = field(default_factory=list)  # OCR time of each image actually read
    credits_left: int | None = None  # the last value the site told

    @property
    def presses_saved(self) -> int:
        """Images OCR found without Chinese text, so no translate press (and no credit) was spent."""
        return len(self.saved)

    @property
    def ocr_median_ms(self) -> int | None:
        return round(statistics.median(self.ocr_ms)) if self.ocr_ms else None

    def add(self, rec: dict[str, Any]) -> None:
        kind = rec.get("kind")
        if kind == "clamp":
            what = f"{rec.get('item') or '?'}: {rec.get('op') or '?'}"
            self.warnings.append(f"{what}: {rec.get('message') or ''}")
        elif kind == "press":
            self.presses_made += 1
            credits = _int(rec.get("credits_left"))
            if credits is not None:
                self.credits_left = credits
        elif kind == "ocr":
            self._add_ocr(rec)

    def _add_ocr(self, rec: dict[str, Any]) -> None:
        if rec.get("reused") is True:  # a decision recorded before a crash: counted when it was made
            return
        ms = _int(rec.get("ms"))
        if ms is not None:
            self.ocr_ms.append(ms)
        position = _int(rec.get("position"))
        if rec.get("chinese") is False and position is not None:
            key = (str(rec.get("unit")), str(rec.get("item")), str(rec.get("target")), position)
            self.saved.add(key)

    def to_dict(self, *, messages: int = MAX_MESSAGES) -> dict[str, Any]:
        return {
            "warnings": len(self.warnings),
            "warning_messages": self.warnings[:messages],
            "presses_made": self.presses_made,
            "presses_saved": self.presses_saved,
            "ocr_images": len(self.ocr_ms),
            "ocr_median_ms": self.ocr_median_ms,
            "credits_left": self.credits_left if self.credits_left is not None else UNKNOWN,
        }


class NoteTally:
    """An event listener: per-unit and run-wide `NoteCounts` of the `note` events."""

    def __init__(self) -> None:
        self.run = NoteCounts()
        self.units: dict[str, NoteCounts] = {}

    def __call__(self, rec: dict[str, Any]) -> None:
        if rec.get("event") != "note":
            return
        self.run.add(rec)
        self.unit(rec.get("unit")).add(rec)

    def unit(self, key: Any) -> NoteCounts:
        return self.units.setdefault(str(key), NoteCounts())

    def to_dict(self) -> dict[str, Any]:
        """For summary.json: the run's counts (its warning messages are in `units`) and each unit's."""
        run = {k: v for k, v in self.run.to_dict().items() if k != "warning_messages"}
        return {**run, "units": {key: counts.to_dict() for key, counts in self.units.items()}}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)
