"""Typed progress records: what a progress store returns, whatever its backend."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stepbatch.contracts.status import ItemStatus, UnitStatus


@dataclass
class ItemRecord:
    item_id: str
    status: ItemStatus
    plan: list[str] = field(default_factory=list)
    checkpoint: dict[str, Any] = field(default_factory=dict)  # processor-owned (ops done, snapshot)
    error: str | None = None

    @classmethod
    def from_dict(cls, item_id: str, data: Mapping[str, Any]) -> ItemRecord:
        return cls(
            item_id,
            ItemStatus(data["status"]),
            list(data.get("plan", [])),
            dict(data.get("checkpoint", {})),
            data.get("error"),
        )


@dataclass(frozen=True)
class UnitRecord:
    """One provider code of one server, as progress knows it (items excluded: ask for them by id)."""

    key: str
    provider_code: str
    server: str
    order: int
    status: UnitStatus = UnitStatus.PENDING
    attempts: int = 0
    permanent: bool = False
    last_error: str | None = None
    total_found: int | None = None
    items_done: int = 0
    items_failed: int = 0
    completed_at: str | None = None

    @classmethod
    def from_dict(cls, key: str, data: Mapping[str, Any]) -> UnitRecord:
        return cls(
            key=key,
            provider_code=str(data.get("provider_code", "")),
            server=str(data.get("server", "")),
            order=int(data.get("order", 0)),
            status=UnitStatus(data.get("status", UnitStatus.PENDING)),
            attempts=int(data.get("attempts", 0)),
            permanent=bool(data.get("permanent", False)),
            last_error=data.get("last_error"),
            total_found=data.get("total_found"),
            items_done=int(data.get("items_done", 0)),
            items_failed=int(data.get("items_failed", 0)),
            completed_at=data.get("completed_at"),
        )

    @property
    def retryable(self) -> bool:
        return self.status == UnitStatus.FAILED and not self.permanent


@dataclass(frozen=True)
class RunRecord:
    """One run's line in the store's history (`runs`)."""

    run_id: str
    cycle: int
    outcome: str
    items_done: int = 0
    items_failed: int = 0
    restarts: Mapping[str, int] = field(default_factory=dict)
    retries: Mapping[str, int] = field(default_factory=dict)
    relogins: int = 0
    peak_memory_mb: float | None = None
    duration_s: float = 0.0
    started_at: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunRecord:
        return cls(
            run_id=str(data.get("run_id", "")),
            cycle=int(data.get("cycle", 1)),
            outcome=str(data.get("outcome", "")),
            items_done=int(data.get("items_done") or 0),
            items_failed=int(data.get("items_failed") or 0),
            restarts=dict(data.get("restarts") or {}),
            retries=dict(data.get("retries") or {}),
            relogins=int(data.get("relogins") or 0),
            peak_memory_mb=data.get("peak_memory_mb"),
            duration_s=float(data.get("duration_s") or 0),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
        )
