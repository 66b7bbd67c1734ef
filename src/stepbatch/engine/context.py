"""The engine's `UnitContext`: what a processor asks of the engine during one `process()` call."""

from __future__ import annotations

from typing import Any, Protocol

from stepbatch.contracts.events import Event
from stepbatch.contracts.records import ItemRecord
from stepbatch.contracts.status import ItemStatus
from stepbatch.engine.events import RunRecorder
from stepbatch.state.store import ProgressStore
from stepbatch.workbook.models import Unit

_UNSET = object()


class ContextHost(Protocol):
    """What the context needs of the engine beyond the store and the recorder."""

    def pet_watchdog(self) -> None: ...
    def progressed(self) -> None: ...  # the unit's state moved on (a re-login helped)
    def item_boundary(self, unit_key: str, status: ItemStatus) -> None: ...
    def why_stop(self, unit_key: str) -> str | None: ...
    def allow_relogin(self, unit_key: str, reason: str) -> bool: ...


class EngineContext:
    """One call's `UnitContext`: every call commits to the progress store before it returns."""

    def __init__(self, host: ContextHost, store: ProgressStore, rec: RunRecorder, unit: Unit) -> None:
        self.host = host
        self.store = store
        self.rec = rec
        self.unit = unit
        self.log = rec.log
        self.artifacts_dir = rec.artifacts_dir
        self.items_in_call = 0  # items finished in this call (the unit's progress since it was called)
        self.last_item: str | None = None

    @property
    def _key(self) -> str:
        return self.unit.key

    def item_state(self, item_id: str) -> ItemRecord | None:
        return self.store.item(self._key, item_id)

    def unfinished_items(self) -> list[ItemRecord]:
        return self.store.unfinished_items(self._key)

    def item_started(self, item_id: str, plan: list[str], checkpoint: dict[str, Any] | None = None) -> None:
        self._touch(item_id)
        self.store.item_started(self._key, item_id, plan, checkpoint)
        self.host.progressed()
        self.rec.emit(Event.ITEM, unit=self._key, item=item_id, status=ItemStatus.INTENT.value)

    def relogged_in(self, reason: str) -> bool:
        """The processor would log in again by itself: True when it may (counted like the engine's own
        re-login), False when the re-logins in a row are used up (re-raise the SessionExpired)."""
        return self.host.allow_relogin(self._key, reason)

    def item_checkpoint(self, item_id: str, **data: Any) -> None:
        self._touch(item_id)
        before = self.store.item(self._key, item_id)
        self.store.item_checkpoint(self._key, item_id, data)
        # Progress only when something changed: a resume records the op in flight again as it was.
        if before is None or any(before.checkpoint.get(k, _UNSET) != v for k, v in data.items()):
            self.host.progressed()

    def item_note(self, item_id: str, kind: str, **data: Any) -> None:
        self.rec.emit(Event.NOTE, unit=self._key, item=item_id, kind=kind, **data)

    def item_edited(self, item_id: str) -> None:
        self._touch(item_id)
        self.store.item_status(self._key, item_id, ItemStatus.EDITED)
        self.host.progressed()
        self.rec.emit(Event.ITEM, unit=self._key, item=item_id, status=ItemStatus.EDITED.value)

    def item_done(self, item_id: str) -> None:
        self._finish(item_id, ItemStatus.DONE, None)

    def item_failed(self, item_id: str, reason: str) -> None:
        self._finish(item_id, ItemStatus.FAILED, reason)

    def set_total(self, total: int) -> None:
        self.host.pet_watchdog()
        self.store.update_unit(self._key, total_found=total)

    def should_stop(self) -> bool:
        return self.stop_reason is not None

    @property
    def stop_reason(self) -> str | None:
        """Why `should_stop()` is true: a run stop (`max_products`, `signal SIGINT`, …), a browser recycle
        (`memory`, `items`) or `max_products_per_code`; None while the processor may go on."""
        return self.host.why_stop(self._key)

    def _touch(self, item_id: str) -> None:
        self.host.pet_watchdog()
        self.last_item = item_id

    def _finish(self, item_id: str, status: ItemStatus, reason: str | None) -> None:
        self._touch(item_id)
        self.store.item_status(self._key, item_id, status, reason)
        self.rec.emit(Event.ITEM, unit=self._key, item=item_id, status=status.value)
        self.items_in_call += 1
        self.host.item_boundary(self._key, status)


__all__ = ["ContextHost", "EngineContext"]
