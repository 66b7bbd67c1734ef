"""Temporary browser profiles: one fresh folder per browser, removed after it ends."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

PROFILE_PREFIX = "stepbatch-profile-"


def make_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX))


def browser_env(profile: Path) -> dict[str, str]:
    """The browser's environment, with its temporary folder inside the profile.

    On Linux Chromium keeps its single-instance socket in a fresh `$TMPDIR/org.chromium.Chromium.*`
    folder and deletes it only on a clean exit; a killed browser would leave one behind each time.
    Inside the profile it goes when the profile goes.
    """
    tmp = profile / "tmp"
    tmp.mkdir(exist_ok=True)
    return {**os.environ, "TMPDIR": str(tmp)}


def is_our_profile(path: Path) -> bool:
    """Only folders we created may be deleted by a cleanup that read their path from a file."""
    return path.name.startswith(PROFILE_PREFIX) and path.parent == Path(tempfile.gettempdir())


def remove_profile(path: Path, timeout_s: float = 10.0) -> bool:
    """Delete the profile; retry while files are still locked (Windows keeps them briefly after exit)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            shutil.rmtree(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)  # waiting for another process to release its file handles
