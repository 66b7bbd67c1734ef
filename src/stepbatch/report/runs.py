"""Finding run folders: `<state>/runs/<run_id>/`."""

from __future__ import annotations

from pathlib import Path

from stepbatch.errors import UserError
from stepbatch.report.events import EVENTS_NAME

LATEST = "latest"


def list_runs(state_dir: Path) -> list[Path]:
    """Run folders, oldest first (run ids start with a UTC timestamp, so names sort by start time)."""
    runs = Path(state_dir) / "runs"
    if not runs.is_dir():
        return []
    found = [p for p in runs.iterdir() if p.is_dir() and (p / EVENTS_NAME).is_file()]
    return sorted(found, key=lambda p: (p.name[:15], p.stat().st_mtime, p.name))


def find_run(state_dir: Path, run: str = LATEST) -> Path:
    """`latest`, a run id, a unique prefix of one, or a path to a run folder."""
    as_path = Path(run)
    if run != LATEST and (as_path / EVENTS_NAME).is_file():
        return as_path
    runs = list_runs(state_dir)
    where = Path(state_dir) / "runs"
    if not runs:
        raise UserError(f"{where}: no runs found (use --state-dir to point at another state folder)")
    if run == LATEST:
        return runs[-1]
    exact = [p for p in runs if p.name == run]
    if exact:
        return exact[0]
    matches = [p for p in runs if p.name.startswith(run)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = ", ".join(p.name for p in matches[:5])
        raise UserError(f"run {run!r} is ambiguous in {where}: {names}")
    raise UserError(f"run {run!r} not found in {where} (latest is {runs[-1].name})")
