"""Loading a file store: the snapshot plus its journal, or recovery from the previous generation.

A damaged snapshot (empty, not JSON, wrong shape or version) is recovered from `.prev` (generation g-1)
plus the journal that led from g-1 to g plus the current journal, and moved aside, never deleted. A
snapshot from a newer stepbatch and a corrupt journal line are refused with a UserError naming the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from stepbatch.errors import UserError
from stepbatch.state.fsio import replace
from stepbatch.state.journal import read_journal, replay
from stepbatch.state.paths import StorePaths
from stepbatch.state.snapshot import ProgressDamaged, read_snapshot

_HINT = "move it away and restore a backup, or archive it with `stepbatch reset`"


@dataclass
class Loaded:
    state: dict[str, Any] | None  # None: no store there yet
    warnings: list[str]
    pending_lines: int = 0  # journal lines not yet folded into the snapshot
    torn_at: int | None = None  # where to cut a torn journal line off
    recovered: bool = False  # rebuilt from `.prev`: compact at once


def load_state(paths: StorePaths, *, readonly: bool) -> Loaded:
    snapshot = paths.snapshot
    if not snapshot.exists():
        if not paths.prev.exists():
            return Loaded(None, [])
        reason = "the file is missing"
    else:
        try:
            state = read_snapshot(snapshot)
        except ProgressDamaged as exc:
            reason = str(exc)
        else:
            journal = read_journal(paths.journal)
            applied = replay(state, journal.records)
            warnings = []
            if journal.torn:
                warnings.append(f"{paths.journal}: ignored a torn last line (the process stopped mid-write)")
            return Loaded(state, warnings, applied, journal.good_length if journal.torn else None)
    return recover_from_prev(paths, reason, readonly=readonly)


def recover_from_prev(paths: StorePaths, reason: str, *, readonly: bool) -> Loaded:
    if not paths.prev.exists():
        raise UserError(
            f"progress file {paths.snapshot} is unusable: {reason}; no previous generation "
            f"({paths.prev.name}) to recover from: {_HINT}"
        )
    try:
        state = read_snapshot(paths.prev)
    except ProgressDamaged as exc:
        raise UserError(
            f"progress file {paths.snapshot} is unusable: {reason}; its previous generation "
            f"{paths.prev.name} is unusable too ({exc}): {_HINT}"
        ) from None
    # prev (g-1) + the journal from g-1 to g + the current journal (lines of g) = the latest state.
    replay(state, read_journal(paths.journal_prev).records)
    current = read_journal(paths.journal)
    if current.records and current.records[0].get("g") == state["generation"] + 1:
        state["generation"] += 1
    replay(state, current.records)
    if paths.snapshot.exists() and not readonly:
        # Moved aside (never deleted) so the next compaction does not copy it over the good `.prev`.
        kept = paths.damaged()
        replace(paths.snapshot, kept)
        reason += f" (kept as {kept.name})"
    warning = f"progress file {paths.snapshot}: {reason}; recovered from {paths.prev.name} and the journals"
    return Loaded(state, [warning], 0, current.good_length if current.torn else None, recovered=True)


def check_writable(paths: StorePaths) -> None:
    """Refuse to start a run whose progress cannot be recorded (checked before anything is written)."""
    folder = paths.snapshot.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    for target in (folder, *(f for f in paths.all_files() if f.exists())):
        if not os.access(target, os.W_OK):
            raise UserError(
                f"{target}: not writable, so the progress cannot be recorded "
                "(check the permissions of the state folder)"
            )
