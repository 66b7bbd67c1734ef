"""The cluster source: the accounts and workers of the cluster's PostgreSQL (read through stepbatch.cluster),
and the cancel / re-queue actions. Nothing secret leaves: the DSN is shown redacted, passwords are never
stored there in the first place."""

from __future__ import annotations

from typing import Any


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
        for r in collect(self.dsn, lease_s=self.lease_s):
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
                    "report": None,  # report.html lives on the worker's machine (r.report there)
                    "screenshots": [],
                }
            )
        return out

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
