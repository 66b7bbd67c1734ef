"""The run directory: events.jsonl, run.log, batch-NNNN.log, summary.json, artifacts/."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stepbatch.contracts.events import Event
from stepbatch.state.fsio import atomic_write_text, safe_name

Listener = Callable[[dict[str, Any]], None]

_FORMAT = logging.Formatter("%(asctime)s %(levelname)s %(message)s")
_UNLOGGED = frozenset({Event.ITEM, Event.MEMORY})  # too many for the logs; events.jsonl has them


def new_run_id(account: str, step: str, server: str | None) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return safe_name("-".join(p for p in (stamp, account, step, server) if p))


def unique_run_dir(state_dir: Path, run_id: str) -> tuple[str, Path]:
    """A fresh `runs/<run_id>/` (a suffix is added when two runs start within the same second)."""
    runs = Path(state_dir) / "runs"
    candidate, n = run_id, 1
    while True:
        path = runs / candidate
        try:
            path.mkdir(parents=True)
            return candidate, path
        except FileExistsError:
            n += 1
            candidate = f"{run_id}-{n}"


class RunRecorder:
    """Writes every event to events.jsonl and the logs, and hands it to the listeners."""

    def __init__(self, run_dir: Path, run_id: str, listeners: Iterable[Listener] = ()) -> None:
        self.run_dir = run_dir
        self.artifacts_dir = run_dir / "artifacts"
        self.artifacts_dir.mkdir(exist_ok=True)
        self.listeners = list(listeners)
        self.t0 = time.monotonic()
        self._events = open(run_dir / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self.log = logging.getLogger(f"stepbatch.run.{run_id}")
        self.log.setLevel(logging.INFO)
        self._run_handler = self._handler(run_dir / "run.log")
        self.log.addHandler(self._run_handler)
        self._batch_handler: logging.Handler | None = None

    @staticmethod
    def _handler(path: Path) -> logging.Handler:
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(_FORMAT)
        return handler

    def emit(self, event: Event, **payload: Any) -> dict[str, Any]:
        """One line of events.jsonl; `payload` is the event's TypedDict (`contracts.events.PAYLOADS`)."""
        rec = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "t": round(time.monotonic() - self.t0, 3),
            "event": event,
            **payload,
        }
        self._events.write(json.dumps(rec, ensure_ascii=False, default=str) + "\n")
        self._events.flush()
        if event not in _UNLOGGED:
            shown = " ".join(f"{k}={v}" for k, v in payload.items() if k not in ("summary", "options"))
            self.log.info("%s %s", event, shown)
        for listener in self.listeners:
            try:
                listener(rec)
            except Exception as exc:  # a broken display or notifier must never break a run
                self.log.warning("listener %r failed: %s", listener, exc)
        return rec

    def start_batch_log(self, number: int) -> None:
        self.end_batch_log()
        self._batch_handler = self._handler(self.run_dir / f"batch-{number:04d}.log")
        self.log.addHandler(self._batch_handler)

    def end_batch_log(self) -> None:
        if self._batch_handler is not None:
            self.log.removeHandler(self._batch_handler)
            self._batch_handler.close()
            self._batch_handler = None

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        atomic_write_text(
            self.run_dir / "summary.json",
            json.dumps(summary, ensure_ascii=False, indent=1, default=str) + "\n",
        )

    def relative(self, path: str | Path | None) -> str | None:
        if path is None:
            return None
        try:
            return Path(path).resolve().relative_to(self.run_dir.resolve()).as_posix()
        except ValueError:
            return str(path)

    def close(self) -> None:
        self.end_batch_log()
        self.log.removeHandler(self._run_handler)
        self._run_handler.close()
        self._events.close()
