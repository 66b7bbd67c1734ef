"""ProcessTree.memory_mb on a real process: a full PSS read, and the cheap answer carried forward."""

from __future__ import annotations

import subprocess
import sys
import threading

import psutil
import pytest

from stepbatch.browser.processes import ProcessTree

# Reads a size in bytes per line, allocates that much (touched), answers "ok".
_GROWER = (
    "import sys\n"
    "held = []\n"
    "for line in sys.stdin:\n"
    "    held.append(b'x' * int(line))\n"
    "    print('ok', flush=True)\n"
)
_MIB = 2**20


@pytest.fixture
def grower():
    proc = subprocess.Popen(
        [sys.executable, "-c", _GROWER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    yield proc
    proc.kill()
    proc.wait(timeout=10)


def _grow(proc: subprocess.Popen, mib: int) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(f"{mib * _MIB}\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "ok"


def test_a_reused_answer_follows_growth_as_a_full_read_does(grower: subprocess.Popen):
    _grow(grower, 1)
    tree = ProcessTree(psutil.Process(grower.pid))
    first = tree.memory_mb(max_age_s=0)
    _grow(grower, 120)
    estimate = tree.memory_mb()  # within PSS_REUSE_S of the full read: last PSS + RSS change
    full = tree.memory_mb(max_age_s=0)
    assert estimate > first + 110
    assert abs(estimate - full) < 10


def test_a_full_read_is_taken_once_the_reuse_window_is_over(grower: subprocess.Popen, monkeypatch):
    tree = ProcessTree(psutil.Process(grower.pid))
    tree.memory_mb(max_age_s=0)
    reads: list[int] = []
    original = psutil.Process.memory_full_info

    def counted(self: psutil.Process):
        reads.append(self.pid)
        return original(self)

    monkeypatch.setattr(psutil.Process, "memory_full_info", counted)
    tree.memory_mb()
    tree.wait_full_read()
    assert reads == []  # reused
    tree.memory_mb(max_age_s=0)
    tree.wait_full_read()
    assert reads == [grower.pid]


def test_a_due_full_read_runs_behind_the_caller(grower: subprocess.Popen, monkeypatch):
    tree = ProcessTree(psutil.Process(grower.pid))
    first = tree.memory_mb(max_age_s=0)  # the first read is a full one, waited for
    release = threading.Event()
    original = psutil.Process.memory_full_info

    def held(self: psutil.Process):
        assert release.wait(10)
        return original(self)

    monkeypatch.setattr(psutil.Process, "memory_full_info", held)
    _grow(grower, 120)
    estimate = tree.memory_mb(max_age_s=0)  # due, but answered at once from the RSS change
    assert estimate > first + 110
    release.set()
    tree.wait_full_read()
    monkeypatch.setattr(psutil.Process, "memory_full_info", original)
    assert abs(tree.memory_mb() - tree.memory_mb(max_age_s=0)) < 10
