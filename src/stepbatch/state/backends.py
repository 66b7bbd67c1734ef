"""The state backends: today the files of one machine (`FileBackend`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stepbatch.state.file_store import FileProgressStore
from stepbatch.state.lock import AccountLock
from stepbatch.state.store import AccountLease, ProgressStore


@dataclass(frozen=True)
class FileBackend:
    """Progress as snapshot + journal files and the account lock as an OS file lock, under `state_dir`."""

    state_dir: Path

    def open_store(
        self, account: str, step: str, server: str | None, *, compact_every: int | None = None
    ) -> ProgressStore:
        extra = {"compact_every": compact_every} if compact_every else {}
        return FileProgressStore.open(Path(self.state_dir), account, step, server, **extra)

    def lease(self, account: str, step: str) -> AccountLease:
        return AccountLock(Path(self.state_dir), account, step)
