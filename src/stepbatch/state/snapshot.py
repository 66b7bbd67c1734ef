"""The snapshot: the whole state of one store as one JSON file (generation g), and its checks.

A fresh state, the shape and version checks a loaded snapshot must pass, rendering it diff-friendly,
writing it (the previous generation kept as `.prev`), and slimming done units before a compaction.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.fsio import atomic_write_text, replace
from stepbatch.state.paths import StorePaths, now_iso

SCHEMA_VERSION = 1

_UNIT_STATUSES = {s.value for s in UnitStatus}
_ITEM_STATUSES = {s.value for s in ItemStatus}


class ProgressDamaged(Exception):
    """Internal: a snapshot that cannot be used (the loader then tries the previous generation)."""


def fresh_state(account: str, step: str, server: str | None) -> dict[str, Any]:
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


def new_unit(code: str, server: str, order: int) -> dict[str, Any]:
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


def shape_problem(data: Any) -> str | None:
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


def check_version(path: Path, data: Any) -> None:
    version = data.get("schema_version") if isinstance(data, dict) else None
    if isinstance(version, int) and version > SCHEMA_VERSION:
        raise UserError(
            f"{path} was written by a newer stepbatch (schema_version {version}; this version reads "
            f"{SCHEMA_VERSION}): upgrade stepbatch to continue this run"
        )
    if isinstance(data, dict) and version != SCHEMA_VERSION:
        raise ProgressDamaged(f"schema_version is {version!r}, expected {SCHEMA_VERSION}")


def read_snapshot(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    if not raw.strip():
        raise ProgressDamaged("the file is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProgressDamaged(f"not valid JSON ({exc})") from None
    check_version(path, data)
    problem = shape_problem(data)
    if problem:
        raise ProgressDamaged(f"unexpected content: {problem}")
    return data


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


def write_snapshot(paths: StorePaths, state: Mapping[str, Any], *, keep_prev: bool) -> None:
    """Replace the snapshot atomically; with `keep_prev`, first copy the current one to `.prev`."""
    if keep_prev and paths.snapshot.exists():
        tmp = paths.prev.with_name(f".{paths.prev.name}.{os.getpid()}.tmp")
        shutil.copyfile(paths.snapshot, tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        replace(tmp, paths.prev)
    atomic_write_text(paths.snapshot, render_snapshot(state))


def slim_done_units(state: dict[str, Any]) -> None:
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
