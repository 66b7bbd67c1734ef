"""Compatibility: the names `stepbatch.state.progress` had before the file store was split.

New code imports from the modules that own them: `file_store` (FileProgressStore,
DEFAULT_COMPACT_EVERY), `paths` (StorePaths, progress_path, store_name, now_iso, DEFAULT_STATE_DIR),
`snapshot` (SCHEMA_VERSION, ProgressDamaged, render_snapshot), and the Protocol in `store`.
"""

from __future__ import annotations

from stepbatch.state.file_store import DEFAULT_COMPACT_EVERY, FileProgressStore
from stepbatch.state.fsio import atomic_write_text, replace
from stepbatch.state.paths import DEFAULT_STATE_DIR, StorePaths, now_iso, progress_path, store_name
from stepbatch.state.snapshot import SCHEMA_VERSION, ProgressDamaged, render_snapshot

ProgressStore = FileProgressStore

__all__ = [
    "DEFAULT_COMPACT_EVERY",
    "DEFAULT_STATE_DIR",
    "SCHEMA_VERSION",
    "FileProgressStore",
    "ProgressDamaged",
    "ProgressStore",
    "StorePaths",
    "atomic_write_text",
    "now_iso",
    "progress_path",
    "render_snapshot",
    "replace",
    "store_name",
]
