"""User-facing errors: one line, an exit code, no traceback (the CLI prints them)."""

from __future__ import annotations

EXIT_OK = 0
EXIT_PROBLEMS = 1  # validation problems found / run finished with failures / verification failed
EXIT_UNUSABLE = 2  # bad argument or unusable input file
EXIT_LOCKED = 3  # the account is already running
EXIT_INTERRUPTED = 130


class UserError(Exception):
    """A mistake the user can fix. `str()` is the whole message: one line, names the culprit."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code
