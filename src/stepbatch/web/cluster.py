"""The cluster source: the accounts and workers of the cluster's PostgreSQL (read through stepbatch.cluster),
and the cancel / re-queue actions. Nothing secret leaves: the DSN is shown redacted, passwords are never
stored there in the first place."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

RUN_FILES_URL = "/runfiles"  # /runfiles/<request id>/<name>: a finished run's files from the database


def dsn_password(dsn: str) -> str | None:
    try:
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(dsn).get("password") or None  # type: ignore[return-value]
    except Exception:  # a DSN psycopg cannot parse has no password we could find either
        return None


class ClusterSource:
    mode = "cluster"

    def __init__(self, dsn: str, *, lease_s: float = 30.0, stale_s: float = 30.0) -> None:
        self.dsn = dsn
        self.lease_s = lease_s
        self.stale_s = stale_s

    def describe(self) -> str:
        from stepbatch.cluster.db import redact_dsn

        return redact_dsn(self.dsn)

    def rows(self) -> list[dict[str, Any]]:
        from stepbatch.cluster.status import collect

        out = []
        collected = collect(self.dsn, lease_s=self.lease_s)
        files = self._files([r.request_id for r in collected if r.request_id is not None])
        for r in collected:
            report, shots = files.get(r.request_id or -1, (None, []))
            out.append(
                {
                    "account": r.account,
                    "step": r.step,
                    "server": r.server,
                    "status": r.state,
                    "worker": r.worker,
                    "code": r.current_code,
                    "product": r.current_product,
                    "products_done": r.products_done,
                    "products_failed": r.products_failed,
                    "products_found": r.products_found,
                    "products_more": r.products_more,
                    "codes_done": r.codes_done,
                    "codes_total": r.codes_total,
                    "eta_s": r.eta_s,
                    "browser_mb": r.memory_mb,
                    "memory": [mb for _, mb in r.memory],
                    "retries": r.retries,
                    "relogins": r.relogins,
                    "heartbeat_age_s": r.heartbeat_age_s,
                    "last_error": r.last_error,
                    "cancel_requested": r.cancel_requested,
                    "report": report,  # copied into the database by the worker at the run's end
                    "screenshots": shots,
                }
            )
        return out

    def _files(self, request_ids: list[int]) -> dict[int, tuple[str | None, list[str]]]:
        from stepbatch.cluster.run_files import LOG_FILES, REPORT_FILE, stored_names

        out: dict[int, tuple[str | None, list[str]]] = {}
        for request_id, names in stored_names(self.dsn, request_ids).items():
            url = f"{RUN_FILES_URL}/{request_id}/"
            report = url + REPORT_FILE if REPORT_FILE in names else None
            shots = [url + quote(n) for n in names if n != REPORT_FILE and n not in LOG_FILES]
            out[request_id] = (report, shots)
        return out

    def stored_file(self, request_id: int, name: str) -> tuple[bytes, str] | None:
        from stepbatch.cluster.run_files import stored_file

        return stored_file(self.dsn, request_id, name)

    def workers(self) -> list[dict[str, Any]]:
        from dataclasses import asdict

        from stepbatch.cluster.workers import collect_workers

        return [asdict(w) for w in collect_workers(self.dsn, stale_s=self.stale_s)]

    def cancel(self, account: str, step: str) -> str:
        from stepbatch.cluster.control import cancel_run

        return cancel_run(self.dsn, account, step)

    def requeue(self, account: str, step: str) -> str:
        from stepbatch.cluster.control import requeue_run

        return requeue_run(self.dsn, account, step)
