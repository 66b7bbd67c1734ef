"""Schedules: a `submit` command stored with a cron line, fired by the workers every due minute.

`stepbatch schedule add --cron "0 9 * * *" --name morning -- run step2,step3 --workbook WB --accounts all`
parses and checks the command as `submit` would (workbook, accounts, rows, options: one-line errors, exit 2,
nothing stored) and stores its parsed form in `sb_schedule` (no password: the requests it makes carry the
same `password_ref` as a submit's). The cron line is read in the schedule's time zone (`--tz`, default the
adding machine's UTC offset).

Every worker runs the periodic task `stepbatch.schedules` each minute (on the reaper's queue). `tick`
moves chains on (`chains.sweep`) and fires every schedule due at that minute: the firing is claimed with a
conditional UPDATE of `last_fired_for` (so one firing per schedule and due minute, however many workers),
then, per account, one chain of requests as `submit` stores them — unless the previous firing of that
schedule for that account is still queued, running or waiting in its chain (or another submit holds the
account × step): then a `skipped` request records why (`previous firing of schedule morning still
running …`). The workbook is read again at firing time, on the worker (the path stored at add time): if
it cannot be used then, nothing is queued and `schedule list` shows the error. A due minute missed by more
than MISSED_AFTER_S (no worker was running) is not made up.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stepbatch.errors import UserError

log = logging.getLogger("stepbatch.cluster.schedules")

SCHEDULE_TASK = "stepbatch.schedules"
SCHEDULE_LOCK = "stepbatch/schedules"
MISSED_AFTER_S = 600.0
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
OFFSET_RE = re.compile(r"^UTC(?:([+-])(\d{2}):(\d{2}))?$")

SCHEDULE_SQL = """
CREATE TABLE IF NOT EXISTS sb_schedule (
    name           text PRIMARY KEY,
    cron           text NOT NULL,
    tz             text NOT NULL,
    command        jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_fired_for timestamptz,
    last_fired_at  timestamptz,
    last_result    text
);
"""

_CLAIM_SQL = """
UPDATE sb_schedule SET last_fired_for = %(due)s, last_fired_at = now(), last_result = 'firing'
 WHERE name = %(name)s AND (last_fired_for IS NULL OR last_fired_for < %(due)s)
RETURNING name
"""
_PREVIOUS_SQL = """
SELECT r.id, r.step,
       CASE WHEN r.status = 'waiting' THEN 'waiting in its chain'
            WHEN j.status = 'doing' THEN 'running' ELSE 'queued' END
  FROM sb_run_request r LEFT JOIN procrastinate_jobs j ON j.id = r.job_id
 WHERE r.schedule = %(name)s AND r.account = %(account)s
   AND (r.status = 'waiting' OR j.status IN ('todo', 'doing'))
 ORDER BY r.id LIMIT 1
"""


@dataclass
class Schedule:
    name: str
    cron: str
    tz: str
    command: dict[
        str, Any
    ]  # steps, args (as typed), workbook, accounts, server, base_url, password_env, options
    created_at: dt.datetime | None = None
    last_fired_for: dt.datetime | None = None
    last_fired_at: dt.datetime | None = None
    last_result: str | None = None


# --- cron and time zones --------------------------------------------------------------------------------


def local_offset() -> str:
    """This machine's UTC offset now, as a schedule's time zone (`UTC+09:00`)."""
    offset = dt.datetime.now().astimezone().utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone(tz: str) -> dt.tzinfo:
    """`UTC`, `UTC+09:00` or an IANA name such as Asia/Seoul (one-line UserError otherwise)."""
    match = OFFSET_RE.match(tz)
    if match:
        sign, hours, minutes = match.groups()
        if sign is None:
            return dt.UTC
        delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
        return dt.timezone(-delta if sign == "-" else delta)
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(tz)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise UserError(f"--tz {tz!r}: expected UTC, UTC+09:00 or a zone name such as Asia/Seoul") from None


def check_cron(cron: str) -> str:
    from croniter import croniter

    cron = " ".join(cron.split())
    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise UserError(
            f"--cron {cron!r}: expected 5 fields (minute hour day month weekday), e.g. '0 9 * * *'"
        )
    return cron


def latest_due(cron: str, tz: str, now: dt.datetime) -> dt.datetime:
    """The latest minute at or before `now` that `cron` names (in `tz`), as an aware UTC time."""
    from croniter import croniter

    local = now.astimezone(zone(tz)).replace(second=0, microsecond=0)
    due = croniter(cron, local + dt.timedelta(seconds=1)).get_prev(dt.datetime)
    return due.astimezone(dt.UTC)


def next_due(cron: str, tz: str, now: dt.datetime) -> dt.datetime:
    from croniter import croniter

    return croniter(cron, now.astimezone(zone(tz))).get_next(dt.datetime).astimezone(dt.UTC)


# --- add, list, remove ----------------------------------------------------------------------------------


def command_of(reqs: list[Any], args: list[str]) -> dict[str, Any]:
    """What a schedule stores of the SubmitRequests (one per step) its command line meant."""
    first = reqs[0]
    return {
        "args": args,
        "steps": [r.step for r in reqs],
        "workbook": str(Path(first.workbook).resolve()),
        "accounts": first.accounts,
        "server": first.server,
        "base_url": first.base_url,
        "password_env": first.password_env,
        "options": {r.step: asdict(r.options) for r in reqs},
    }


def requests_of(command: dict[str, Any], dsn: str) -> list[Any]:
    from stepbatch.cluster.submit import SubmitRequest
    from stepbatch.engine.options import RunOptions

    known = {f.name for f in fields(RunOptions)} - {"step"}
    return [
        SubmitRequest(
            step=step,
            workbook=Path(command["workbook"]),
            accounts=command["accounts"],
            dsn=dsn,
            base_url=command["base_url"],
            server=command.get("server"),
            options=RunOptions(
                step=step, **{k: v for k, v in command["options"].get(step, {}).items() if k in known}
            ),
            password_env=bool(command.get("password_env")),
        )
        for step in command["steps"]
    ]


def add_schedule(dsn: str, name: str, cron: str, tz: str | None, reqs: list[Any], args: list[str]) -> str:
    """Check everything, then store the schedule; returns a one-line message. Nothing stored on a mistake."""
    from stepbatch.cluster.chains import build_chains, require_chains
    from stepbatch.cluster.db import transact
    from stepbatch.cluster.submit import require_schema

    if not NAME_RE.match(name):
        raise UserError(f"--name {name!r}: letters, digits, '.', '_' or '-' (up to 40), e.g. morning")
    cron = check_cron(cron)
    tz = tz or local_offset()
    zone(tz)
    build_chains(reqs)  # the workbook, accounts, rows and options, as submit checks them
    command = command_of(reqs, args)

    def work(cur: Any) -> None:
        from psycopg.types.json import Jsonb

        require_schema(cur)
        require_chains(cur)
        cur.execute(
            "INSERT INTO sb_schedule (name, cron, tz, command) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (name) DO NOTHING RETURNING name",
            (name, cron, tz, Jsonb(command)),
        )
        if cur.fetchone() is None:
            raise UserError(f"schedule {name!r} exists already (stepbatch schedule remove {name} first)")

    transact(dsn, work)
    when = next_due(cron, tz, dt.datetime.now(dt.UTC)).astimezone(zone(tz))
    return f"schedule {name} added: {cron} ({tz}), next {when:%Y-%m-%d %H:%M}: {display(command)}"


def display(command: dict[str, Any]) -> str:
    return " ".join(command.get("args") or [])


def list_schedules(dsn: str) -> list[Schedule]:
    from stepbatch.cluster.chains import require_chains
    from stepbatch.cluster.db import transact
    from stepbatch.cluster.submit import require_schema

    def work(cur: Any) -> list[tuple]:
        require_schema(cur)
        require_chains(cur)
        cur.execute(
            "SELECT name, cron, tz, command, created_at, last_fired_for, last_fired_at, last_result "
            "FROM sb_schedule ORDER BY name"
        )
        return cur.fetchall()

    return [Schedule(n, c, tz, _json(cmd), *rest) for n, c, tz, cmd, *rest in transact(dsn, work)]


def remove_schedule(dsn: str, name: str) -> str:
    from stepbatch.cluster.db import transact

    def work(cur: Any) -> int:
        cur.execute("DELETE FROM sb_schedule WHERE name = %s", (name,))
        return cur.rowcount

    if not transact(dsn, work):
        raise UserError(f"no schedule named {name!r} (see `stepbatch schedule list`)")
    return f"schedule {name} removed (requests it queued stay queued)"


def format_schedules(rows: list[Schedule], now: dt.datetime | None = None) -> str:
    from io import StringIO

    from rich.console import Console
    from rich.table import Table

    now = now or dt.datetime.now(dt.UTC)
    table = Table(title="schedules")
    for column in ("name", "cron", "time zone", "next", "last fired", "last result", "command"):
        table.add_column(column)
    for s in rows:
        tzinfo = zone(s.tz)
        fired = s.last_fired_for.astimezone(tzinfo).strftime("%Y-%m-%d %H:%M") if s.last_fired_for else "-"
        table.add_row(
            s.name,
            s.cron,
            s.tz,
            next_due(s.cron, s.tz, now).astimezone(tzinfo).strftime("%Y-%m-%d %H:%M"),
            fired,
            (s.last_result or "-")[:60],
            display(s.command),
        )
    buffer = StringIO()
    Console(file=buffer, width=160, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# --- firing ---------------------------------------------------------------------------------------------


def tick(dsn: str, timestamp: float) -> list[str]:
    """The periodic task's body: chains moved on, then every schedule due at `timestamp` fired."""
    from stepbatch.cluster.chains import sweep
    from stepbatch.cluster.db import transact

    moved = transact(dsn, sweep)
    if moved:
        log.info("chains: %s request(s) moved on after their previous step ended", moved)
    return fire_due(dsn, dt.datetime.fromtimestamp(timestamp, dt.UTC))


def fire_due(dsn: str, now: dt.datetime) -> list[str]:
    """Fire every schedule due at `now` that nobody fired for that minute yet; one line per firing."""
    lines = []
    for schedule in list_schedules(dsn):
        due = latest_due(schedule.cron, schedule.tz, now)
        if schedule.created_at is not None and due <= schedule.created_at:
            continue  # named a minute before it was added
        if schedule.last_fired_for is not None and due <= schedule.last_fired_for:
            continue
        if (now - due).total_seconds() > MISSED_AFTER_S:
            continue
        line = fire(dsn, schedule, due)
        if line:
            log.info("%s", line)
            lines.append(line)
    return lines


def fire(dsn: str, schedule: Schedule, due: dt.datetime) -> str | None:
    """Claim `due` for `schedule` and queue its chains (or record why not); None: claimed elsewhere."""
    from stepbatch.cluster.chains import SUBMIT_LOCK_SQL, build_chains
    from stepbatch.cluster.db import transact

    try:
        chains, error = build_chains(requests_of(schedule.command, dsn)), None
    except UserError as exc:  # the workbook as it is now, on this worker
        chains, error = [], str(exc)

    def work(cur: Any) -> str | None:
        cur.execute(SUBMIT_LOCK_SQL)
        cur.execute(_CLAIM_SQL, {"due": due, "name": schedule.name})
        if cur.fetchone() is None:
            return None  # another worker fired this minute
        queued, skipped = [], []
        for chain in chains:
            why = previous_firing(cur, schedule.name, chain[0].account) or _busy(cur, chain)
            _store(cur, chain, schedule.name, due, why)
            (skipped if why else queued).append(chain[0].account)
        result = f"error: {error}" if error else _result(queued, skipped)
        cur.execute("UPDATE sb_schedule SET last_result = %s WHERE name = %s", (result[:500], schedule.name))
        return f"schedule {schedule.name} fired for {due:%Y-%m-%d %H:%M} UTC: {result}"

    return transact(dsn, work)


def previous_firing(cur: Any, name: str, account: str) -> str | None:
    cur.execute(_PREVIOUS_SQL, {"name": name, "account": account})
    found = cur.fetchone()
    if found is None:
        return None
    request_id, step, state = found
    return f"previous firing of schedule {name} still {state} ({account} {step}, request {request_id})"


def _busy(cur: Any, chain: list[Any]) -> str | None:
    from stepbatch.cluster.chains import busy_reason

    for row in chain:
        why = busy_reason(cur, row.account, row.step)
        if why:
            return why
    return None


def _store(cur: Any, chain: list[Any], name: str, due: dt.datetime, why: str | None) -> None:
    from stepbatch.cluster.chains import store_chain

    store_chain(cur, chain, schedule=name, fired_for=due, skipped_why=why)


def _result(queued: list[str], skipped: list[str]) -> str:
    parts = [f"queued {', '.join(queued)}" if queued else "queued nothing"]
    if skipped:
        parts.append(f"skipped {', '.join(skipped)} (previous firing or another run still busy)")
    return "; ".join(parts)


__all__ = [
    "SCHEDULE_SQL",
    "SCHEDULE_TASK",
    "Schedule",
    "add_schedule",
    "fire",
    "fire_due",
    "format_schedules",
    "latest_due",
    "list_schedules",
    "remove_schedule",
    "tick",
]
