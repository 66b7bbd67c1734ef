"""Reading a growing events.jsonl incrementally: only the bytes appended since the last read are parsed.

`RunTail` keeps the byte offset it has consumed, skips the file when its size and mtime did not change, and
never consumes a half-written last line (it is read again once its newline is there). Each record feeds a
`ProgressModel` (the live view, `snapshot()`) and the few facts the page adds: the last error, the failure
screenshots, when the run started and how it ended.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepbatch.app.progress import ProgressModel
from stepbatch.contracts.events import Event
from stepbatch.report.events import EVENTS_NAME

READ_CHUNK = 1 << 20  # at most this many bytes per refresh and run (a huge backlog is read over several)
SCREENSHOTS_KEPT = 5


@dataclass
class RunFacts:
    """What a run's events tell beyond the ProgressModel."""

    account: str = ""
    step: str = ""
    server: str | None = None
    started_ts: str | None = None
    last_ts: str | None = None
    finished: bool = False
    last_error: str | None = None
    screenshots: list[str] = field(default_factory=list)  # relative to the run folder, newest last
    stop_reason: str | None = None
    failed_products: int = 0

    def apply(self, rec: dict[str, Any]) -> None:
        self.last_ts = rec.get("ts") if isinstance(rec.get("ts"), str) else self.last_ts
        match Event.parse(rec.get("event")):
            case Event.RUN_STARTED:
                self.account = str(rec.get("account") or "")
                self.step = str(rec.get("step") or "")
                self.server = rec.get("server") or None
                self.started_ts = self.last_ts
            case Event.ERROR | Event.RETRY:
                self.last_error = f"{rec.get('error_class', '')}: {rec.get('message', '')}"[:300]
                shot = rec.get("screenshot")
                if isinstance(shot, str) and shot and shot not in self.screenshots:
                    self.screenshots = [*self.screenshots[-(SCREENSHOTS_KEPT - 1) :], shot]
            case Event.STOP:
                self.stop_reason = str(rec.get("reason") or "")
            case Event.RUN_FINISHED:
                self.finished = True


class RunTail:
    """One run folder's events.jsonl, read from where the last read stopped."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.path = run_dir / EVENTS_NAME
        self.offset = 0
        self.seen: tuple[int, int] | None = None  # (size, mtime_ns) at the last read
        self.mtime = 0.0
        self.model = ProgressModel()
        self.facts = RunFacts()
        self.bad_lines = 0
        self.parsed_bytes = 0  # total, for the benchmark and the tests of incremental reading

    def refresh(self) -> bool:
        """Read what was appended; False when the file did not change (nothing was read)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        key = (st.st_size, st.st_mtime_ns)
        if key == self.seen:
            return False
        if st.st_size < self.offset:  # replaced or truncated: start again
            self.__init__(self.run_dir)  # type: ignore[misc]
        self.mtime = st.st_mtime
        with self.path.open("rb") as fh:
            fh.seek(self.offset)
            data = fh.read(READ_CHUNK)
        end = data.rfind(b"\n") + 1  # consume whole lines only
        self._parse(data[:end])
        self.offset += end
        self.parsed_bytes += end
        self.seen = key if len(data) < READ_CHUNK else None  # read to the end: unchanged until it grows
        return True

    def _parse(self, data: bytes) -> None:
        for line in data.splitlines():
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                self.bad_lines += 1
                continue
            if isinstance(rec, dict) and isinstance(rec.get("event"), str):
                self.model.apply(rec)
                self.facts.apply(rec)
            else:
                self.bad_lines += 1

    def first_record(self) -> dict[str, Any] | None:
        """The first line (run_started), read on its own: enough to know whose run a folder is."""
        try:
            with self.path.open("rb") as fh:
                line = fh.readline(1 << 16)
        except OSError:
            return None
        try:
            rec = json.loads(line)
        except ValueError:
            return None
        return rec if isinstance(rec, dict) else None
