"""Contracts between the engine and the step processors / browser factories.

The engine owns progress and batching; a processor owns what happens on the site for one unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from stepbatch.browser.protocol import BrowserSession
from stepbatch.contracts.records import ItemRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.workbook.models import Account, Unit


@dataclass
class UnitResult:
    """How a `process()` call ended. Item counts come from the ctx calls, not from here: `items_done` and
    `items_failed` are still accepted (older processors pass them) and ignored."""

    status: UnitStatus  # DONE, PARTIAL (stopped early) or FAILED
    items_done: InitVar[int] = 0
    items_failed: InitVar[int] = 0
    total_found: int | None = None  # what the site said (총 N개 상품) when the unit started
    message: str = ""

    def __post_init__(self, items_done: int, items_failed: int) -> None:
        pass


class UnitContext(Protocol):
    """What a processor may ask of the engine while it processes one unit.

    Every item_* call commits durably before it returns.
    """

    unit: Unit
    log: logging.Logger
    artifacts_dir: Path

    def item_state(self, item_id: str) -> ItemRecord | None: ...
    def unfinished_items(self) -> list[ItemRecord]: ...  # intent/edited items of this unit
    def item_started(
        self, item_id: str, plan: list[str], checkpoint: dict[str, Any] | None = None
    ) -> None: ...
    def item_checkpoint(self, item_id: str, **data: Any) -> None: ...
    def item_edited(self, item_id: str) -> None: ...
    def item_done(self, item_id: str) -> None: ...
    def item_failed(self, item_id: str, reason: str) -> None: ...
    def set_total(self, total: int) -> None: ...
    # True once the processor should return (PARTIAL) at this item boundary: a run limit or a signal, a
    # browser recycle due, or `max_products_per_code` items of this code finished in this run.
    def should_stop(self) -> bool: ...
    # The processor is about to log in again by itself (cheaper than failing the call): True → go ahead,
    # counted as a re-login; False → the engine's re-logins in a row without progress are used up:
    # re-raise the SessionExpired (the engine counts an attempt and logs in before the retry). Ask first.
    def relogged_in(self, reason: str) -> bool: ...
    # A warning or decision about an item, for the events, summary and report (not progress state):
    # kind "clamp" (op, message), "ocr" (target, position, chinese, ms, engine, reused), "press"
    # (target, position).
    def item_note(self, item_id: str, kind: str, **data: Any) -> None: ...


@runtime_checkable
class StepProcessor(Protocol):
    step: str

    def open(self, browser: BrowserSession, account: Account) -> None: ...
    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult: ...


BrowserFactory = Callable[[], BrowserSession]

__all__ = [
    "BrowserFactory",
    "ItemRecord",
    "ItemStatus",
    "StepProcessor",
    "UnitContext",
    "UnitRecord",
    "UnitResult",
    "UnitStatus",
]
