"""Unit and item statuses, as stored in progress and shown in events."""

from __future__ import annotations

from enum import StrEnum


class UnitStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    PARTIAL = "partial"  # stopped with products left (limit, stop, recycle); continues next run
    FAILED = "failed"


class ItemStatus(StrEnum):
    INTENT = "intent"  # about to edit; planned operations recorded
    EDITED = "edited"  # every edit applied; not yet moved
    DONE = "done"  # moved to the target group and verified gone from the search
    FAILED = "failed"  # Permanent problem with this product (left in place)


OPEN_ITEM_STATUSES = frozenset({ItemStatus.INTENT, ItemStatus.EDITED})
