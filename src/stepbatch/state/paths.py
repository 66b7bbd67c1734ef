"""Where a file progress store lives: the folder layout, file names, and timestamps.

progress/<account>/<step>[-<server>].json            snapshot (pretty JSON, generation g)
progress/<account>/<step>[-<server>].journal.jsonl    one fsynced JSON line per commit since the snapshot
progress/<account>/<step>[-<server>].json.prev       the previous snapshot (generation g-1)
progress/<account>/<step>[-<server>].journal.prev.jsonl  the journal that led from g-1 to g
progress/<account>/archive/<step>-<server>-<timestamp>.json   completed or reset stores
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from stepbatch.state.fsio import safe_name

DEFAULT_STATE_DIR = Path("stepbatch-state")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def store_name(step: str, server: str | None) -> str:
    return safe_name(f"{step}-{server}" if server else step)


def progress_path(state_dir: Path, account: str, step: str, server: str | None) -> Path:
    return Path(state_dir) / "progress" / safe_name(account) / f"{store_name(step, server)}.json"


@dataclass(frozen=True)
class StorePaths:
    snapshot: Path

    @property
    def journal(self) -> Path:
        return self.snapshot.with_name(self.snapshot.stem + ".journal.jsonl")

    @property
    def prev(self) -> Path:
        return self.snapshot.with_name(self.snapshot.name + ".prev")

    @property
    def journal_prev(self) -> Path:
        return self.snapshot.with_name(self.snapshot.stem + ".journal.prev.jsonl")

    @property
    def archive_dir(self) -> Path:
        return self.snapshot.parent / "archive"

    def all_files(self) -> list[Path]:
        return [self.snapshot, self.journal, self.prev, self.journal_prev]

    def damaged(self) -> Path:
        """Where an unusable snapshot is moved aside to (never deleted)."""
        return self.snapshot.with_name(f"{self.snapshot.name}.damaged-{datetime.now(UTC):%Y%m%d-%H%M%S}")

    def archive_target(self) -> Path:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        return self.archive_dir / f"{self.snapshot.stem}-{stamp}.json"
