"""`stepbatch db init` / `submit` / `status` without workers: validation, duplicates, secrets."""

from __future__ import annotations

from pathlib import Path

from cluster_support import cli, query, submit

from stepbatch.simulator.testing import Sim


def test_db_init_is_idempotent(dsn: str, tmp_path: Path):
    again = cli("db", "init", "--db", dsn, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "queue schema present; migrations up to date" in again.stdout


def test_double_submit_makes_one_job_and_exits_3(dsn: str, sim4: Sim, tmp_path: Path):
    first = sim4.book.accounts[0].nickname
    ok = submit(sim4, dsn, first, tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert f"submitted {first} step3: 2 codes" in ok.stdout
    again = submit(sim4, dsn, f"{first},{sim4.book.accounts[1].nickname}", tmp_path)
    assert again.returncode == 3, again.stdout + again.stderr
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and first in lines[0] and "already queued" in lines[0], lines
    assert query(dsn, "SELECT lock, status FROM procrastinate_jobs") == [(f"{first}/step3", "todo")]
    assert query(dsn, "SELECT count(*) FROM sb_run_request")[0][0] == 1
    status = cli("status", "--db", dsn, cwd=tmp_path)
    assert status.returncode == 0 and first in status.stdout and "queued" in status.stdout


def test_requests_hold_no_password(dsn: str, sim4: Sim, tmp_path: Path):
    assert submit(sim4, dsn, "all", tmp_path).returncode == 0
    rows = query(
        dsn, "SELECT login::text, password_ref::text, units::text, options::text FROM sb_run_request"
    )
    assert len(rows) == 4
    stored = " ".join(" ".join(row) for row in rows)
    for account in sim4.book.accounts:
        assert account.password.reveal() not in stored
    assert '"workbook"' in rows[0][1]
    env = submit(sim4, dsn, "all", tmp_path, "--password-env")
    assert env.returncode == 3  # all four are queued already


def test_bad_input_exits_2_and_writes_nothing(dsn: str, sim4: Sim, tmp_path: Path):
    for extra in (("--batch-size", "0"),):
        proc = submit(sim4, dsn, "all", tmp_path, *extra)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    unknown = submit(sim4, dsn, "NOPE", tmp_path)
    assert unknown.returncode == 2 and len(unknown.stderr.strip().splitlines()) == 1, unknown.stderr
    missing = cli("submit", "step3", "--workbook", str(tmp_path / "no.xlsx"), "--accounts", "all",
                  "--db", dsn, cwd=tmp_path)  # fmt: skip
    assert missing.returncode == 2 and "file not found" in missing.stderr
    assert query(dsn, "SELECT count(*) FROM sb_run_request")[0][0] == 0
    assert query(dsn, "SELECT count(*) FROM procrastinate_jobs")[0][0] == 0


def test_the_database_password_is_never_printed(tmp_path: Path):
    secret = "s3cr3t-pw"
    dead = f"postgresql://stepbatch:{secret}@127.0.0.1:1/stepbatch"
    for args in (("db", "init", "--db", dead), ("status", "--db", dead)):
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert secret not in proc.stdout + proc.stderr
        assert "***" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    no_db = cli("db", "init", cwd=tmp_path)
    assert no_db.returncode == 2 and "--db is required" in no_db.stderr
    local = cli("status", cwd=tmp_path)  # without --db: this machine's progress, as before
    assert local.returncode == 0 and "no progress under" in local.stdout
