"""On a terminal (a pseudo-terminal here) `stepbatch run` redraws one rich panel instead of printing lines."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_support import Sim, run_command

from stepbatch.simulator.verify import verify

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX-only"),
]

PLAIN_LINE = re.compile(r"\[\s*\d+\.\d+s\] ")  # the non-terminal format: "[   12.3s] X12@서버1: done"
CURSOR_UP = "\x1b[1A"  # rich.live moves the cursor back up to redraw the panel in place
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(cmd: list[str], timeout: float = 300.0) -> tuple[int, str]:
    """Run `cmd` with a pseudo-terminal as stdin/stdout/stderr; return its exit code and all it wrote."""
    import pty  # POSIX-only; imported here so collection works on Windows

    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        code = proc.wait(timeout=max(deadline - time.monotonic(), 1.0))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return code, b"".join(chunks).decode("utf-8", errors="replace")


def test_a_terminal_gets_the_live_panel_and_the_summary(sim: Sim, tmp_path: Path):
    account = sim.book.accounts[0]
    units = sim.book.units(account, "step3")
    cmd = run_command("step3", sim.workbook, sim.url, tmp_path / "state", "--account", account.email)

    code, screen = run_on_terminal(cmd)

    assert code == 0, screen[-2000:]
    assert CURSOR_UP in screen, "the panel was never redrawn in place"
    text = ESCAPE.sub("", screen)
    for label in ("codes", "products", "current", "batch", "browser", "ETA"):
        assert re.search(rf"^{label} {{2,}}\S", text, re.M), f"panel row {label!r} missing"
    all_done = rf"^codes {{2,}}{len(units)}/{len(units)} "
    assert re.search(all_done, text, re.M), "the panel never showed every code done"
    assert f"{account.nickname} step3: complete" in text
    assert not PLAIN_LINE.search(text), "plain progress lines were printed on a terminal"
    assert account.password.reveal() not in text
    verified = verify(sim.db_path, sim.workbook, step="step3").line()
    assert "0 missing, 0 repeated, 0 unexpected;" in verified
