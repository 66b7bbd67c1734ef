"""The browser as the engine sees it: something to start, measure and end."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class BrowserSession(Protocol):
    kind: str  # "playwright" | "selenium" | "fake"

    @property
    def pids(self) -> list[int]: ...  # the browser's process tree (root first), may be empty

    def memory_mb(self) -> float: ...  # PSS (or RSS where PSS is unavailable) summed over the tree

    # {"JSHeapUsedSize": MB, "JSHeapTotalSize": MB, "Nodes": count} of the page (CDP), else {}
    def page_metrics(self) -> dict[str, Any]: ...

    def is_alive(self) -> bool: ...

    def kill(self) -> None: ...  # hard kill of the process tree; safe from another thread

    def close(self) -> None: ...  # graceful close, falling back to kill; idempotent
