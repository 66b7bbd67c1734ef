"""Durable file primitives: atomic replace, fsync of files and folders, Windows-friendly retries."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

_WINDOWS_RETRIES = 6
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def safe_name(text: str) -> str:
    """A file-name fragment that works on Windows too (Korean letters are kept)."""
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    return cleaned or "_"


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (POSIX only; Windows has no folder fsync)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace(src: Path, dst: Path) -> None:
    """`os.replace`, retrying briefly when Windows reports the target as in use (virus scanners, indexers)."""
    for attempt in range(_WINDOWS_RETRIES):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if os.name != "nt" or attempt == _WINDOWS_RETRIES - 1:
                raise
            time.sleep(0.05 * 2**attempt)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` so that `path` holds either the old or the new content, even after a power loss."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        replace(tmp, path)
    except BaseException:  # e.g. disk full mid-write: leave no half-written temp file behind
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
