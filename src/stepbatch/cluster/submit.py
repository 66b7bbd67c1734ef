"""`stepbatch submit`: validate the workbook here, then queue one job per account with its units.

Workers need no shared disk: a request carries the account's units, options and site address. The
password stays out of PostgreSQL: the request names where the worker finds it (`password_ref`).
Submitting an account × step that is already queued or running is refused (exit 3) and nothing is
written; all submits serialise on one advisory lock, so two at once cannot both pass that check.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlparse

from stepbatch.cluster.requests import (
    ACCOUNT_QUEUE,
    RUN_TASK,
    RunRequestRow,
    insert_params,
    insert_sql,
    job_lock,
    unit_to_json,
)
from stepbatch.engine.options import RunOptions
from stepbatch.errors import EXIT_LOCKED, EXIT_OK, UserError
from stepbatch.text import plural
from stepbatch.workbook import Workbook
from stepbatch.workbook.models import Account

PASSWORD_ENV_PREFIX = "STEPBATCH_PASSWORD_"
_DEFER_SQL = (
    "SELECT unnest(procrastinate_defer_jobs_v1("
    "ARRAY[ROW(%s, %s, 0, %s, %s, %s, NULL)::procrastinate_job_to_defer_v1])) AS id"
)


@dataclass
class SubmitRequest:
    step: str
    workbook: Path
    accounts: str  # "all" or "A,B" (emails, nicknames or account_N)
    dsn: str
    base_url: str
    server: str | None = None
    options: RunOptions | None = None
    password_env: bool = False  # the worker reads STEPBATCH_PASSWORD_<NICKNAME>, not the workbook


def password_env_name(nickname: str) -> str:
    return PASSWORD_ENV_PREFIX + nickname.upper()


def pick_accounts(book: Workbook, spec: str) -> list[Account]:
    if spec.strip().lower() == "all":
        if not book.accounts:
            raise UserError(f"--workbook {book.path}: no accounts in login_id")
        return list(book.accounts)
    names = [name.strip() for name in spec.split(",") if name.strip()]
    if not names:
        raise UserError("--accounts: expected `all` or names such as RTA,KBC")
    picked: dict[str, Account] = {}
    for name in names:
        account = book.account(name)
        picked.setdefault(account.nickname, account)
    return list(picked.values())


def build_requests(req: SubmitRequest) -> list[RunRequestRow]:
    """Every check that needs no database: step, options, URL, workbook, accounts, their rows."""
    from stepbatch.app.preflight import select_run_units
    from stepbatch.app.processors import check_step
    from stepbatch.app.run import check_options, read_workbook

    check_step(req.step)
    options = replace(req.options or RunOptions(), step=req.step)
    check_options(options)
    check_url(req.base_url)
    book = read_workbook(req.workbook)
    workbook = Path(req.workbook).resolve()
    rows = []
    for account in pick_accounts(book, req.accounts):
        selection = select_run_units(book, account, req.step, req.server, skip_invalid=options.skip_invalid)
        ref = (
            {"env": password_env_name(account.nickname)}
            if req.password_env
            else {"workbook": str(workbook), "account": account.nickname}
        )
        rows.append(
            RunRequestRow(
                account=account.nickname,
                step=req.step,
                server=req.server,
                base_url=req.base_url,
                login={
                    "email": account.email,
                    "operator": account.operator,
                    "nickname": account.nickname,
                    "index": account.index,
                },
                units=[unit_to_json(u) for u in selection.units],
                options=asdict(options),
                password_ref=ref,
                workbook_name=workbook.name,
                skipped_rows=[row.to_dict() for row in selection.skipped],
            )
        )
    return rows


def check_url(base_url: str) -> None:
    parsed = urlparse(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise UserError(f"--base-url {base_url!r}: expected an http(s) URL")


def submit(req: SubmitRequest, *, out: TextIO) -> int:
    from stepbatch.cluster.db import transact

    rows = build_requests(req)

    def work(cur: Any) -> list[tuple[RunRequestRow, int, int]]:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('stepbatch-submit'))")
        require_schema(cur)
        refuse_busy(cur, rows)
        return [(row, *queue_one(cur, row)) for row in rows]

    for row, request_id, job_id in transact(req.dsn, work):
        scope = f"{row.step} {row.server}" if row.server else row.step
        out.write(
            f"submitted {row.account} {scope}: {plural(len(row.units), 'code')} "
            f"(request {request_id}, job {job_id})\n"
        )
    return EXIT_OK


def require_schema(cur: Any) -> None:
    cur.execute(
        "SELECT to_regclass('procrastinate_jobs'), to_regclass('sb_run_request'), to_regclass('sb_worker')"
    )
    jobs, requests, workers = cur.fetchone()
    if jobs is None or requests is None:
        raise UserError("the database has no stepbatch tables yet: run `stepbatch db init --db …` first")
    if workers is None:  # migration 101 (the control plane) not applied yet
        raise UserError(
            "the database's stepbatch tables are older than this stepbatch: run `stepbatch db init --db …`"
        )


def refuse_busy(cur: Any, rows: list[RunRequestRow]) -> None:
    locks = [job_lock(row.account, row.step) for row in rows]
    cur.execute(
        "SELECT lock, id, status FROM procrastinate_jobs WHERE lock = ANY(%s) "
        "AND status IN ('todo', 'doing') ORDER BY id",
        (locks,),
    )
    busy = cur.fetchall()
    if busy:
        lock, job_id, status = busy[0]
        account, _, step = lock.partition("/")
        state = "running" if status == "doing" else "queued"
        more = f" (and {len(busy) - 1} more)" if len(busy) > 1 else ""
        raise UserError(
            f"{account} {step} is already {state} (job {job_id}){more}; nothing submitted",
            exit_code=EXIT_LOCKED,
        )
    from stepbatch.cluster.chains import refuse_waiting

    refuse_waiting(cur, rows)  # a chain's later step has no job yet


def queue_one(cur: Any, row: RunRequestRow) -> tuple[int, int]:
    from psycopg.types.json import Jsonb

    cur.execute(insert_sql(), insert_params(row))
    request_id = cur.fetchone()[0]
    lock = job_lock(row.account, row.step)
    cur.execute(_DEFER_SQL, (ACCOUNT_QUEUE, RUN_TASK, lock, lock, Jsonb({"request_id": request_id})))
    job_id = cur.fetchone()[0]
    cur.execute("UPDATE sb_run_request SET job_id = %s WHERE id = %s", (job_id, request_id))
    return request_id, job_id


__all__ = ["SubmitRequest", "build_requests", "password_env_name", "pick_accounts", "submit"]
