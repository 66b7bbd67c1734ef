"""When a run stops, a browser is recycled or a unit has had enough: one small class per option.

Like Scrapy's closespider/memusage extensions, each limit reads its own `RunOptions` field and is asked at
every item boundary; `Limits` keeps the verdicts (`stop_reason`, `recycle_reason`) that `ctx.should_stop()`
and the batch loop read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from stepbatch.engine.options import RunOptions


@dataclass(frozen=True)
class Boundary:
    """What the limits see at an item boundary (an item done or failed)."""

    run_items: int  # items finished in this run
    browser_items: int  # items finished in the current browser
    memory_mb: float | None  # the browser's memory just sampled; None when it could not be measured


class MaxProducts:
    """`max_products`: the run stops once it finished this many items (done or failed)."""

    reason = "max_products"

    def __init__(self, options: RunOptions) -> None:
        self.cap = options.max_products

    def stop_reason(self, at: Boundary) -> str | None:
        return self.reason if self.cap and at.run_items >= self.cap else None


class RecycleByMemory:
    """`restart_above_mb`: a fresh browser once the current one uses more memory than this."""

    reason = "memory"

    def __init__(self, options: RunOptions) -> None:
        self.limit = options.restart_above_mb

    def recycle_reason(self, at: Boundary) -> str | None:
        over = self.limit and at.memory_mb is not None and at.memory_mb > self.limit
        return self.reason if over else None


class RecycleByItems:
    """`restart_every_items`: a fresh browser after this many items in one browser."""

    reason = "items"

    def __init__(self, options: RunOptions) -> None:
        self.every = options.restart_every_items

    def recycle_reason(self, at: Boundary) -> str | None:
        return self.reason if self.every and at.browser_items >= self.every else None


class MaxProductsPerCode:
    """`max_products_per_code`: a unit stops after this many items in one run; it stays partial."""

    reason = "max_products_per_code"

    def __init__(self, options: RunOptions) -> None:
        self.cap = options.max_products_per_code

    def reached(self, unit_items: int) -> bool:
        return bool(self.cap and unit_items >= self.cap)


class Limits:
    """The run's stop and recycle state, fed by the limits above, signals and `StopAccount`."""

    def __init__(self, options: RunOptions) -> None:
        self.stops = (MaxProducts(options),)
        self.recycles = (RecycleByMemory(options), RecycleByItems(options))  # the first due names it
        self.per_code = MaxProductsPerCode(options)
        self.stop_reason: str | None = None
        self.recycle_reason: str | None = None
        self.stop_event = threading.Event()  # set with the stop: cuts a backoff wait short

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.stop_event.set()

    def item_boundary(self, at: Boundary) -> None:
        for limit in self.stops:
            reason = limit.stop_reason(at)
            if reason:
                self.request_stop(reason)
        for recycle in self.recycles:
            self.recycle_reason = self.recycle_reason or recycle.recycle_reason(at)

    def recycled(self) -> None:
        """A browser was closed: whatever recycle was due is done."""
        self.recycle_reason = None

    @property
    def signalled(self) -> bool:
        return bool(self.stop_reason and self.stop_reason.startswith("signal"))

    def why_stop(self, unit_items: int) -> str | None:
        """Why the processor should return now (`ctx.should_stop()`), or None to go on."""
        if self.stop_reason or self.recycle_reason:
            return self.stop_reason or self.recycle_reason
        return self.per_code.reason if self.per_code.reached(unit_items) else None

    def should_stop(self, unit_items: int) -> bool:
        return self.why_stop(unit_items) is not None


__all__ = [
    "Boundary",
    "Limits",
    "MaxProducts",
    "MaxProductsPerCode",
    "RecycleByItems",
    "RecycleByMemory",
]
