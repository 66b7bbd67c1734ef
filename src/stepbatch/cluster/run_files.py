"""A finished run's report, its failure screenshots and logs, kept in the cluster database.

The run folder lives on the worker's machine; `stepbatch web --db` may run on another one. So when a run
ends its worker copies `report.html` and the files the report links (screenshots, run.log, events.jsonl)
into `sb_run_file`, and the page serves them from there. The copy is best effort: the run's outcome is
recorded before it and a failing copy only logs a warning.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path, PurePosixPath
from typing import Any

from stepbatch.cluster.db import transact

log = logging.getLogger("stepbatch.cluster.run_files")

# 103: one row per file of a finished request's run folder (names relative to it, '/' separated).
RUN_FILES_SQL = """
CREATE TABLE IF NOT EXISTS sb_run_file (
    request_id  bigint NOT NULL REFERENCES sb_run_request (id) ON DELETE CASCADE,
    name        text NOT NULL,
    content     bytea NOT NULL,
    stored_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, name)
);
"""

REPORT_FILE = "report.html"
LOG_FILES = ("run.log", "events.jsonl", "summary.md")
MAX_FILE_BYTES = 8 * 1024 * 1024  # a bigger log stays on the worker's machine (said in the warning)
MAX_TOTAL_BYTES = 32 * 1024 * 1024


def files_to_keep(run_dir: Path) -> list[str]:
    """The report, the screenshots it links and the logs, as names relative to `run_dir`."""
    from stepbatch.report.events import load_run

    run = load_run(run_dir)
    shots = {s for row in run.units.values() for s in row.screenshots}
    shots |= {g.screenshot for g in run.errors if g.screenshot}
    names = [REPORT_FILE, *sorted(shots), *LOG_FILES]
    return [n for n in dict.fromkeys(names) if safe_name(n) and (run_dir / n).is_file()]


def safe_name(name: str) -> bool:
    """A plain relative name inside the run folder (no `..`, no absolute path, no backslash)."""
    if not name or "\\" in name or "\x00" in name or ":" in name:
        return False
    path = PurePosixPath(name)
    return not path.is_absolute() and all(p not in ("", ".", "..") for p in path.parts)


def store_run_files(dsn: str, request_id: int, run_dir: Path) -> int:
    """Copy the run's report and linked files into the database; returns how many were stored."""
    chosen: list[tuple[str, bytes]] = []
    total = 0
    for name in files_to_keep(run_dir):
        size = (run_dir / name).stat().st_size
        if size > MAX_FILE_BYTES or total + size > MAX_TOTAL_BYTES:
            log.warning(
                "%s of request %s (%d bytes) stays on this machine: %s", name, request_id, size, run_dir
            )
            continue
        chosen.append((name, (run_dir / name).read_bytes()))
        total += size

    def write(cur: Any) -> int:
        cur.execute("DELETE FROM sb_run_file WHERE request_id = %s", (request_id,))
        for name, content in chosen:
            cur.execute(
                "INSERT INTO sb_run_file (request_id, name, content) VALUES (%s, %s, %s)",
                (request_id, name, content),
            )
        return len(chosen)

    return transact(dsn, write, patience_s=30.0)


def store_run_files_quietly(dsn: str, request_id: int, run_dir: Path) -> None:
    try:
        store_run_files(dsn, request_id, run_dir)
    except Exception as exc:  # the run's outcome is recorded already; its files are a convenience
        log.warning("the report of request %s was not copied to the database: %s", request_id, exc)


def stored_names(dsn: str, request_ids: list[int]) -> dict[int, list[str]]:
    """The stored file names of each request (those with none are left out)."""
    if not request_ids:
        return {}

    def read(cur: Any) -> dict[int, list[str]]:
        cur.execute(
            "SELECT request_id, name FROM sb_run_file WHERE request_id = ANY(%s) ORDER BY request_id, name",
            (request_ids,),
        )
        out: dict[int, list[str]] = {}
        for request_id, name in cur.fetchall():
            out.setdefault(int(request_id), []).append(str(name))
        return out

    return transact(dsn, read)


def stored_file(dsn: str, request_id: int, name: str) -> tuple[bytes, str] | None:
    """One stored file and its media type, or None."""
    if not safe_name(name):
        return None

    def read(cur: Any) -> Any:
        cur.execute("SELECT content FROM sb_run_file WHERE request_id = %s AND name = %s", (request_id, name))
        return cur.fetchone()

    row = transact(dsn, read)
    if row is None:
        return None
    return bytes(row[0]), media_type(name)


def media_type(name: str) -> str:
    if name.endswith(".html"):
        return "text/html; charset=utf-8"
    if name.endswith((".log", ".jsonl", ".md", ".txt")):
        return "text/plain; charset=utf-8"
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


__all__ = ["RUN_FILES_SQL", "store_run_files", "store_run_files_quietly", "stored_file", "stored_names"]
