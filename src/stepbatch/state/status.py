"""What `stepbatch status` shows: every progress store under a state folder, and who is running."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from stepbatch.errors import UserError
from stepbatch.state.file_store import FileProgressStore
from stepbatch.state.lock import is_locked


@dataclass
class StoreStatus:
    account: str
    step: str
    server: str | None
    path: str
    cycle: int
    complete: bool
    units_total: int
    units_done: int
    units_partial: int
    units_failed: int
    units_pending: int
    items_done: int
    items_failed: int
    last_completed_provider_code: str | None
    updated_at: str | None
    running: str | None  # "step3 (pid 4242 on host-1 since 10:31)" when a live run holds the account
    problem: str | None = None  # why the store could not be read

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _snapshots(state_dir: Path) -> list[Path]:
    root = state_dir / "progress"
    if not root.is_dir():
        return []
    return sorted(p for p in root.glob("*/*.json") if not p.name.startswith("."))


def collect_status(state_dir: Path) -> list[StoreStatus]:
    """One entry per progress store; read-only (never repairs, never takes a lock)."""
    state_dir = Path(state_dir)
    result = []
    for path in _snapshots(state_dir):
        account = path.parent.name
        holder = is_locked(state_dir, account)
        running = holder.describe() if holder else None
        try:
            store = FileProgressStore.open_path(path, readonly=True)
        except UserError as exc:
            result.append(
                StoreStatus(
                    account,
                    path.stem,
                    None,
                    str(path),
                    0,
                    False,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    None,
                    None,
                    running,
                    problem=str(exc),
                )
            )
            continue
        counts = store.counts()
        st = store.state
        result.append(
            StoreStatus(
                account=st.get("account_id") or account,
                step=st.get("step") or path.stem,
                server=st.get("server_name"),
                path=str(path),
                cycle=store.cycle,
                complete=store.complete,
                units_total=counts["units_total"],
                units_done=counts["done"],
                units_partial=counts["partial"] + counts["in_progress"],
                units_failed=counts["failed"],
                units_pending=counts["pending"],
                items_done=counts["items_done"],
                items_failed=counts["items_failed"],
                last_completed_provider_code=st.get("last_completed_provider_code"),
                updated_at=st.get("updated_at"),
                running=running if holder and holder.step == st.get("step") else None,
                problem="; ".join(store.warnings) or None,
            )
        )
    return result
