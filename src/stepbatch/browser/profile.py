"""Temporary browser profiles: one fresh folder per browser, removed after it ends."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

PROFILE_PREFIX = "stepbatch-profile-"


def make_profile() -> Path:
    return Path(tempfile.mkdtemp(prefix=PROFILE_PREFIX))


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
