"""Cluster mode: the page's API over a real throwaway PostgreSQL shows the accounts and the workers, and
cancel / re-queue work with the token and are refused without it."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from web_support import web_server

from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import make_workbook, running_simulator, wait_until

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
from cluster_support import Machines, submit

pytestmark = pytest.mark.browser  # the worker starts Chromium for the re-queued account

TOKEN = "cluster-token-77aa"


@pytest.fixture
def dsn(pg_dsn: str) -> str:
    from stepbatch.cluster.dbinit import init_database

    init_database(pg_dsn)
    return pg_dsn


def rows(url: str) -> dict[str, dict]:
    return {r["account"]: r for r in httpx.get(f"{url}/api/status").json()["accounts"]}


def test_cluster_rows_workers_and_actions(dsn: str, tmp_path: Path):
    workbook = make_workbook(tmp_path, accounts=2, codes=1, seed=3, step2_share=0.0)
    with running_simulator(tmp_path, workbook, Faults(translate_ms=30), per_code=1) as sim:
        assert submit(sim, dsn, "all", tmp_path).returncode == 0
        first = sim.book.accounts[0].nickname
        with web_server(db=dsn, token=TOKEN) as url:
            status = httpx.get(f"{url}/api/status")
            password = dsn.split("//", 1)[1].split("@", 1)[0].partition(":")[2]
            assert status.json()["mode"] == "cluster" and (not password or password not in status.text)
            assert {r["status"] for r in status.json()["accounts"]} == {"queued"}
            cancel = f"{url}/api/cancel/{first}/step3"
            assert httpx.post(cancel).status_code == 401
            assert httpx.post(cancel, headers={"Authorization": "Bearer wrong-token"}).status_code == 403
            assert rows(url)[first]["status"] == "queued"  # refused: nothing changed
            done = httpx.post(cancel, headers={"Authorization": f"Bearer {TOKEN}"})
            assert done.status_code == 200 and "cancelled" in done.text, done.text
            assert rows(url)[first]["status"] == "stopped"
            again = httpx.post(cancel, headers={"Authorization": f"Bearer {TOKEN}"})
            assert again.status_code == 409 and "nothing to cancel" in again.text  # a UserError, one line
            requeue = f"{url}/api/requeue/{first}/step3"
            assert httpx.post(requeue, data={"token": "wrong-token"}).status_code == 403
            assert httpx.post(requeue, data={"token": TOKEN}).status_code == 200
            assert rows(url)[first]["status"] == "queued"
            machines = Machines(tmp_path / "machines", dsn)
            try:
                machines.start("w1")
                workers = wait_until(
                    lambda: httpx.get(f"{url}/api/status").json()["workers"], 60, what="a worker row"
                )
                assert workers[0]["name"] == "w1" and workers[0]["alive"] is True
                # the finished run's report, copied to the database by the worker, is served from there
                href = wait_until(lambda: rows(url)[first]["report"], 240, what="the report link")
                report = httpx.get(url + href)
                assert report.status_code == 200 and "<title>stepbatch " in report.text, report.text[:200]
                assert report.headers["content-type"].startswith("text/html")
                # the report is copied before the status row turns done: wait, don't race
                wait_until(lambda: rows(url)[first]["status"] == "done", 60, what="the run done")
                stored = href.rsplit("/", 1)[0]
                assert httpx.get(f"{url}{stored}/run.log").status_code == 200
                for bad in ("..%2F..%2Fetc%2Fpasswd", "missing.png", "%2Fetc%2Fpasswd"):
                    assert httpx.get(f"{url}{stored}/{bad}").status_code == 404, bad
            finally:
                machines.stop_all()
