"""The local source: one machine's state folder (`runs/<run id>/events.jsonl`, the account locks).

One row per account × step: its latest run, read incrementally (`tail.RunTail`). The run folders are
listed again only when `runs/` changes, a folder's owner (account, step) is read once from its first
line, and only the latest run of each account × step is followed.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from stepbatch.report.html import REPORT_NAME
from stepbatch.state.lock import is_locked
from stepbatch.web.tail import RunTail

STALL_S = 120.0  # an unfinished run whose account is locked but that wrote nothing this long: stalled
DIED = "the process ended before the run finished; run the same command again to resume"


@dataclass(frozen=True)
class RunKey:
    account: str
    step: str


class LocalSource:
    """Rows for the page from a state folder; `rows()` is cheap to call every second or two."""

    mode = "local"

    def __init__(self, state_dir: Path, *, stall_s: float = STALL_S) -> None:
        self.state_dir = Path(state_dir)
        self.runs_root = self.state_dir / "runs"
        self.stall_s = stall_s
        self.host = socket.gethostname()
        self._tails: dict[str, RunTail] = {}
        self._owner: dict[str, RunKey] = {}
        self._runs_seen: int | None = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return str(self.state_dir)

    def rows(self) -> list[dict[str, Any]]:
        with self._lock:
            self._list_runs()
            latest = self._latest()
            return [self._row(key, self._tails[name]) for key, name in sorted(latest.items(), key=_order)]

    def workers(self) -> list[dict[str, Any]]:
        return []

    def _list_runs(self) -> None:
        try:
            stamp = os.stat(self.runs_root).st_mtime_ns
        except OSError:
            return
        if stamp != self._runs_seen:
            self._runs_seen = stamp
            for entry in os.scandir(self.runs_root):
                if entry.is_dir(follow_symlinks=False) and entry.name not in self._tails:
                    self._tails[entry.name] = RunTail(Path(entry.path))
        for name, tail in self._tails.items():
            if name not in self._owner:  # a new folder's first line may not be written yet
                first = tail.first_record()
                if first and first.get("account") and first.get("step"):
                    self._owner[name] = RunKey(str(first["account"]), str(first["step"]))

    def _latest(self) -> dict[RunKey, str]:
        latest: dict[RunKey, str] = {}
        for name in sorted(self._owner, key=lambda n: (n[:15], n)):  # run ids start with the start time
            latest[self._owner[name]] = name
        return latest

    def _row(self, key: RunKey, tail: RunTail) -> dict[str, Any]:
        tail.refresh()
        snap = tail.model.snapshot()
        facts = tail.facts
        age = max(0.0, time.time() - tail.mtime) if tail.mtime else None
        status, worker, error = self._status(key, tail, age)
        name = tail.run_dir.name
        live = status in ("running", "stalled")
        return {
            "account": key.account,
            "step": key.step,
            "server": facts.server,
            "run_id": name,
            "status": status,
            "worker": worker,
            "code": snap["code"] if live else None,
            "product": snap["product"] if live else None,
            "products_done": snap["products_done"],
            "products_failed": snap["products_failed"],
            "products_found": snap["products_found"],
            "products_more": not facts.finished and snap["codes_done"] < snap["codes_total"],
            "codes_done": snap["codes_done"],
            "codes_total": snap["codes_total"],
            "codes_failed": snap["codes_failed"],
            "eta_s": snap["eta_s"] if status == "running" else None,
            "browser_mb": snap["browser_mb"],
            "memory": [mb for _, mb in snap["memory"]],
            "retries": snap["retries"],
            "relogins": snap["relogins"],
            "heartbeat_age_s": None if age is None else round(age, 1),
            "last_error": error,
            "started": facts.started_ts,
            "report": _file_url(name, REPORT_NAME) if (tail.run_dir / REPORT_NAME).is_file() else None,
            "live_report": f"/report/{quote(name)}",
            "screenshots": [_file_url(name, shot) for shot in facts.screenshots],
        }

    def _status(self, key: RunKey, tail: RunTail, age: float | None) -> tuple[str, str, str | None]:
        model, facts = tail.model, tail.facts
        if facts.finished:
            failed = model.units_failed or model.items_failed
            status = {"complete": "partial" if failed else "done", "failed": "failed"}.get(
                model.outcome or "", "stopped"
            )
            error = None if status == "done" else (facts.stop_reason or facts.last_error)
            return status, self.host, error
        holder = is_locked(self.state_dir, key.account)
        if holder is not None and holder.step == key.step:
            stalled = age is not None and age > self.stall_s
            return (
                ("stalled" if stalled else "running"),
                f"{holder.host} (pid {holder.pid})",
                facts.last_error,
            )
        return "stopped", self.host, DIED

    def run_dir(self, run_id: str) -> Path | None:
        """The folder of a run this source knows (None for anything else)."""
        with self._lock:
            tail = self._tails.get(run_id)
        return tail.run_dir if tail is not None else None

    def parsed_bytes(self) -> int:
        with self._lock:
            return sum(t.parsed_bytes for t in self._tails.values())


def _file_url(run: str, relative: str) -> str:
    return f"/files/runs/{quote(run)}/{quote(relative)}"


def _order(item: tuple[RunKey, str]) -> tuple[str, str]:
    return item[0].account, item[0].step
