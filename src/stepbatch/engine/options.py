"""Options of one run, shared by the CLI, the config file and the engine."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunOptions:
    step: str = "step3"
    batch_size: int = 5  # units (provider codes) per browser
    restart_above_mb: float | None = None  # recycle at an item boundary above this browser PSS
    restart_every_items: int | None = None  # recycle after this many items in one browser
    max_attempts: int = 3  # per unit, Transient/BrowserCrashed failures in a row without an item done
    max_products: int | None = None  # run-wide product limit
    max_products_per_code: int | None = None  # off by default (the old tools capped at 20)
    item_timeout: float | None = 300.0  # watchdog per item, seconds
    new_cycle: bool = False  # start again on a completed progress store
    skip_invalid: bool = False  # run the clean rows of the workbook, list the rows with errors
    translate_all: bool = False  # step3: press translate on every named image (no OCR gate)
    backoff_base: float = 2.0  # seconds; exponential with full jitter
    backoff_max: float = 60.0
