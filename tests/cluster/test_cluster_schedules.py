"""`stepbatch schedule add/list/remove` and the firing: one firing per due minute, however many workers;
a firing while the previous one of the same schedule is still queued records `skipped`, not a second run."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path

from cluster_support import cli, query

from stepbatch.cluster.schedules import fire_due, latest_due
from stepbatch.simulator.testing import Sim


def add(sim: Sim, dsn: str, cwd: Path, name: str, cron: str, *command: str):
    run = command or ("run", "step2,step3", "--workbook", str(sim.workbook), "--accounts", "all")
    return cli("schedule", "add", "--db", dsn, "--name", name, "--cron", cron, "--tz", "UTC", "--",
               *run, "--base-url", sim.url, "--translate-all", cwd=cwd)  # fmt: skip


def counts(dsn: str) -> tuple[int, int]:
    return (
        query(dsn, "SELECT count(*) FROM sb_schedule")[0][0],
        query(dsn, "SELECT count(*) FROM sb_run_request")[0][0],
    )


def next_minute() -> dt.datetime:
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    return now + dt.timedelta(minutes=1, seconds=5)


def test_one_firing_per_minute_and_none_while_the_previous_is_queued(dsn: str, sim4: Sim, tmp_path: Path):
    added = add(sim4, dsn, tmp_path, "every", "* * * * *")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("schedule every added: * * * * * (UTC), next ")
    accounts = sorted(a.nickname for a in sim4.book.accounts)

    first = next_minute()
    [line] = fire_due(dsn, first)
    assert "queued " + ", ".join(a.nickname for a in sim4.book.accounts) in line, line
    assert fire_due(dsn, first + dt.timedelta(seconds=20)) == []  # the same minute: claimed already
    rows = query(dsn, "SELECT account, step, status FROM sb_run_request WHERE schedule = 'every' ORDER BY id")
    assert sorted((a, s, st) for a, s, st in rows) == sorted(
        [(a, "step2", "queued") for a in accounts] + [(a, "step3", "waiting") for a in accounts]
    )

    # a minute later the first firing is still queued; two workers check that minute at once
    second = first + dt.timedelta(minutes=1)
    results: list[list[str]] = []
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        results.append(fire_due(dsn, second))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(len(r) for r in results) == [0, 1], results  # claimed once
    jobs = query(dsn, "SELECT lock FROM procrastinate_jobs ORDER BY lock")
    assert [lock for (lock,) in jobs] == [f"{a}/step2" for a in accounts]  # still one run per account
    skipped = query(
        dsn,
        "SELECT account, step, last_error FROM sb_run_request WHERE status = 'skipped' AND fired_for = %s",
        second.replace(second=0),
    )
    assert sorted((a, s) for a, s, _ in skipped) == sorted(
        (a, s) for a in accounts for s in ("step2", "step3")
    )
    for account, _, why in skipped:
        assert why.startswith(f"previous firing of schedule every still queued ({account} step2"), why
    shown = json.loads(cli("status", "--db", dsn, "--json", cwd=tmp_path).stdout)
    states = sorted((r["account"], r["step"], r["state"]) for r in shown)
    assert states == sorted(
        (a, s, st)
        for a in accounts
        for s, st in (("step2", "queued"), ("step2", "skipped"), ("step3", "waiting"), ("step3", "skipped"))
    )
    listed = cli("schedule", "list", "--db", dsn, cwd=tmp_path)
    assert listed.returncode == 0 and "every" in listed.stdout and "skipped" in listed.stdout, listed.stdout
    removed = cli("schedule", "remove", "every", "--db", dsn, cwd=tmp_path)
    assert removed.returncode == 0 and counts(dsn)[0] == 0


def test_mistakes_exit_2_and_store_nothing(dsn: str, sim4: Sim, tmp_path: Path):
    wb = str(sim4.workbook)
    for cron, command in (
        ("61 9 * * *", ()),
        ("0 9 * *", ()),
        ("0 9 * * *", ("run", "step2,step3", "--workbook", wb, "--accounts", "NOPE")),
        ("0 9 * * *", ("run", "step2,step3", "--workbook", str(tmp_path / "no.xlsx"), "--accounts", "all")),
        ("0 9 * * *", ("run", "step4", "--workbook", wb, "--accounts", "all")),
        ("0 9 * * *", ("run", "step3", "--workbook", wb, "--accounts", "all", "--batch-size", "0")),
        ("0 9 * * *", ("run", "step3", "--workbook", wb, "--accounts", "all", "--no-such-flag")),
    ):
        proc = add(sim4, dsn, tmp_path, "morning", cron, *command)
        assert proc.returncode == 2, (cron, command, proc.stdout, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr
        if "--no-such-flag" in command:
            assert "schedule add: the command after --: No such option: --no-such-flag" in proc.stderr
    assert counts(dsn) == (0, 0)
    assert add(sim4, dsn, tmp_path, "morning", "0 9 * * *").returncode == 0
    again = add(sim4, dsn, tmp_path, "morning", "30 9 * * *")
    assert again.returncode == 2 and "exists already" in again.stderr, again.stderr
    [(cron, command)] = query(dsn, "SELECT cron, command::text FROM sb_schedule")
    assert cron == "0 9 * * *"
    for account in sim4.book.accounts:  # the schedule holds no password
        assert account.password.reveal() not in command
    gone = cli("schedule", "remove", "nope", "--db", dsn, cwd=tmp_path)
    assert gone.returncode == 2 and "no schedule named" in gone.stderr


def test_due_minutes_in_the_schedules_time_zone():
    now = dt.datetime(2026, 12, 3, 0, 0, 30, tzinfo=dt.UTC)  # 09:00:30 in Seoul
    assert latest_due("0 9 * * *", "UTC+09:00", now) == dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)
    assert latest_due("0 9 * * *", "UTC", now) == dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    assert latest_due("* * * * *", "UTC", now) == dt.datetime(2026, 12, 3, 0, 0, tzinfo=dt.UTC)


def test_the_workers_periodic_task_fires_the_schedules(dsn: str, sim4: Sim, tmp_path: Path):
    """The task `stepbatch worker` runs every minute is wired to the firing (called here as procrastinate
    calls it, with the minute's timestamp)."""
    import asyncio
    import concurrent.futures

    from stepbatch.cluster.queue import make_app
    from stepbatch.cluster.schedules import SCHEDULE_TASK

    async def reaper(app: object) -> None:
        return None

    assert add(sim4, dsn, tmp_path, "every", "* * * * *").returncode == 0
    app = make_app(dsn, lambda ctx, rid: None, reaper)
    task = app.tasks[SCHEDULE_TASK].func(timestamp=int(next_minute().timestamp()))
    # a fresh thread: this one may hold the shared Playwright driver's running loop already
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, task).result(timeout=60)
    assert query(dsn, "SELECT count(*) FROM sb_run_request WHERE schedule = 'every'")[0][0] == 8
    [(result,)] = query(dsn, "SELECT last_result FROM sb_schedule")
    assert result.startswith("queued "), result
