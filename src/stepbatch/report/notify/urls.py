"""Notification URLs: where they come from, which of their parts are secret, how to print them."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

import apprise

from stepbatch.config import NotifyConfig
from stepbatch.report.notify.redact import MASK

ENV_VAR = "STEPBATCH_NOTIFY"
_SCHEME_SPLIT = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)|\s+")
_URL_TOKEN = re.compile(r"[/:@?&=,#+]")


def parse_urls(text: str | None) -> list[str]:
    """`STEPBATCH_NOTIFY` → URLs: separated by whitespace, or by commas before the next `scheme://`."""
    return [part for part in _SCHEME_SPLIT.split(text or "") if part.strip(" ,")]


def configured_urls(config: NotifyConfig | None = None, env: Mapping[str, str] | None = None) -> list[str]:
    """The environment variable wins over the config file's `[notify] urls`."""
    env = os.environ if env is None else env
    from_env = parse_urls(env.get(ENV_VAR))
    return from_env or list(config.urls if config else [])


def instantiate(url: str) -> Any:
    """apprise's plugin for `url`, or None when it is not a valid notification URL."""
    try:
        return apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:  # a broken plugin must not break the run
        return None


def secret_parts(url: str) -> list[str]:
    """Pieces of `url` that apprise hides in its privacy form (tokens, passwords, keys)."""
    plugin = instantiate(url)
    if plugin is None:
        # unknown scheme: treat everything after the scheme as secret
        return [url.split("://", 1)[-1]] if "://" in url else [url]
    private = plugin.url(privacy=True)
    return [tok for tok in _URL_TOKEN.split(url.split("://", 1)[-1]) if len(tok) >= 4 and tok not in private]


def mask_url(url: str) -> str:
    """A URL safe to print or log: apprise's privacy form without its default parameters."""
    plugin = instantiate(url)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        return f"{scheme}://{MASK} (not a valid notification URL)"
    return plugin.url(privacy=True).split("?", 1)[0]
