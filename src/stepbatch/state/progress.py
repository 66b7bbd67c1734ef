"""The durable progress store: one per account × step × server.

On disk (see docs/design/contracts.md, "Progress store format"):

    progress/<account>/<step>[-<server>].json            snapshot (pretty JSON, generation g)
    progress/<account>/<step>[-<server>].journal.jsonl    one fsynced JSON line per commit since the snapshot
    progress/<account>/<step>[-<server>].json.prev       the previous snapshot (generation g-1)
    progress/<account>/<step>[-<server>].journal.prev.jsonl  the journal that led from g-1 to g
    progress/<account>/archive/<step>-<server>-<timestamp>.json   completed or reset stores

A commit appends one line to the journal (a few hundred bytes, one fsync), so its cost does not grow
with the store. Compaction folds the journal into a new snapshot (atomic replace) at batch boundaries,
every `compact_every` lines and on close. Every journal line carries the generation `g` of the snapshot
it applies to, so lines left over from a compaction interrupted after the snapshot was replaced are
recognised as already folded in and skipped.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stepbatch.contracts.records import ItemRecord, RunRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.fsio import atomic_write_bytes, atomic_write_text, fsync_dir, replace, safe_name
from stepbatch.workbook.models import Unit

SCHEMA_VERSION = 1
DEFAULT_STATE_DIR = Path("stepbatch-state")
DEFAULT_COMPACT_EVERY = 2000

log = logging.getLogger(__name__)

# An append needs the data and the new file size on disk, not the timestamps: fdatasync where it exists.
_datasync = getattr(os, "fdatasync", os.fsync)

_UNIT_STATUSES = {s.value for s in UnitStatus}
_ITEM_STATUSES = {s.value for s in ItemStatus}


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def store_name(step: str, server: str | None) -> str:
    return safe_name(f"{step}-{server}" if server else step)


def progress_path(state_dir: Path, account: str, step: str, server: str | None) -> Path:
    return Path(state_dir) / "progress" / safe_name(account) / f"{store_name(step, server)}.json"


class ProgressDamaged(Exception):
    """Internal: a snapshot that cannot be used (the loader then tries the previous generation)."""


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


def _fresh_state(account: str, step: str, server: str | None) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "generation": 0,
        "account_id": account,
        "step": step,
        "server_name": server,
        "cycle": 1,
        "complete": False,
        "completed_at": None,
        "created_at": now_iso(),
        "updated_at": None,
        "last_completed_provider_code": None,
        "completed_provider_codes": [],
        "current_batch_start_time": None,
        "total_processed_items": 0,
        "total_failed_items": 0,
        "runs": [],
        "units": {},
    }


def _new_unit(code: str, server: str, order: int) -> dict[str, Any]:
    return {
        "provider_code": code,
        "server": server,
        "order": order,
        "status": UnitStatus.PENDING.value,
        "attempts": 0,
        "permanent": False,
        "last_error": None,
        "total_found": None,
        "items_done": 0,
        "items_failed": 0,
        "completed_at": None,
        "items": {},
    }


# ---------------------------------------------------------------------------------------------------
# Journal records: every mutation is a record applied by `_apply`, live and on replay alike.


def _apply(state: dict[str, Any], rec: Mapping[str, Any]) -> None:
    op = rec["op"]
    if op == "units_add":
        units = state["units"]
        for key, code, server in rec["units"]:
            if key not in units:
                units[key] = _new_unit(code, server, len(units))
    elif op == "unit":
        _apply_unit(state, rec)
    elif op == "item":
        _apply_item(state, rec)
    elif op == "meta":
        state.update(rec["set"])
    elif op == "run":
        _apply_run(state, rec)
    elif op == "reset_failed":
        for unit in state["units"].values():
            if unit["status"] == UnitStatus.FAILED.value:
                unit.update(status=UnitStatus.PENDING.value, attempts=0, permanent=False, last_error=None)
    else:
        raise ValueError(f"unknown journal op {op!r}")
    if "ts" in rec:
        state["updated_at"] = rec["ts"]


def _apply_unit(state: dict[str, Any], rec: Mapping[str, Any]) -> None:
    unit = state["units"][rec["k"]]
    fields = dict(rec["set"])
    became_done = fields.get("status") == UnitStatus.DONE.value and unit["status"] != UnitStatus.DONE.value
    unit.update(fields)
    if became_done:
        unit["completed_at"] = rec.get("ts")
        code = unit["provider_code"]
        if code not in state["completed_provider_codes"]:
            state["completed_provider_codes"].append(code)
        state["last_completed_provider_code"] = code


def _apply_item(state: dict[str, Any], rec: Mapping[str, Any]) -> None:
    unit = state["units"][rec["k"]]
    items = unit["items"]
    item = items.get(rec["i"])
    if item is None:
        item = items[rec["i"]] = {
            "status": ItemStatus.INTENT.value,
            "plan": [],
            "checkpoint": {},
            "error": None,
        }
    fields = rec.get("set", {})
    new = fields.get("status", item["status"])
    old = item["status"]
    item.update(fields)
    if "cp" in rec:
        item.setdefault("checkpoint", {}).update(rec["cp"])
    if "ts" in rec:
        item["updated_at"] = rec["ts"]
    if old != new:
        for status, unit_key, total_key in (
            (ItemStatus.DONE.value, "items_done", "total_processed_items"),
            (ItemStatus.FAILED.value, "items_failed", "total_failed_items"),
        ):
            delta = (new == status) - (old == status)
            unit[unit_key] += delta
            state[total_key] += delta


def _apply_run(state: dict[str, Any], rec: Mapping[str, Any]) -> None:
    for run in reversed(state["runs"]):
        if run["run_id"] == rec["id"]:
            run.update(rec["set"])
            return
    state["runs"].append({"run_id": rec["id"], **rec["set"]})


# ---------------------------------------------------------------------------------------------------
# Loading and validating


def _shape_problem(data: Any) -> str | None:
    """Why `data` is not a progress snapshot, or None. (schema_version is checked before this.)"""
    if not isinstance(data, dict):
        return f"expected a JSON object, found {type(data).__name__}"
    required = {
        "generation": int,
        "units": dict,
        "runs": list,
        "completed_provider_codes": list,
        "cycle": int,
    }
    for key, typ in required.items():
        if not isinstance(data.get(key), typ):
            return f"field {key!r} is missing or not a {typ.__name__}"
    for key, unit in data["units"].items():
        if not isinstance(unit, dict) or unit.get("status") not in _UNIT_STATUSES:
            return f"unit {key!r} has no valid status"
        if not isinstance(unit.get("items"), dict):
            return f"unit {key!r} has no items object"
        for item_id, item in unit["items"].items():
            if not isinstance(item, dict) or item.get("status") not in _ITEM_STATUSES:
                return f"item {item_id!r} of unit {key!r} has no valid status"
    return None


def _check_version(path: Path, data: Any) -> None:
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise UserError(
            f"{path} was written by a newer stepbatch (schema_version {version}; this version reads "
            f"{SCHEMA_VERSION}): upgrade stepbatch to continue this run"
        )
    if isinstance(data, dict) and version != SCHEMA_VERSION:
        raise ProgressDamaged(f"schema_version is {version!r}, expected {SCHEMA_VERSION}")


def _read_snapshot(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if not raw.strip():
        raise ProgressDamaged("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProgressDamaged(f"not valid JSON ({exc})") from None
    _check_version(path, data)
    problem = _shape_problem(data)
    if problem:
        raise ProgressDamaged(f"unexpected content: {problem}")
    return data


@dataclass
class JournalRead:
    records: list[dict[str, Any]]
    good_length: int  # bytes up to the end of the last complete line
    torn: bool


def _read_journal(path: Path) -> JournalRead:
    if not path.exists():
        return JournalRead([], 0, False)
    raw = path.read_bytes()
    records: list[dict[str, Any]] = []
    pos = 0
    lines = raw.split(b"\n")
    for number, line in enumerate(lines, start=1):
        is_last = number == len(lines)
        if is_last:  # bytes after the final newline: empty, or a line torn by a crash mid-write
            return JournalRead(records, pos, bool(line.strip()))
        try:
            rec = json.loads(line.decode("utf-8"))
            if not isinstance(rec, dict) or "op" not in rec:
                raise ValueError("not a journal record")
        except (UnicodeDecodeError, ValueError) as exc:
            raise UserError(
                f"{path}: line {number} is corrupt ({exc}); the progress cannot be trusted past it. "
                "Restore the file from a backup, or archive it with `stepbatch reset`"
            ) from None
        records.append(rec)
        pos += len(line) + 1
    return JournalRead(records, pos, False)  # pragma: no cover - split always yields a last element


# ---------------------------------------------------------------------------------------------------


def _check_writable(paths: StorePaths) -> None:
    """Refuse to start a run whose progress cannot be recorded (checked before anything is written)."""
    folder = paths.snapshot.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    for target in (folder, *(f for f in paths.all_files() if f.exists())):
        if not os.access(target, os.W_OK):
            raise UserError(
                f"{target}: not writable, so the progress cannot be recorded "
                "(check the permissions of the state folder)"
            )


class ProgressStore:
    """Progress of one account × step × server, committed durably on every change.

    Not thread-safe: one runner thread owns it. `warnings` lists recoveries made while loading.
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
        self._journal_fh: Any = None
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
    ) -> ProgressStore:
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
    ) -> ProgressStore:
        paths = StorePaths(Path(path))
        loaded = _load_state(paths, readonly=readonly)
        if not readonly:
            _check_writable(paths)
        warnings = loaded.warnings
        state = loaded.state
        if state is None:
            if readonly or account is None or step is None:
                raise UserError(f"no progress file at {paths.snapshot}")
            store = cls(
                paths,
                _fresh_state(account, step, server),
                readonly=False,
                compact_every=compact_every,
                warnings=warnings,
            )
            store._write_snapshot(keep_prev=False)
            return store
        store = cls(paths, state, readonly=readonly, compact_every=compact_every, warnings=warnings)
        store._journal_lines = loaded.pending_lines
        if not readonly:
            if loaded.torn_at is not None:  # cut the torn line off, or the next line would join it
                with open(paths.journal, "r+b") as fh:
                    fh.truncate(loaded.torn_at)
                    fh.flush()
                    os.fsync(fh.fileno())
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
    def units(self) -> dict[str, dict[str, Any]]:
        """Unit records by `Unit.key` (read-only by convention; change them through the methods)."""
        return self.state["units"]

    @property
    def complete(self) -> bool:
        return bool(self.state["complete"])

    @property
    def cycle(self) -> int:
        return int(self.state["cycle"])

    def unit_status(self, key: str) -> UnitStatus | None:
        unit = self.units.get(key)
        return UnitStatus(unit["status"]) if unit else None

    @property
    def location(self) -> str:
        return str(self.paths.snapshot)

    @property
    def completed_at(self) -> str | None:
        return self.state.get("completed_at")

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
        fresh = _fresh_state(self.state["account_id"], self.state["step"], self.state["server_name"])
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
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
        target = self.paths.archive_dir / f"{self.paths.snapshot.stem}-{stamp}.json"
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
        _apply(self.state, rec)
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        if self._journal_fh is None:
            self._journal_fh = open(self.paths.journal, "ab")  # noqa: SIM115 - kept open between commits
        self._journal_fh.write(line)
        self._journal_fh.flush()
        _datasync(self._journal_fh.fileno())
        self._journal_lines += 1
        if self._journal_lines >= self.compact_every:
            self.compact()

    def compact(self, *, force: bool = False) -> None:
        """Fold the journal into a new snapshot generation (the old one is kept as `.prev`)."""
        if self.readonly or (self._journal_lines == 0 and not force):
            return
        self.state["generation"] += 1
        _slim_done_units(self.state)
        self._write_snapshot(keep_prev=True)
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
        if self._journal_fh is not None:
            self._journal_fh.close()
            self._journal_fh = None

    def _write_snapshot(self, *, keep_prev: bool) -> None:
        if keep_prev and self.paths.snapshot.exists():
            tmp = self.paths.prev.with_name(f".{self.paths.prev.name}.{os.getpid()}.tmp")
            shutil.copyfile(self.paths.snapshot, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            replace(tmp, self.paths.prev)
        atomic_write_text(self.paths.snapshot, render_snapshot(self.state))

    def __enter__(self) -> ProgressStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _slim_done_units(state: dict[str, Any]) -> None:
    """Drop the plan and checkpoint of done items of done units: only open items need them to resume.

    Keeps the snapshot (and so compaction and resume) small on long cycles; status and time stay.
    """
    done = ItemStatus.DONE.value
    for unit in state["units"].values():
        if unit["status"] == UnitStatus.DONE.value:
            for item in unit["items"].values():
                if item["status"] == done and "plan" in item:
                    del item["plan"]
                    item.pop("checkpoint", None)


def render_snapshot(state: Mapping[str, Any]) -> str:
    """Pretty, diff-friendly JSON: top-level fields one per line, each unit on its own line."""
    head = {k: v for k, v in state.items() if k != "units"}
    parts = [json.dumps(head, ensure_ascii=False, indent=1)[:-2] + ',\n "units": {']
    units = list(state["units"].items())
    for n, (key, unit) in enumerate(units):
        sep = "," if n < len(units) - 1 else ""
        parts.append(
            f"\n  {json.dumps(key, ensure_ascii=False)}: {json.dumps(unit, ensure_ascii=False)}{sep}"
        )
    parts.append("\n }\n}\n")
    return "".join(parts)


@dataclass
class _Loaded:
    state: dict[str, Any] | None
    warnings: list[str]
    pending_lines: int = 0
    torn_at: int | None = None  # where to cut a torn journal line off
    recovered: bool = False


def _load_state(paths: StorePaths, *, readonly: bool) -> _Loaded:
    snapshot = paths.snapshot
    if not snapshot.exists():
        if not paths.prev.exists():
            return _Loaded(None, [])
        reason = "the file is missing"
    else:
        try:
            state = _read_snapshot(snapshot)
        except ProgressDamaged as exc:
            reason = str(exc)
        else:
            journal = _read_journal(paths.journal)
            applied = _replay(state, journal.records)
            warnings = []
            if journal.torn:
                warnings.append(f"{paths.journal}: ignored a torn last line (the process stopped mid-write)")
            return _Loaded(state, warnings, applied, journal.good_length if journal.torn else None)
    return _recover_from_prev(paths, reason, readonly=readonly)


def _recover_from_prev(paths: StorePaths, reason: str, *, readonly: bool) -> _Loaded:
    hint = "move it away and restore a backup, or archive it with `stepbatch reset`"
    if not paths.prev.exists():
        raise UserError(
            f"progress file {paths.snapshot} is unusable: {reason}; no previous generation "
            f"({paths.prev.name}) to recover from: {hint}"
        )
    try:
        state = _read_snapshot(paths.prev)
    except ProgressDamaged as exc:
        raise UserError(
            f"progress file {paths.snapshot} is unusable: {reason}; its previous generation "
            f"{paths.prev.name} is unusable too ({exc}): {hint}"
        ) from None
    # prev (g-1) + the journal from g-1 to g + the current journal (lines of g) = the latest state.
    _replay(state, _read_journal(paths.journal_prev).records)
    current = _read_journal(paths.journal)
    if current.records and current.records[0].get("g") == state["generation"] + 1:
        state["generation"] += 1
    _replay(state, current.records)
    if paths.snapshot.exists() and not readonly:
        # Moved aside (never deleted) so the next compaction does not copy it over the good `.prev`.
        kept = paths.snapshot.with_name(f"{paths.snapshot.name}.damaged-{datetime.now(UTC):%Y%m%d-%H%M%S}")
        replace(paths.snapshot, kept)
        reason += f" (kept as {kept.name})"
    warning = f"progress file {paths.snapshot}: {reason}; recovered from {paths.prev.name} and the journals"
    return _Loaded(state, [warning], 0, current.good_length if current.torn else None, recovered=True)


def _replay(state: dict[str, Any], records: Iterable[Mapping[str, Any]]) -> int:
    applied = 0
    for rec in records:
        if rec.get("g") != state["generation"]:
            continue  # already folded into this snapshot by an interrupted compaction
        _apply(state, rec)
        applied += 1
    return applied
