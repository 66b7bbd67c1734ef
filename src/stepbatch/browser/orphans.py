"""Browsers that outlived their runner.

While a session is alive it records its process tree (pid + create time) and its profile folder in
`<state_dir>/browsers/<account>.json`. If the runner is SIGKILLed nothing removes that file, so the
next run of the account calls `kill_recorded_orphans` first and ends whatever is still there.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from stepbatch.browser.processes import ProcRecord, find_by_cmdline_marker, kill_processes
from stepbatch.browser.profile import is_our_profile, remove_profile
from stepbatch.errors import UserError
from stepbatch.state.fsio import atomic_write_bytes, fsync_dir, safe_name

log = logging.getLogger("stepbatch.browser")

CREATE_TIME_TOLERANCE_S = 0.05


@dataclass
class BrowserRecord:
    session: str  # a random id, so one session never removes another's record
    kind: str
    profile: str
    owner_pid: int
    owner_create_time: float
    procs: list[ProcRecord] = field(default_factory=list)


def record_path(state_dir: Path, account: str) -> Path:
    return Path(state_dir) / "browsers" / f"{safe_name(account)}.json"


def write_record(path: Path, record: BrowserRecord) -> None:
    """Atomic and durable, like the progress files."""
    atomic_write_bytes(path, json.dumps(asdict(record), ensure_ascii=False, indent=1).encode("utf-8"))


def record_session(path: Path, session: str, kind: str, profile: Path, procs: list[ProcRecord]) -> None:
    """Write the record of a live session owned by this process."""
    me = psutil.Process(os.getpid())
    write_record(path, BrowserRecord(session, kind, str(profile), me.pid, me.create_time(), procs))


def read_record(path: Path) -> BrowserRecord | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        procs = [ProcRecord(int(p["pid"]), float(p["create_time"])) for p in raw["procs"]]
        return BrowserRecord(
            raw["session"],
            raw["kind"],
            raw["profile"],
            int(raw["owner_pid"]),
            float(raw["owner_create_time"]),
            procs,
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(
            f"{path}: damaged browser record ({type(exc).__name__}); check that no browser of this "
            "account is running, then delete the file"
        ) from None


def remove_record(path: Path, session: str) -> None:
    """Remove the record if it is still this session's (a newer session may have replaced it)."""
    try:
        current = read_record(path)
    except UserError:
        return
    if current is not None and current.session == session:
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)


def kill_recorded_orphans(state_dir: Path, account: str) -> list[int]:
    """End every recorded process of `account` that still runs (same pid and create time) and every
    process still using the recorded profile; delete that profile and the record. Returns killed pids."""
    path = record_path(state_dir, account)
    record = read_record(path)
    if record is None:
        return []
    owner = _same_process(ProcRecord(record.owner_pid, record.owner_create_time))
    if owner is not None and owner.pid != os.getpid():
        log.warning("%s: its owner (pid %d) still runs; leaving its browser alone", path, owner.pid)
        return []
    procs = [p for p in (_same_process(r) for r in record.procs) if p is not None]
    if record.profile:
        procs += find_by_cmdline_marker(record.profile)
    unique = list({p.pid: p for p in procs if p.pid != os.getpid()}.values())
    killed = kill_processes(unique)
    if killed:
        log.warning("killed %d leftover browser processes of %s: %s", len(killed), account, killed)
    profile = Path(record.profile)
    if record.profile and is_our_profile(profile):
        remove_profile(profile)
    path.unlink(missing_ok=True)
    fsync_dir(path.parent)
    return killed


def _same_process(rec: ProcRecord) -> psutil.Process | None:
    try:
        proc = psutil.Process(rec.pid)
        if abs(proc.create_time() - rec.create_time) <= CREATE_TIME_TOLERANCE_S:
            return proc
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        pass
    return None
