"""`stepbatch demo` as a newcomer meets it: it keeps its folder, every path it prints exists afterwards,
its last lines are the verification, the reports and two commands, and a second demo in the same folder
is refused unless --fresh (which says what it cleared).

The demo runs small here (hidden options: 1 account, 3 codes, 1 product per code) in real headless
Chromium against the bundled simulator.
"""

from __future__ import annotations

import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from stepbatch.demo import LOCK_NAME, open_in_browser
from stepbatch.text import plural

SMALL = ("--accounts", "1", "--codes", "3", "--products-per-code", "1")
NO_DISPLAY = ("DISPLAY", "WAYLAND_DISPLAY")
# Lines of the demo's output that name a file or folder, and the group that holds the path.
PATH_LINES = (
    re.compile(r"^demo folder: (.+?) \("),
    re.compile(r"; workbook (.+?); state in (.+)$"),
    re.compile(r"run folder: (.+)$"),
    re.compile(r"progress archived to (.+)$"),
    re.compile(r"^\s+report: (.+)$"),
    re.compile(r"^  (?!report: )(\S.*report\.html)$"),  # the list at the end
)


def demo_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`stepbatch demo ARGS…` in its own process, with no display (as in CI)."""
    env = {k: v for k, v in os.environ.items() if k not in NO_DISPLAY}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", "stepbatch", "demo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def printed_paths(stdout: str) -> list[Path]:
    paths = []
    for line in stdout.splitlines():
        for pattern in PATH_LINES:
            match = pattern.search(line)
            if match:
                paths += [Path(p) for p in match.groups()]
    return paths


def ending(stdout: str) -> list[str]:
    """The demo's last lines, from the verification line on."""
    lines = stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("verified ")]
    assert starts, stdout[-3000:]
    return lines[starts[-1] :]


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


def assert_complete_demo(result: subprocess.CompletedProcess[str], cwd: Path, folder: Path) -> list[str]:
    """Exit 0, verified, every printed path exists, and the last lines read as the README says."""
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr
    paths = printed_paths(result.stdout)
    assert len(paths) >= 8, result.stdout
    missing = [p for p in paths if not (cwd / p).exists()]
    assert not missing, missing
    last = ending(result.stdout)
    assert last[0].startswith("verified 3 products: 0 missing, 0 repeated, 0 unexpected"), last
    assert last[1] == f"the demo's files stay in {folder}; 2 reports, one per run:", last
    reports = [Path(line.strip()) for line in last[2:4]]
    assert [p.name for p in reports] == ["report.html"] * 2 and all(p.is_file() for p in reports), last
    assert [p.parent.parent for p in reports] == [folder / "state" / "runs"] * 2, last
    assert last[4].startswith("status:") and last[4].endswith(f"status --state-dir {folder / 'state'}")
    assert last[5].startswith("open report:")
    assert last[5].endswith(f"report latest --state-dir {folder / 'state'} --open"), last
    assert "(1 product)" in result.stdout and "(1 products)" not in result.stdout
    return last


def run_printed(command_line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command as the demo printed it (after its `label:`)."""
    argv = shlex.split(command_line.split(":", 1)[1], posix=sys.platform != "win32")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120, check=False
    )


@pytest.fixture(scope="module")
def first_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One small demo in the default folder (./stepbatch-demo of a fresh working folder), with --open."""
    cwd = tmp_path_factory.mktemp("newcomer")
    return cwd, demo_cli(*SMALL, "--open", cwd=cwd)


@pytest.mark.browser
def test_demo_keeps_its_folder_and_every_printed_path_exists(first_demo) -> None:
    cwd, result = first_demo
    folder = (cwd / "stepbatch-demo").absolute()
    assert result.stdout.startswith(f"demo folder: {folder} (")
    last = assert_complete_demo(result, cwd, folder)
    assert last[6:] == [
        "--open: no display here (DISPLAY and WAYLAND_DISPLAY are unset); not opening the report"
    ]
    for name in ("demo-workbook.xlsx", "simulator.db", "state"):
        assert (folder / name).exists(), name
    status = run_printed(last[4], cwd)
    assert status.returncode == 0 and "ZZJ" in status.stdout, status.stdout + status.stderr
    reopen = run_printed(last[5].removesuffix(" --open"), cwd)  # without --open: no browser in tests
    assert reopen.returncode == 0, reopen.stderr
    assert f"report: {last[3].strip()}" in reopen.stdout.splitlines(), reopen.stdout


@pytest.mark.browser
def test_a_second_demo_in_the_same_folder_is_refused_and_changes_nothing(first_demo) -> None:
    cwd, _ = first_demo
    folder = (cwd / "stepbatch-demo").absolute()
    before = snapshot(folder)
    for args in (SMALL, ("--dir", str(folder), *SMALL)):
        result = demo_cli(*args, cwd=cwd)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1, result.stderr
        assert str(folder) in result.stderr and "--fresh" in result.stderr, result.stderr
    assert snapshot(folder) == before


@pytest.mark.browser
def test_fresh_clears_the_earlier_demo_and_says_so(first_demo, tmp_path: Path) -> None:
    cwd, _ = first_demo
    folder = tmp_path / "demo"
    shutil.copytree(cwd / "stepbatch-demo", folder)
    old_runs = sorted((folder / "state" / "runs").iterdir())
    result = demo_cli("--dir", str(folder), "--fresh", *SMALL, cwd=tmp_path)
    first = result.stdout.splitlines()[0] if result.stdout else ""
    assert first == (
        f"--fresh: cleared the earlier demo in {folder} (demo-workbook.xlsx, simulator.db, state/; 2 runs)"
    ), result.stdout[:2000] + result.stderr
    assert_complete_demo(result, tmp_path, folder)
    assert len(old_runs) == 2 and not any(p.exists() for p in old_runs)
    assert len(list((folder / "state" / "runs").iterdir())) == 2


def test_a_folder_that_is_not_a_demo_is_never_used(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me", encoding="utf-8")
    for extra in ((), ("--fresh",)):
        result = demo_cli("--dir", str(folder), *extra, *SMALL, cwd=tmp_path)
        assert result.returncode == 2 and result.stdout == "", result.stdout + result.stderr
        assert (
            result.stderr.startswith(f"error: --dir {folder}: not empty")
            and "\n" not in result.stderr.strip()
        )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_fresh_never_clears_a_demo_that_is_still_running(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    (folder / "state").mkdir(parents=True)
    (folder / "demo-workbook.xlsx").write_bytes(b"an earlier demo's workbook")
    with FileLock(str(folder / LOCK_NAME)):  # as a running demo holds it
        result = demo_cli("--dir", str(folder), "--fresh", *SMALL, cwd=tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "another stepbatch demo is running" in result.stderr and result.stdout == ""
    assert (folder / "demo-workbook.xlsx").read_bytes() == b"an earlier demo's workbook"


def test_bad_demo_options_are_one_line_and_create_nothing(tmp_path: Path) -> None:
    for flag in ("--codes", "--batch-size", "--products-per-code"):
        result = demo_cli(flag, "0", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr == f"error: {flag} must be greater than 0, got 0\n"
    assert list(tmp_path.iterdir()) == []


def test_open_says_why_it_does_not_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tmp_path / "report.html"
    out = io.StringIO()
    assert not open_in_browser(report, out)
    assert out.getvalue() == "--open: the last run has no report.html to open\n"
    report.write_text("<html></html>", encoding="utf-8")
    out = io.StringIO()
    assert not open_in_browser(report, out, environ={}, platform="linux")
    assert out.getvalue().startswith("--open: no display here")
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", lambda uri: opened.append(uri) or True)
    out = io.StringIO()
    assert open_in_browser(report, out, environ={"DISPLAY": ":0"}, platform="linux")
    assert opened == [report.resolve().as_uri()] and out.getvalue().startswith("opened ")


def test_plural() -> None:
    assert [plural(n, "product") for n in (0, 1, 2)] == ["0 products", "1 product", "2 products"]
    assert (
        plural(1, "process", "processes") == "1 process"
        and plural(3, "process", "processes") == "3 processes"
    )
