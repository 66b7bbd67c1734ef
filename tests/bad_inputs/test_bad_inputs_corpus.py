"""Every case of the bad-input corpus through the real `stepbatch` CLI (a subprocess).

Asserted per case: the exit code; exactly one line on stderr holding the expected text (or, for
`stepbatch validate` reporting problems, the text in its report and nothing on stderr); no traceback;
the password never printed; the case folder (workbook + state) byte-for-byte unchanged; and no browser
ever started (the --chrome-binary spy leaves no marker).
"""

from __future__ import annotations

import ctypes
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bad_inputs_builders import PASSWORD
from bad_inputs_cases import CASES, Case

if sys.platform == "win32":  # the harness uses wait4, rlimits, capabilities and a shell-script spy
    pytest.skip("the bad-input harness needs a POSIX system", allow_module_level=True)

import resource  # POSIX only

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2
CLI_TIMEOUT_S = 300


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>stand-in site</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def live_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def dead_url() -> str:
    with socket.socket() as sock:  # a port that was free a moment ago and that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `folder`."""
    if not folder.exists():
        return {}
    out: dict[str, bytes | None] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        out[rel] = None if path.is_dir() else path.read_bytes()
    return out


def write_spy(folder: Path) -> tuple[Path, Path]:
    """A stand-in browser binary that records that it was started, then runs the real one."""
    marker = folder / "browser-was-started"
    spy = folder / "chromium-spy"
    spy.write_text(f'#!/bin/sh\ntouch "{marker}"\nexec /usr/bin/chromium "$@"\n', encoding="utf-8")
    spy.chmod(0o755)
    return spy, marker


def drop_permission_override() -> None:
    """In the child before exec: without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH even root obeys file
    permission bits (a read-only file is then read-only for it too)."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def run_cli(
    args: list[str], env: dict[str, str], *, obey_permissions: bool, fsize_limit: int | None
) -> tuple[int, str, str, float]:
    """Run `python -m stepbatch ARGS`; returns exit code, stdout, stderr and the child's peak RSS (MB).
    Output goes through pipes (not files): a file-size limit must not cut it."""

    def limits() -> None:
        if fsize_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))
        if obey_permissions:
            drop_permission_override()

    proc = subprocess.Popen(
        [sys.executable, "-m", "stepbatch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        preexec_fn=limits,
    )
    chunks: dict[str, bytes] = {}
    readers = [
        threading.Thread(target=lambda n=n, s=s: chunks.__setitem__(n, s.read()))
        for n, s in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    timer = threading.Timer(CLI_TIMEOUT_S, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS)
    finally:
        timer.cancel()
    for reader in readers:
        reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return (
        proc.returncode,
        chunks["out"].decode("utf-8"),
        chunks["err"].decode("utf-8"),
        usage.ru_maxrss / 1024,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, live_url: str, dead_url: str) -> None:
    folder, tools = tmp_path / "case", tmp_path / "tools"
    folder.mkdir()
    tools.mkdir()
    if case.build is not None:
        case.build(folder)
    spy, marker = write_spy(tools)
    (tools / "empty-path").mkdir()
    values = {
        "wb": str(folder / case.workbook),
        "state": str(folder / "state"),
        "url": live_url,
        "dead": dead_url,
        "spy": str(spy),
        "empty": str(tools / "empty-path"),
    }
    args = [a.format(**values) for a in case.args]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "400", "NO_COLOR": "1"}
    env.update({k: v.format(**values) for k, v in case.env.items()})
    if case.read_only:
        make_read_only(folder / case.read_only)
    before = snapshot(folder)

    code, out, err, rss_mb = run_cli(
        args, env, obey_permissions=case.read_only is not None, fsize_limit=case.fsize_limit
    )

    shown = f"exit {code}\nstderr: {err}\nstdout: {out[-2000:]}"
    assert code == case.code, shown
    assert "Traceback" not in err + out, shown
    assert PASSWORD not in err + out, "the password was printed"
    if case.stream == "stderr":
        lines = err.splitlines()
        assert len(lines) == 1, shown
        assert case.text in lines[0], shown
    else:
        assert err == "", shown
        assert case.text in out, shown
    assert snapshot(folder) == before, "the command changed files in the case folder"
    assert not marker.exists(), "a browser was started"
    if case.max_rss_mb is not None:
        assert rss_mb < case.max_rss_mb, f"peak RSS {rss_mb:.0f} MB"
        print(f"{case.id}: peak RSS {rss_mb:.0f} MB")


def make_read_only(state: Path) -> None:
    for path in [state, *state.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
