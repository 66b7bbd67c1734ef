"""PostgreSQL restarted under an open store: the next write reconnects and lands, nothing is lost."""

from __future__ import annotations

from stepbatch.contracts.status import ItemStatus
from stepbatch.state.pg.backend import PgBackend
from stepbatch.workbook.models import Unit

ACCOUNT, STEP, SERVER = "ABC", "step3", "서버2-1"


def test_a_store_survives_a_postgresql_restart(pg_server, pg_dsn: str) -> None:
    backend = PgBackend(pg_dsn, holder="worker-1")
    units = [Unit(ACCOUNT, STEP, SERVER, code, "대기2") for code in ("C1", "C2")]
    with backend.lease(ACCOUNT, STEP):
        store = backend.open_store(ACCOUNT, STEP, SERVER)
        keys = store.add_units(units)
        store.item_started(keys[0], "p1", ["delete"], None)
        pg_server.restart()  # every open connection is dropped
        store.item_status(keys[0], "p1", ItemStatus.DONE)
        store.item_started(keys[0], "p2", ["delete"], {"op": 0})
        store.close()
    reread = PgBackend(pg_dsn, holder="reader").read_store(ACCOUNT, STEP, SERVER)
    item1, item2 = reread.item(keys[0], "p1"), reread.item(keys[0], "p2")
    assert item1 is not None and item1.status == ItemStatus.DONE
    assert item2 is not None and item2.status == ItemStatus.INTENT
    assert [u.key for u in reread.unit_records()] == keys
