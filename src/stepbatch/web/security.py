"""The web page's rules: loopback by default, a token for other hosts and for every action, files only
from inside the state folder's run directories, and no secret in what is served."""

from __future__ import annotations

import hmac
import ipaddress
import os
from pathlib import Path, PurePosixPath

from stepbatch.errors import UserError

TOKEN_ENV = "STEPBATCH_WEB_TOKEN"


def is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def resolve_token(token: str | None) -> str | None:
    """`--token`, else $STEPBATCH_WEB_TOKEN, else None (empty counts as none)."""
    value = token if token is not None else os.environ.get(TOKEN_ENV)
    return value or None


def check_bind(host: str, token: str | None) -> None:
    """Refuse a non-loopback address without a token (UserError: one line, exit 2, nothing started)."""
    if not is_loopback(host) and not token:
        raise UserError(
            f"--host {host} is reachable from other machines: give a token (--token T or ${TOKEN_ENV}) "
            "or bind 127.0.0.1"
        )
    if token is not None and len(token) < 8:
        raise UserError("--token: use at least 8 characters")


def token_matches(given: str | None, expected: str | None) -> bool:
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def safe_run_file(state_dir: Path, relative: str) -> Path | None:
    """The file `runs/<run id>/<path…>` of the state folder, or None when `relative` points anywhere else:
    `..`, absolute paths, backslashes, anything whose resolved path (symlinks followed) leaves that run's
    folder, folders, missing files."""
    if not relative or "\\" in relative or "\x00" in relative:
        return None
    parts = PurePosixPath(relative).parts
    if len(parts) < 3 or parts[0] != "runs" or any(p in ("..", ".", "") for p in parts):
        return None
    if PurePosixPath(relative).is_absolute() or ":" in parts[1]:
        return None
    try:
        runs = (Path(state_dir) / "runs").resolve(strict=True)
        run_dir = (runs / parts[1]).resolve(strict=True)
        target = (runs / Path(*parts[1:])).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if run_dir.parent != runs or not target.is_relative_to(run_dir) or target == run_dir:
        return None
    return target if target.is_file() else None


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by *** (the last guard before anything is served)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
