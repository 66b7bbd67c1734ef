"""A run's live progress in the cluster: an engine event listener writing `sb_run_request.live`.

Events feed a ProgressModel; its `snapshot()` is written at most every `every_s` (by a thread of its
own, so the engine never waits on the database) and once more at the end, with the run folder and the
report. The write is fenced like every request update (the job must still be the attempt fetched). A
write that fails never breaks the run: it logs one warning and the next snapshot tries again.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from stepbatch.app.progress import ProgressModel
from stepbatch.contracts.events import Event

log = logging.getLogger("stepbatch.cluster.live")


class LiveFeed:
    """`feed(rec)` is the listener (engine thread); `close(**facts)` writes the last snapshot."""

    def __init__(
        self, dsn: str, request_id: int, job_id: int, attempts: int, *, every_s: float = 2.0
    ) -> None:
        self.dsn = dsn
        self.request_id = request_id
        self.job_id = job_id
        self.attempts = attempts
        self.every_s = every_s
        self.model = ProgressModel()
        self.facts: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._pending: dict[str, Any] | None = None
        self._last_sent = 0.0
        self._wake = threading.Event()
        self._closed = False
        self._warned = False
        self._thread = threading.Thread(target=self._loop, name=f"live {request_id}", daemon=True)
        self._thread.start()

    def __call__(self, rec: dict[str, Any]) -> None:
        try:
            with self._lock:
                self.model.apply(rec)
                final = Event.parse(rec.get("event")) == Event.RUN_FINISHED
                if final or time.monotonic() - self._last_sent >= self.every_s:
                    self._pending = self._snapshot()
                    self._last_sent = time.monotonic()
                    self._wake.set()
        except Exception as exc:  # a listener must never break the run
            self._warn(exc)

    def close(self, **facts: Any) -> None:
        """The final snapshot (with `facts`, e.g. run_dir and report), written now; the thread ends."""
        with self._lock:
            if self._closed:
                return
            self.facts.update({k: v for k, v in facts.items() if v is not None})
            self._pending = None
            self._closed = True
            snapshot = self._snapshot()
        self._wake.set()
        self._thread.join(timeout=15)
        self._write(snapshot)

    def stop(self) -> None:
        """End the thread without writing (a run that raised: a lost lease records nothing more)."""
        with self._lock:
            self._pending = None
            self._closed = True
        self._wake.set()

    def _snapshot(self) -> dict[str, Any]:
        return {**self.model.snapshot(), **self.facts, "written_at": time.time()}

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                snapshot, self._pending = self._pending, None
                closed = self._closed
            if snapshot is not None:
                self._write(snapshot)
            if closed:
                return

    def _write(self, snapshot: dict[str, Any]) -> None:
        from stepbatch.cluster.db import transact
        from stepbatch.cluster.requests import fenced_update

        try:
            transact(
                self.dsn,
                lambda cur: fenced_update(cur, self.request_id, self.job_id, self.attempts, live=snapshot),
            )
        except Exception as exc:
            self._warn(exc)

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            log.warning(
                "live progress of request %s not saved (the run goes on): %s",
                self.request_id,
                " ".join(str(exc).split()).replace(self.dsn, "***")[:200],
            )


__all__ = ["LiveFeed"]
