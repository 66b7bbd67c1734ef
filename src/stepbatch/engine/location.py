"""Where an error was raised: `file:line function` of our own code, and the whole traceback for the logs."""

from __future__ import annotations

import sysconfig
import traceback
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_LIBRARY_DIRS = tuple(
    Path(sysconfig.get_paths()[key]).resolve() for key in ("stdlib", "platstdlib", "purelib", "platlib")
)


def _own_code(filename: str) -> bool:
    """stepbatch's code or a plugin's, not Python's or a library's (Playwright, Selenium)."""
    path = Path(filename).resolve()
    return path.is_relative_to(_PACKAGE_DIR) or not any(path.is_relative_to(d) for d in _LIBRARY_DIRS)


def code_location(error: BaseException) -> str | None:
    """`file:line function` of the innermost frame of our own code that raised `error`.

    An error translated with `raise ... from exc` (a Playwright timeout turned into `Transient`) is placed
    where the original was raised, not at the translation.
    """
    chain = [error]
    while chain[-1].__cause__ is not None and len(chain) < 10:
        chain.append(chain[-1].__cause__)
    for exc in reversed(chain):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if _own_code(f.filename)]
        if frames:
            return f"{Path(frames[-1].filename).name}:{frames[-1].lineno} {frames[-1].name}"
    return None


def format_traceback(error: BaseException) -> str:
    """The whole traceback of `error` (with its causes), for the run and batch logs."""
    return "".join(traceback.format_exception(error)).rstrip()


__all__ = ["code_location", "format_traceback"]
