"""`stepbatch report` and `stepbatch notify-test` as the operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from report_eventgen import generate_run
from typer.testing import CliRunner

from stepbatch.cli import app


def _stepbatch(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "STEPBATCH_NOTIFY"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "stepbatch", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def test_report_latest_writes_html_and_summary(tmp_path: Path) -> None:
    state = tmp_path / "stepbatch-state"
    older, _ = generate_run(state, account="AAA")
    newer, _ = generate_run(state, account="ZZZ", stop_account=True)
    (older.parent / f"{older.name[:15]}-XYZ-step2").mkdir()  # a folder without events is not a run
    newer_id = newer.name.replace("20250701-010203", "20250702-000000")
    newer = newer.rename(newer.parent / newer_id)
    result = _stepbatch("report", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"report: {Path('stepbatch-state') / 'runs' / newer_id / 'report.html'}" in result.stdout
    assert (newer / "report.html").is_file() and (newer / "summary.md").is_file()
    assert not (older / "report.html").exists()

    by_prefix = _stepbatch("report", older.name[:20], "--state-dir", str(state), cwd=tmp_path)
    assert by_prefix.returncode == 0 and (older / "report.html").is_file()


def test_report_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    none = _stepbatch("report", "--state-dir", "missing", cwd=tmp_path)
    assert none.returncode == 2
    where = Path("missing") / "runs"
    assert (
        none.stderr.strip()
        == f"error: {where}: no runs found (use --state-dir to point at another state folder)"
    )
    generate_run(tmp_path / "s")
    unknown = _stepbatch("report", "2099", "--state-dir", "s", cwd=tmp_path)
    assert unknown.returncode == 2 and "run '2099' not found in" in unknown.stderr
    assert "Traceback" not in unknown.stderr and len(unknown.stderr.strip().splitlines()) == 1
    (tmp_path / "stepbatch.toml").write_text("[run]\nstate_dri = 's'\n", encoding="utf-8")
    bad = _stepbatch("report", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown key 'state_dri' (did you mean 'state_dir'?)" in bad.stderr


def test_report_uses_state_dir_from_config_and_open_launches_the_browser(tmp_path, monkeypatch) -> None:
    run_dir, _ = generate_run(tmp_path / "elsewhere")
    (tmp_path / "stepbatch.toml").write_text('[run]\nstate_dir = "elsewhere"\n', encoding="utf-8")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda url, *a, **k: opened.append(url) or True)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["report", "latest", "--open", "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert opened == [(tmp_path / "r.html").resolve().as_uri()]
    assert (tmp_path / "r.html").is_file() and (run_dir / "summary.md").is_file()


def test_notify_test_reports_per_url_and_fails_when_one_fails(tmp_path, http_sink) -> None:
    good = f"json://bot:s3cr3tT0ken@127.0.0.1:{http_sink.port}/hook"
    result = _stepbatch(
        "notify-test", cwd=tmp_path, env={"STEPBATCH_NOTIFY": f"{good}, json://127.0.0.1:9/x"}
    )
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert lines[0] == f"ok      json://bot:****@127.0.0.1:{http_sink.port}/hook"
    assert lines[1].startswith("FAILED  json://127.0.0.1:9/x")
    assert "s3cr3tT0ken" not in result.stdout + result.stderr
    assert len(http_sink.requests) == 1

    ok = _stepbatch("notify-test", "--url", good, cwd=tmp_path)
    assert ok.returncode == 0 and len(http_sink.requests) == 2

    nothing = _stepbatch("notify-test", cwd=tmp_path)
    assert nothing.returncode == 2 and "no notification URL: set STEPBATCH_NOTIFY" in nothing.stderr
