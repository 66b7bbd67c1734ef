"""`PgProgressStore`: the progress of one account × step × server in PostgreSQL.

Meets the `stepbatch.state.store.ProgressStore` contract, with the file store's semantics (the same
`apply_record` computes how a unit or item change moves the counters):

- Durable on return: a mutation is one transaction, the lease's fence check first (`PgLease.check`),
  then the rows it changes, then COMMIT. A refused fence raises `LeaseLost` and writes nothing.
- Reads come from an in-memory copy, loaded at open and updated after each commit (never before: a
  refused or failed write leaves the copy as the database has it).
- A dropped connection (the server restarted, the network blinked) is reopened and the transaction
  retried for up to `RETRY_S`; every write sets rows to absolute values, so a retry after a COMMIT whose
  answer was lost repeats nothing.
- Compaction means nothing here (each commit is already its own rows): `compact()` does nothing.

Not thread-safe: one runner thread owns it.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from stepbatch.contracts.records import ItemRecord, RunRecord, UnitRecord
from stepbatch.contracts.status import ItemStatus, UnitStatus
from stepbatch.errors import UserError
from stepbatch.state.journal import apply_record
from stepbatch.state.paths import now_iso, store_name
from stepbatch.state.pg.connect import Session, connect, redact_dsn
from stepbatch.state.pg.lease import PgLease
from stepbatch.state.pg.migrations import ensure_schema
from stepbatch.state.snapshot import fresh_state, new_unit
from stepbatch.workbook.models import Unit

log = logging.getLogger(__name__)

RETRY_S = 60.0  # how long a write keeps reconnecting before it gives up (connect.Session)

_SCOPE = "account = %(account)s AND step = %(step)s AND server = %(server)s"
_UPSERT_UNIT = (
    "INSERT INTO sb_unit (account, step, server, unit_key, ord, record)"
    " VALUES (%(account)s, %(step)s, %(server)s, %(key)s, %(ord)s, %(record)s)"
    " ON CONFLICT (account, step, server, unit_key)"
    " DO UPDATE SET ord = EXCLUDED.ord, record = EXCLUDED.record"
)
_UPSERT_ITEM = (
    "INSERT INTO sb_item (account, step, server, unit_key, item_id, record)"
    " VALUES (%(account)s, %(step)s, %(server)s, %(key)s, %(item)s, %(record)s)"
    " ON CONFLICT (account, step, server, unit_key, item_id) DO UPDATE SET record = EXCLUDED.record"
)
_UPSERT_RUN = (
    "INSERT INTO sb_run (account, step, server, run_id, record)"
    " VALUES (%(account)s, %(step)s, %(server)s, %(run)s, %(record)s)"
    " ON CONFLICT (account, step, server, run_id) DO UPDATE SET record = EXCLUDED.record"
)

Work = Callable[[psycopg.Cursor[Any]], None]


def fresh_meta(account: str, step: str, server: str | None) -> dict[str, Any]:
    meta = fresh_state(account, step, server)
    for key in ("units", "runs", "generation"):
        meta.pop(key)
    return meta


class PgProgressStore:
    """Progress of one account × step × server, each change one fenced transaction."""

    def __init__(
        self, dsn: str, account: str, step: str, server: str | None, *, lease: PgLease | None, readonly: bool
    ) -> None:
        self.dsn = dsn
        self.account, self.step, self.server = account, step, server
        self.lease = lease
        self.readonly = readonly
        self.warnings: list[str] = []
        self.owns_lease = False  # PgBackend.open_store took the lease for this store: released at close
        self._scope = {"account": account, "step": step, "server": server or ""}
        self._session = Session(dsn, retry_s=RETRY_S)
        self._meta: dict[str, Any] = {}
        self._units: dict[str, dict[str, Any]] = {}  # unit records without their items
        self._items: dict[str, dict[str, dict[str, Any]]] = {}  # unit key → item id → record
        self._runs: list[dict[str, Any]] = []

    # -- opening ---------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        dsn: str,
        account: str,
        step: str,
        server: str | None,
        *,
        lease: PgLease | None,
        readonly: bool = False,
    ) -> PgProgressStore:
        """Load (or, unless `readonly`, create) the store. Writes are fenced by `lease`; without one they
        are not (only for tools that hold no lease; `PgBackend` always passes one). UserError when the
        database cannot be reached or (readonly) holds no such store."""
        store = cls(dsn, account, step, server, lease=lease, readonly=readonly)
        holder = lease is not None
        conn = connect(dsn, holder=holder)
        store._session = Session(dsn, retry_s=RETRY_S, conn=conn, holder=holder)
        try:
            ensure_schema(conn, dsn)
            if not store._load():
                if readonly:
                    raise UserError(f"no progress in {store.location}")
                store._meta = fresh_meta(account, step, server)
                meta = Jsonb(store._meta)
                store._transaction(
                    lambda cur: cur.execute(
                        "INSERT INTO sb_progress (account, step, server, meta)"
                        " VALUES (%(account)s, %(step)s, %(server)s, %(meta)s) ON CONFLICT DO NOTHING",
                        {**store._scope, "meta": meta},
                    )
                )
        except BaseException:
            store._session.close()
            raise
        return store

    def _load(self) -> bool:
        conn = self._session.connection()
        with conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = cur.execute(f"SELECT meta FROM sb_progress WHERE {_SCOPE}", self._scope).fetchone()
            if row is None:
                conn.rollback()
                return False
            self._meta = row[0]
            units = cur.execute(
                f"SELECT unit_key, record FROM sb_unit WHERE {_SCOPE} ORDER BY ord, unit_key", self._scope
            )
            self._units = {key: record for key, record in units}
            self._items = {key: {} for key in self._units}
            items = cur.execute(
                f"SELECT unit_key, item_id, record FROM sb_item WHERE {_SCOPE} ORDER BY seq", self._scope
            )
            for key, item_id, record in items:
                self._items[key][item_id] = record
            runs = cur.execute(f"SELECT record FROM sb_run WHERE {_SCOPE} ORDER BY seq", self._scope)
            self._runs = [record for (record,) in runs]
        conn.rollback()
        return True

    # -- queries ---------------------------------------------------------------------------------

    @property
    def location(self) -> str:
        where = "/".join(filter(None, (self.account, self.step, self.server)))
        return f"{redact_dsn(self.dsn)} (progress of {where})"

    @property
    def complete(self) -> bool:
        return bool(self._meta.get("complete"))

    @property
    def completed_at(self) -> str | None:
        return self._meta.get("completed_at")

    @property
    def cycle(self) -> int:
        return int(self._meta.get("cycle", 1))

    def unit(self, key: str) -> UnitRecord | None:
        data = self._units.get(key)
        return UnitRecord.from_dict(key, data) if data is not None else None

    def unit_records(self) -> list[UnitRecord]:
        return [UnitRecord.from_dict(key, data) for key, data in self._units.items()]

    def unit_status(self, key: str) -> UnitStatus | None:
        unit = self._units.get(key)
        return UnitStatus(unit["status"]) if unit else None

    def item(self, key: str, item_id: str) -> ItemRecord | None:
        rec = self._items.get(key, {}).get(item_id)
        return ItemRecord.from_dict(item_id, copy.deepcopy(rec)) if rec is not None else None

    def unfinished_items(self, key: str) -> list[ItemRecord]:
        open_states = {ItemStatus.INTENT.value, ItemStatus.EDITED.value}
        items = self._items.get(key, {})
        found = (self.item(key, i) for i, rec in items.items() if rec["status"] in open_states)
        return [rec for rec in found if rec is not None]

    def run_records(self) -> list[RunRecord]:
        return [RunRecord.from_dict(copy.deepcopy(run)) for run in self._runs]

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in UnitStatus}
        for unit in self._units.values():
            counts[unit["status"]] += 1
        counts["units_total"] = len(self._units)
        counts["items_done"] = int(self._meta.get("total_processed_items", 0))
        counts["items_failed"] = int(self._meta.get("total_failed_items", 0))
        return counts

    # -- mutations (each one fenced transaction) -------------------------------------------------

    def add_units(self, units: Iterable[Unit]) -> list[str]:
        new = [[u.key, u.provider_code, u.server] for u in units if u.key not in self._units]
        if not new:
            return []
        added: dict[str, dict[str, Any]] = {}
        for key, code, server in new:
            if key not in added:
                added[key] = new_unit(code, server, len(self._units) + len(added))
        self._apply({"op": "units_add"}, {"units": {k: dict(u) for k, u in added.items()}}, added=True)
        return [key for key, _, _ in new]

    def update_unit(self, key: str, **fields: Any) -> None:
        if "status" in fields:
            fields["status"] = UnitStatus(fields["status"]).value
        self._apply({"op": "unit", "k": key, "set": copy.deepcopy(fields)}, self._stage([key]))

    def item_started(
        self, key: str, item_id: str, plan: Sequence[str], checkpoint: Mapping[str, Any] | None
    ) -> None:
        fields = {"status": ItemStatus.INTENT.value, "plan": list(plan), "error": None}
        rec = {
            "op": "item",
            "k": key,
            "i": item_id,
            "set": fields,
            "cp": copy.deepcopy(dict(checkpoint or {})),
        }
        self._apply(rec, self._stage([key], item_id))

    def item_checkpoint(self, key: str, item_id: str, data: Mapping[str, Any]) -> None:
        if item_id not in self._items_of(key):
            raise KeyError(f"item {item_id} of {key} has no intent recorded")
        rec = {"op": "item", "k": key, "i": item_id, "cp": copy.deepcopy(dict(data))}
        self._apply(rec, self._stage([key], item_id))

    def item_status(self, key: str, item_id: str, status: ItemStatus, error: str | None = None) -> None:
        if item_id not in self._items_of(key) and status != ItemStatus.FAILED:
            raise KeyError(f"item {item_id} of {key} has no intent recorded")
        fields: dict[str, Any] = {"status": ItemStatus(status).value}
        if error is not None:
            fields["error"] = error
        self._apply({"op": "item", "k": key, "i": item_id, "set": fields}, self._stage([key], item_id))

    def set_meta(self, **fields: Any) -> None:
        self._apply({"op": "meta", "set": copy.deepcopy(fields)}, self._stage([]))

    def update_run(self, run_id: str, **fields: Any) -> None:
        ts = now_iso()
        found = [run for run in self._runs if run["run_id"] == run_id]
        run = {**copy.deepcopy(found[-1] if found else {"run_id": run_id}), **copy.deepcopy(fields)}
        meta = {**copy.deepcopy(self._meta), "updated_at": ts}

        def work(cur: psycopg.Cursor[Any]) -> None:
            self._write_meta(cur, meta)
            cur.execute(_UPSERT_RUN, {**self._scope, "run": run_id, "record": Jsonb(run)})

        self._transaction(work)
        self._meta = meta
        index = next(
            (n for n in range(len(self._runs) - 1, -1, -1) if self._runs[n]["run_id"] == run_id), None
        )
        if index is None:
            self._runs.append(run)
        else:
            self._runs[index] = run

    def reset_failed(self) -> int:
        n = sum(1 for u in self._units.values() if u["status"] == UnitStatus.FAILED.value)
        if n:
            self._apply({"op": "reset_failed"}, self._stage(list(self._units)))
        return n

    def mark_complete(self) -> str:
        """Mark the cycle complete and keep a copy of the whole store in `sb_progress_archive`."""
        ts = now_iso()
        meta = {**copy.deepcopy(self._meta), "complete": True, "completed_at": ts, "updated_at": ts}
        document = self._document(meta)

        def work(cur: psycopg.Cursor[Any]) -> None:
            self._write_meta(cur, meta)
            cur.execute(
                "INSERT INTO sb_progress_archive (account, step, server, cycle, state)"
                " VALUES (%(account)s, %(step)s, %(server)s, %(cycle)s, %(state)s)"
                " ON CONFLICT (account, step, server, cycle) DO UPDATE"
                " SET state = EXCLUDED.state, archived_at = now()",
                {**self._scope, "cycle": self.cycle, "state": Jsonb(document)},
            )

        self._transaction(work)
        self._meta = meta
        return f"postgresql:{self.account}/{store_name(self.step, self.server)}/cycle-{self.cycle}"

    def start_new_cycle(self) -> None:
        """Units forgotten; the run history, the creation time and (one higher) the cycle number kept."""
        meta = {
            **fresh_meta(self.account, self.step, self.server),
            "cycle": self.cycle + 1,
            "created_at": self._meta.get("created_at"),
        }

        def work(cur: psycopg.Cursor[Any]) -> None:
            cur.execute(f"DELETE FROM sb_unit WHERE {_SCOPE}", self._scope)
            self._write_meta(cur, meta)

        self._transaction(work)
        self._meta, self._units, self._items = meta, {}, {}

    # -- housekeeping ------------------------------------------------------------------------------

    def compact(self, *, force: bool = False) -> None:
        """Nothing to fold: every commit already is its rows."""

    def close(self, *, compact: bool = True) -> None:
        self._session.close()
        if self.owns_lease and self.lease is not None:
            self.lease.release()

    def __enter__(self) -> PgProgressStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- staging: the change computed on copies, installed after the commit ---------------------------

    def _items_of(self, key: str) -> dict[str, dict[str, Any]]:
        if key not in self._units:
            raise KeyError(key)  # as the file store does for an unknown unit
        return self._items.get(key, {})

    def _stage(self, keys: Iterable[str], item_id: str | None = None) -> dict[str, Any]:
        """A state holding copies of the meta, of these units and of that one item (apply_record's input)."""
        units = {}
        for key in keys:
            unit = copy.deepcopy(self._units[key])
            item = self._items.get(key, {}).get(item_id) if item_id is not None else None
            unit["items"] = {item_id: copy.deepcopy(item)} if item is not None else {}
            units[key] = unit
        return {**copy.deepcopy(self._meta), "units": units, "runs": []}

    def _apply(self, rec: dict[str, Any], state: dict[str, Any], *, added: bool = False) -> None:
        rec = {"ts": now_iso(), **rec}
        if added:
            state = {**copy.deepcopy(self._meta), **state, "updated_at": rec["ts"]}
        else:
            apply_record(state, rec)
        units = {key: dict(unit) for key, unit in state.pop("units").items()}
        items = {key: unit.pop("items") for key, unit in units.items()}
        state.pop("runs", None)
        changed = {key: unit for key, unit in units.items() if added or unit != self._units.get(key)}

        def work(cur: psycopg.Cursor[Any]) -> None:
            self._write_meta(cur, state)
            for key, unit in changed.items():
                cur.execute(
                    _UPSERT_UNIT, {**self._scope, "key": key, "ord": unit["order"], "record": Jsonb(unit)}
                )
            for key, by_id in items.items():
                for item_id, item in by_id.items():
                    cur.execute(
                        _UPSERT_ITEM, {**self._scope, "key": key, "item": item_id, "record": Jsonb(item)}
                    )

        self._transaction(work)
        self._meta = state
        for key, unit in units.items():
            self._units[key] = unit
            self._items.setdefault(key, {}).update(items[key])

    def _write_meta(self, cur: psycopg.Cursor[Any], meta: dict[str, Any]) -> None:
        cur.execute(
            f"UPDATE sb_progress SET meta = %(meta)s, updated_at = now() WHERE {_SCOPE}",
            {**self._scope, "meta": Jsonb(meta)},
        )

    def _document(self, meta: dict[str, Any]) -> dict[str, Any]:
        """The whole store as one document, shaped like the file store's snapshot."""
        units = {key: {**unit, "items": self._items.get(key, {})} for key, unit in self._units.items()}
        return {**meta, "runs": self._runs, "units": units}

    def _transaction(self, work: Work) -> None:
        """One transaction: the fence check, then `work` (retried on a lost connection)."""
        if self.readonly:
            raise RuntimeError("progress store opened read-only")
        lease = self.lease

        def fenced(cur: psycopg.Cursor[Any]) -> None:
            if lease is not None:
                lease.check(cur)
            work(cur)

        self._session.transaction(fenced)
