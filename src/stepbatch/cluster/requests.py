"""Run requests (`sb_run_request`): what `submit` stores and a worker reads back, and the job's fence.

A worker changes a request only while its procrastinate job is still the attempt it fetched
(`status = 'doing' AND attempts = <fetched>`), so a worker that was paused and replaced cannot
overwrite what its replacement records.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from stepbatch.workbook.models import Account, Action, Command, CommandKind, EditOp, Secret, Unit

RUN_TASK = "stepbatch.run_request"
ACCOUNT_QUEUE = "stepbatch"


def job_lock(account: str, step: str) -> str:
    """procrastinate's `lock` and `queueing_lock` of an account's jobs: one queued, one running."""
    return f"{account}/{step}"


# --- units as JSON ----------------------------------------------------------------------------------------


def unit_to_json(unit: Unit) -> dict[str, Any]:
    return asdict(unit)


def unit_from_json(data: dict[str, Any]) -> Unit:
    ops = tuple(
        EditOp(
            Action(op["action"]),
            Command(
                kind=CommandKind(op["command"]["kind"]),
                n=op["command"].get("n"),
                positions=tuple(op["command"].get("positions") or ()),
                text=op["command"].get("text"),
            ),
        )
        for op in data.get("ops", ())
    )
    return Unit(
        account=data["account"],
        step=data["step"],
        server=data["server"],
        provider_code=data["provider_code"],
        target_group=data["target_group"],
        ops=ops,
        sheet=data.get("sheet", ""),
        rows=tuple(data.get("rows") or ()),
    )


# --- the request row --------------------------------------------------------------------------------------


@dataclass
class RunRequestRow:
    """One account's run as submitted: everything but the password, which `password_ref` points to."""

    account: str  # nickname
    step: str
    server: str | None
    base_url: str
    login: dict[str, Any]  # email, operator, nickname, index (no password)
    units: list[dict[str, Any]]
    options: dict[str, Any]
    password_ref: dict[str, str]
    workbook_name: str
    skipped_rows: list[dict[str, Any]] = field(default_factory=list)
    id: int | None = None
    job_id: int | None = None
    status: str = "queued"

    def account_with(self, password: str) -> Account:
        login = self.login
        return Account(
            email=login["email"],
            password=Secret(password),
            operator=login.get("operator", ""),
            nickname=login["nickname"],
            index=int(login.get("index", 0)),
        )

    def unit_list(self) -> list[Unit]:
        return [unit_from_json(u) for u in self.units]


COLUMNS = (
    "id, account, step, server, base_url, login, units, options, password_ref, workbook_name, "
    "skipped_rows, job_id, status"
)


def insert_sql() -> str:
    return (
        "INSERT INTO sb_run_request (account, step, server, base_url, login, units, options, password_ref,"
        " workbook_name, skipped_rows) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id"
    )


def insert_params(row: RunRequestRow) -> tuple[Any, ...]:
    from psycopg.types.json import Jsonb

    return (
        row.account,
        row.step,
        row.server,
        row.base_url,
        Jsonb(row.login),
        Jsonb(row.units),
        Jsonb(row.options),
        Jsonb(row.password_ref),
        row.workbook_name,
        Jsonb(row.skipped_rows),
    )


def load_request(cur: Any, request_id: int) -> RunRequestRow | None:
    cur.execute(f"SELECT {COLUMNS} FROM sb_run_request WHERE id = %s", (request_id,))
    found = cur.fetchone()
    if found is None:
        return None
    (rid, account, step, server, base_url, login, units, options, ref, name, skipped, job_id, status) = found
    return RunRequestRow(
        account=account,
        step=step,
        server=server,
        base_url=base_url,
        login=_json(login),
        units=_json(units),
        options=_json(options),
        password_ref=_json(ref),
        workbook_name=name,
        skipped_rows=_json(skipped),
        id=rid,
        job_id=job_id,
        status=status,
    )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


FENCED_UPDATE = """
UPDATE sb_run_request r SET {sets}, updated_at = now()
 WHERE r.id = %(request_id)s AND r.job_id = %(job_id)s
   AND EXISTS (SELECT 1 FROM procrastinate_jobs j
                WHERE j.id = %(job_id)s AND j.status = 'doing' AND j.attempts = %(attempts)s)
"""


def fenced_update(cur: Any, request_id: int, job_id: int, attempts: int, **fields: Any) -> bool:
    """Set `fields` of the request if job `job_id` is still the attempt we fetched; True if it was."""
    from psycopg.types.json import Jsonb

    sets = ", ".join(f"{name} = %({name})s" for name in fields)
    values = {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in fields.items()}
    cur.execute(
        FENCED_UPDATE.format(sets=sets),
        {**values, "request_id": request_id, "job_id": job_id, "attempts": attempts},
    )
    return cur.rowcount == 1


__all__ = [
    "ACCOUNT_QUEUE",
    "RUN_TASK",
    "RunRequestRow",
    "fenced_update",
    "job_lock",
    "load_request",
    "unit_from_json",
    "unit_to_json",
]
