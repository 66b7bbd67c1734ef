"""`FileProgressStore`: the progress of one account × step × server as files on this machine.

A snapshot (`paths.py` has the layout, `snapshot.py` the format) plus a journal of one fsynced line per
commit since it (`journal.py`); loading and recovery are in `recovery.py`. A commit appends one line (a
few hundred bytes, one fdatasync), so its cost does not grow with the store. Compaction folds the
journal into a new snapshot (atomic replace) at batch boundaries, every `compact_every` lines and on
close.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stepbatch.contracts.records import ItemRecord, RunRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.fsio import atomic_write_bytes, fsync_dir, replace
from stepbatch.state.journal import JournalAppender, apply_record, cut_torn_line
from stepbatch.state.paths import StorePaths, now_iso, progress_path
from stepbatch.state.recovery import check_writable, load_state
from stepbatch.state.snapshot import fresh_state, slim_done_units, write_snapshot
from stepbatch.workbook.models import Unit

DEFAULT_COMPACT_EVERY = 2000

log = logging.getLogger(__name__)


class FileProgressStore:
    """Progress of one account × step × server, committed durably on every change.

    Meets the `stepbatch.state.store.ProgressStore` contract so:

    - Durable on return: a mutation becomes one JSON line appended to the journal, flushed and
      fdatasync'ed (fsync on Windows) before the method returns; a crash right after loses nothing
      it recorded. Compaction writes the new snapshot to a temporary file, fsyncs it, replaces the old
      one atomically (kept as `.prev`) and fsyncs the folder; every journal line carries the generation
      it applies to, so a compaction interrupted at any point neither loses nor repeats a line. A
      snapshot found damaged on opening is rebuilt from `.prev` and the journals (`warnings` says so).
    - Reads see every mutation at once: they are answered from the in-memory state, which a commit
      updates before it writes its line (a write that fails raises: drop the store object then).
    - One writer: the store takes no lock of its own; the caller holds the account's `AccountLock`
      (an OS file lock) while it writes. Readers (`status`) open with `readonly=True`, which never
      repairs or writes anything.
    - Typed copies: `unit`, `unit_records`, `item`, `unfinished_items` and `run_records` build new
      records from the state; changing them changes nothing stored. (`units` and `state`, the live
      dicts, belong to this backend only: tests and the status command read them.)

    Not thread-safe: one runner thread owns it. `location` is the snapshot's path.
    """

    def __init__(
        self,
        paths: StorePaths,
        state: dict[str, Any],
        *,
        readonly: bool,
        compact_every: int,
        warnings: list[str],
    ) -> None:
        self.paths = paths
        self.state = state
        self.readonly = readonly
        self.compact_every = compact_every
        self.warnings = warnings
        self._journal = JournalAppender(paths.journal)
        self._journal_lines = 0

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        state_dir: Path,
        account: str,
        step: str,
        server: str | None = None,
        *,
        readonly: bool = False,
        compact_every: int = DEFAULT_COMPACT_EVERY,
    ) -> FileProgressStore:
        """Load (or create) the store. Raises UserError naming the file when it cannot be trusted."""
        return cls.open_path(
            progress_path(state_dir, account, step, server),
            account=account,
            step=step,
            server=server,
            readonly=readonly,
            compact_every=compact_every,
        )

    @classmethod
    def open_path(
        cls,
        path: Path,
        *,
        account: str | None = None,
        step: str | None = None,
        server: str | None = None,
        readonly: bool = False,
        compact_every: int = DEFAULT_COMPACT_EVERY,
    ) -> FileProgressStore:
        paths = StorePaths(Path(path))
        loaded = load_state(paths, readonly=readonly)
        if not readonly:
            check_writable(paths)
        warnings = loaded.warnings
        state = loaded.state
        if state is None:
            if readonly or account is None or step is None:
                raise UserError(f"no progress file at {paths.snapshot}")
            store = cls(
                paths,
                fresh_state(account, step, server),
                readonly=False,
                compact_every=compact_every,
                warnings=warnings,
            )
            write_snapshot(paths, store.state, keep_prev=False)
            return store
        store = cls(paths, state, readonly=readonly, compact_every=compact_every, warnings=warnings)
        store._journal_lines = loaded.pending_lines
        if not readonly:
            if loaded.torn_at is not None:
                cut_torn_line(paths.journal, loaded.torn_at)
            if loaded.recovered:
                store.compact(force=True)
        for warning in warnings:
            log.warning("%s", warning)
        return store

    # -- queries ---------------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self.paths.snapshot

    @property
    def location(self) -> str:
        return str(self.paths.snapshot)

    @property
    def units(self) -> dict[str, dict[str, Any]]:
        """Unit records by `Unit.key` (read-only by convention; change them through the methods)."""
        return self.state["units"]

    @property
    def complete(self) -> bool:
        return bool(self.state["complete"])

    @property
    def completed_at(self) -> str | None:
        return self.state.get("completed_at")

    @property
    def cycle(self) -> int:
        return int(self.state["cycle"])

    def unit_status(self, key: str) -> UnitStatus | None:
        unit = self.units.get(key)
        return UnitStatus(unit["status"]) if unit else None

    def unit(self, key: str) -> UnitRecord | None:
        data = self.units.get(key)
        return UnitRecord.from_dict(key, data) if data is not None else None

    def unit_records(self) -> list[UnitRecord]:
        return [UnitRecord.from_dict(key, data) for key, data in self.units.items()]

    def run_records(self) -> list[RunRecord]:
        return [RunRecord.from_dict(run) for run in self.state["runs"]]

    def item(self, key: str, item_id: str) -> ItemRecord | None:
        unit = self.units.get(key)
        rec = unit["items"].get(item_id) if unit else None
        return ItemRecord.from_dict(item_id, rec) if rec is not None else None

    def unfinished_items(self, key: str) -> list[ItemRecord]:
        unit = self.units.get(key)
        if not unit:
            return []
        open_states = {ItemStatus.INTENT.value, ItemStatus.EDITED.value}
        found = (self.item(key, i) for i, rec in unit["items"].items() if rec["status"] in open_states)
        return [rec for rec in found if rec is not None]

    def counts(self) -> dict[str, int]:
        """Units by status plus item totals, over the current cycle."""
        counts = {s.value: 0 for s in UnitStatus}
        for unit in self.units.values():
            counts[unit["status"]] += 1
        counts["units_total"] = len(self.units)
        counts["items_done"] = self.state["total_processed_items"]
        counts["items_failed"] = self.state["total_failed_items"]
        return counts

    # -- mutations (each one commits before returning) ----------------------------------------------

    def add_units(self, units: Iterable[Unit]) -> list[str]:
        """Register units not seen before (pending). Returns their keys. One commit for all of them."""
        new = [[u.key, u.provider_code, u.server] for u in units if u.key not in self.units]
        if new:
            self._commit({"op": "units_add", "units": new})
        return [key for key, _, _ in new]

    def update_unit(self, key: str, **fields: Any) -> None:
        if "status" in fields:
            fields["status"] = UnitStatus(fields["status"]).value
        self._commit({"op": "unit", "k": key, "set": fields})

    def item_started(
        self, key: str, item_id: str, plan: Sequence[str], checkpoint: Mapping[str, Any] | None
    ) -> None:
        self._commit(
            {
                "op": "item",
                "k": key,
                "i": item_id,
                "set": {"status": ItemStatus.INTENT.value, "plan": list(plan), "error": None},
                "cp": dict(checkpoint or {}),
            }
        )

    def item_checkpoint(self, key: str, item_id: str, data: Mapping[str, Any]) -> None:
        if item_id not in self.units[key]["items"]:
            raise KeyError(f"item {item_id} of {key} has no intent recorded")
        self._commit({"op": "item", "k": key, "i": item_id, "cp": dict(data)})

    def item_status(self, key: str, item_id: str, status: ItemStatus, error: str | None = None) -> None:
        if item_id not in self.units[key]["items"] and status != ItemStatus.FAILED:
            raise KeyError(f"item {item_id} of {key} has no intent recorded")
        fields: dict[str, Any] = {"status": ItemStatus(status).value}
        if error is not None:
            fields["error"] = error
        self._commit({"op": "item", "k": key, "i": item_id, "set": fields})

    def set_meta(self, **fields: Any) -> None:
        self._commit({"op": "meta", "set": fields})

    def update_run(self, run_id: str, **fields: Any) -> None:
        self._commit({"op": "run", "id": run_id, "set": fields})

    def reset_failed(self) -> int:
        """Failed units back to pending with attempts reset. Returns how many."""
        n = sum(1 for u in self.units.values() if u["status"] == UnitStatus.FAILED.value)
        if n:
            self._commit({"op": "reset_failed"})
        return n

    def mark_complete(self) -> Path:
        """Mark the cycle complete, compact, and copy the snapshot into the archive. Returns the copy."""
        self.set_meta(complete=True, completed_at=now_iso())
        self.compact(force=True)
        return self.archive_copy()

    def start_new_cycle(self) -> None:
        """Begin again on a completed store: units forgotten, run history and cycle number kept."""
        fresh = fresh_state(self.state["account_id"], self.state["step"], self.state["server_name"])
        fresh.update(
            cycle=self.cycle + 1,
            runs=self.state["runs"],
            created_at=self.state["created_at"],
            generation=self.state["generation"],
        )
        self.state = fresh
        self.compact(force=True)

    def archive_copy(self) -> Path:
        """Copy the (compacted) snapshot to `archive/<step>-<server>-<timestamp>.json`."""
        self.compact()
        target = self.paths.archive_target()
        atomic_write_bytes(target, self.paths.snapshot.read_bytes())
        return target

    def archive_and_remove(self) -> Path:
        """Archive the store and remove its files (the user's reset). Returns the archived copy."""
        target = self.archive_copy()
        self.close(compact=False)
        for path in self.paths.all_files():
            path.unlink(missing_ok=True)
        fsync_dir(self.paths.snapshot.parent)
        return target

    # -- durability ------------------------------------------------------------------------------

    def _commit(self, rec: dict[str, Any]) -> None:
        if self.readonly:
            raise RuntimeError("progress store opened read-only")
        rec = {"g": self.state["generation"], "ts": now_iso(), **rec}
        apply_record(self.state, rec)
        self._journal.append(rec)
        self._journal_lines += 1
        if self._journal_lines >= self.compact_every:
            self.compact()

    def compact(self, *, force: bool = False) -> None:
        """Fold the journal into a new snapshot generation (the old one is kept as `.prev`)."""
        if self.readonly or (self._journal_lines == 0 and not force):
            return
        self.state["generation"] += 1
        slim_done_units(self.state)
        write_snapshot(self.paths, self.state, keep_prev=True)
        self._close_journal()
        if self.paths.journal.exists():
            replace(self.paths.journal, self.paths.journal_prev)
            fsync_dir(self.paths.snapshot.parent)
        self._journal_lines = 0

    def close(self, *, compact: bool = True) -> None:
        if compact:
            self.compact()
        self._close_journal()

    def _close_journal(self) -> None:
        self._journal.close()

    def __enter__(self) -> FileProgressStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
