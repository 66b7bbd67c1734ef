"""Chromium command-line flags: what every headless run here needs, and what keeps tests offline."""

from __future__ import annotations

BASE_ARGS: tuple[str, ...] = (
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-features=NetworkTimeServiceQuerying,Translate,MediaRouter",
)

ROOT_ARGS: tuple[str, ...] = ("--no-sandbox",)  # Chromium refuses to run as root with its sandbox

OFFLINE_ARGS: tuple[str, ...] = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
)


def chromium_args(*, offline: bool = False) -> list[str]:
    import os

    args = list(BASE_ARGS)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args += ROOT_ARGS
    if offline:
        args += OFFLINE_ARGS
    return args
