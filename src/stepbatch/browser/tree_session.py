"""What every browser session does with its process tree: PIDs, memory, hard kill, orphan record, clean-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stepbatch.browser.orphans import record_session, remove_record
from stepbatch.browser.processes import ProcessTree
from stepbatch.browser.profile import remove_profile

log = logging.getLogger(__name__)


class TreeSession:
    """Base of the Playwright and Selenium sessions; subclasses start the browser and set `_tree`."""

    kind = "?"
    profile: Path
    _tree: ProcessTree | None = None
    _closed = False
    _record_file: Path | None = None
    _session_id = ""
    _recorded: frozenset[int] = frozenset()  # the PIDs the orphan record holds

    @property
    def pids(self) -> list[int]:
        return self._tree.pids if self._tree and not self._closed else []

    def memory_mb(self) -> float:
        if self._tree is None or self._closed:
            return 0.0
        mb = self._tree.memory_mb()  # lists the tree again when due
        if self._tree.known_pids() - self._recorded:  # a new child (renderer): complete the orphan record
            self._write_record()
        return mb

    def kill(self) -> None:
        """Hard kill of the process tree by PID. Thread-safe, no driver calls: a blocked call then raises."""
        if self._tree is not None:
            self._tree.kill()

    def _release(self) -> None:
        """After the graceful close: kill leftovers, drop the orphan record, remove the profile."""
        if self._tree is not None:
            leftovers = self._tree.kill()
            if leftovers:
                log.info("killed %d browser processes left after close", len(leftovers))
        if self._record_file is not None:
            remove_record(self._record_file, self._session_id)
        if not remove_profile(self.profile):
            log.warning("could not remove the browser profile %s", self.profile)

    def _write_record(self) -> None:
        if self._record_file is None or self._tree is None:
            return
        records = self._tree.records()
        record_session(self._record_file, self._session_id, self.kind, self.profile, records)
        self._recorded = frozenset(r.pid for r in records)

    def close(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
