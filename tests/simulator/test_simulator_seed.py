"""Seeding, reopening, fault settings and the CLI server (no browser)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from stepbatch.errors import UserError
from stepbatch.simulator import testing
from stepbatch.simulator.app import prepare_db
from stepbatch.simulator.db import Product
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.replay import replay
from stepbatch.workbook import load_workbook


def _products(db: Path) -> list[Product]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [Product.from_row(r) for r in conn.execute("SELECT * FROM products ORDER BY account, seq")]
    finally:
        conn.close()


def test_seed_is_reproducible_and_covers_every_code(tmp_path: Path, sim_workbook: Path) -> None:
    prepare_db(tmp_path / "a.db", sim_workbook, seed=7)
    prepare_db(tmp_path / "b.db", sim_workbook, seed=7)
    prepare_db(tmp_path / "c.db", sim_workbook, seed=8)
    a, b, c = (_products(tmp_path / f"{n}.db") for n in "abc")
    assert [(p.id, p.name, p.detail) for p in a] == [(p.id, p.name, p.detail) for p in b]
    assert [p.id for p in a] != [p.id for p in c]
    wb = load_workbook(sim_workbook)
    for acc in wb.accounts:
        units = {u.provider_code: u for s in ("step2", "step3") for u in wb.units(acc, s, strict=False)}
        mine = [p for p in a if p.account == acc.email]
        per_code = {code: [p for p in mine if p.code == code] for code in units}
        counts = sorted(len(v) for v in per_code.values())
        assert counts[0] == 0 and counts[-1] > 50, counts  # pagination matters, empty searches happen
        for code, products in per_code.items():
            for p in products:
                assert p.group == "신규수집" and p.name.endswith(p.name[-2:]) and f"{code}Z" in p.name
                assert p.memo.endswith("-" + code)
                replay(p.detail, p.thumbs, p.options, units[code].ops)  # enough images for the row
        unrelated = [p for p in mine if p.code is None]
        assert len(unrelated) >= 25
        assert not any(code in p.name for p in unrelated for code in units)


def test_reopening_keeps_data_and_new_db_needs_a_workbook(tmp_path: Path, sim_workbook: Path) -> None:
    db = tmp_path / "sim.db"
    prepare_db(db, sim_workbook, seed=3)
    conn = sqlite3.connect(db)
    conn.execute("UPDATE products SET grp='대기1' WHERE rowid=1")
    conn.commit()
    conn.close()
    before = _products(db)
    prepare_db(db, sim_workbook, seed=99, faults=Faults(translation_credits=5))
    assert [(p.id, p.group) for p in _products(db)] == [(p.id, p.group) for p in before]
    conn = sqlite3.connect(db)
    assert {r[0] for r in conn.execute("SELECT credits FROM accounts")} == {5}
    conn.close()
    with pytest.raises(UserError, match="--workbook is required"):
        prepare_db(tmp_path / "new.db", None)
    assert not (tmp_path / "new.db").exists()
    (tmp_path / "junk.db").write_text("not sqlite")
    with pytest.raises(UserError, match="not a simulator database"):
        prepare_db(tmp_path / "junk.db", sim_workbook)
    assert (tmp_path / "junk.db").read_text() == "not sqlite"


def test_faults_from_env_and_bad_values() -> None:
    env = {
        "STEPBATCH_SIM_LATENCY_MS": "40",
        "STEPBATCH_SIM_LOGIN_POPUP": "yes",
        "STEPBATCH_SIM_SESSION_EXPIRY_MIN": "0.5",
        "STEPBATCH_SIM_TRANSLATION_CREDITS": "3",
    }
    f = Faults.from_env(env, error_rate=0.1)
    assert (f.latency_ms, f.login_popup, f.session_expiry_min, f.translation_credits, f.error_rate) == (
        40.0,
        True,
        0.5,
        3,
        0.1,
    )
    assert Faults.from_env(f.to_env()) == f
    with pytest.raises(UserError, match="STEPBATCH_SIM_ERROR_RATE"):
        Faults.from_env({"STEPBATCH_SIM_ERROR_RATE": "lots"})
    with pytest.raises(UserError, match="--error-rate"):
        Faults.from_env({}, error_rate=2.0)


def test_subprocess_server_serves_and_stops(tmp_path: Path, sim_workbook: Path, sim_account) -> None:
    with testing.simulator(
        tmp_path, sim_workbook, mode="subprocess", faults=Faults(translation_credits=2)
    ) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        pid = sim.pid
        r = httpx.get(sim.url + "/", follow_redirects=False)
        assert r.status_code == 302 and r.headers["location"] == "/signin"
        assert httpx.get(sim.url + "/api/products").json() == {"error": "session_expired"}
        with testing.ApiClient(sim.url, sim_account) as api:
            assert api.get("/api/me")["credits"] == 2
    import psutil

    assert (pid is not None and not psutil.pid_exists(pid)) or psutil.Process(
        pid
    ).status() == psutil.STATUS_ZOMBIE


def test_login_rejects_wrong_password(sim, sim_account) -> None:
    r = httpx.post(sim.url + "/api/login", json={"email": sim_account.email, "password": "wrong"})
    assert r.status_code == 401 and "set-cookie" not in r.headers
    r = httpx.post(sim.url + "/api/login", json={"email": "nobody@example.com", "password": "x"})
    assert r.status_code == 401
