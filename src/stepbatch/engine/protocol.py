"""Contracts between the engine and the step processors / browser factories.

The engine owns progress and batching; a processor owns what happens on the site for one unit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from stepbatch.browser.protocol import BrowserSession
from stepbatch.contracts.records import ItemRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.workbook.models import Account, Unit


@dataclass
class UnitResult:
    status: UnitStatus  # DONE, PARTIAL (stopped early) or FAILED
    items_done: int = 0
    items_failed: int = 0
    total_found: int | None = None  # what the site said (총 N개 상품) when the unit started
    message: str = ""


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
    def should_stop(self) -> bool: ...  # limit reached, signal received or browser recycle due
    def relogged_in(self, reason: str) -> None: ...  # the processor logged in again by itself
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
