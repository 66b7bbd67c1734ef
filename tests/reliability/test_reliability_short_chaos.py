"""A short chaos run (bench/chaos.py on a small workbook): 3 runner SIGKILLs, 1 Chromium kill, 1 SIGINT,
then the simulator's verifier must find every product processed exactly once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]


def test_short_chaos_loses_and_repeats_nothing(tmp_path: Path) -> None:
    # seed 7 with 2 codes gives one account 10 step3 products over 2 codes: small enough for < 2 min
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "chaos.py"),
        "--seed",
        "7",
        "--accounts",
        "1",
        "--codes",
        "2",
        "--products",
        "8",
        "--kills",
        "3",
        "--browser-kills",
        "1",
        "--sigints",
        "1",
        "--step",
        "step3",
        "--dir",
        str(tmp_path / "chaos"),
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run(
        cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=900, check=False
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert re.search(r"verified (\d+) products: 0 missing, 0 repeated, 0 unexpected", out), out[-4000:]
    assert int(re.search(r"verified (\d+) products", out).group(1)) >= 8
    for kind in ("kill:edit", "kill:progress", "kill:random", "browser", "sigint"):
        assert f"| {kind} | 1 |" in out, out[-4000:]
    assert "| locks held | none | yes |" in out
    assert "| chromium/chromedriver left | none | yes |" in out
    assert "chaos: PASS" in out
