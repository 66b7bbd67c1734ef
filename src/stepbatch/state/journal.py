"""The journal: one JSON line per commit since the snapshot, and how a line changes the state.

Every mutation is a record applied by `apply_record`, live and on replay alike. Every line carries the
generation `g` of the snapshot it applies to, so lines left over from a compaction interrupted after
the snapshot was replaced are recognised as already folded in and skipped (`replay`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.snapshot import new_unit

# An append needs the data and the new file size on disk, not the timestamps: fdatasync where it exists.
_datasync = getattr(os, "fdatasync", os.fsync)


def apply_record(state: dict[str, Any], rec: Mapping[str, Any]) -> None:
    op = rec["op"]
    if op == "units_add":
        units = state["units"]
        for key, code, server in rec["units"]:
            if key not in units:
                units[key] = new_unit(code, server, len(units))
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


def replay(state: dict[str, Any], records: Iterable[Mapping[str, Any]]) -> int:
    """Apply the records of the state's generation; returns how many applied."""
    applied = 0
    for rec in records:
        if rec.get("g") != state["generation"]:
            continue  # already folded into this snapshot by an interrupted compaction
        apply_record(state, rec)
        applied += 1
    return applied


@dataclass
class JournalRead:
    records: list[dict[str, Any]]
    good_length: int  # bytes up to the end of the last complete line
    torn: bool


def read_journal(path: Path) -> JournalRead:
    """The complete lines of a journal; a torn last line is reported, a corrupt earlier one refused."""
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


def cut_torn_line(path: Path, good_length: int) -> None:
    """Cut a torn last line off (durably), or the next appended line would join it."""
    with open(path, "r+b") as fh:
        fh.truncate(good_length)
        fh.flush()
        os.fsync(fh.fileno())


class JournalAppender:
    """Appends records to one journal file, each durable (fdatasync) before `append` returns."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: BinaryIO | None = None

    def append(self, rec: Mapping[str, Any]) -> None:
        line = json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        if self._fh is None:
            self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open between commits
        self._fh.write(line)
        self._fh.flush()
        _datasync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
