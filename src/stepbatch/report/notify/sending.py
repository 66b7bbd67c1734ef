"""Sending one message to one URL through apprise, synchronously, never raising."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apprise

from stepbatch.report.notify.redact import REDACT, log_redaction
from stepbatch.report.notify.rules import Message
from stepbatch.report.notify.urls import instantiate, mask_url, secret_parts

log = logging.getLogger("stepbatch.notify")

_LEVELS = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


@dataclass(frozen=True)
class SendResult:
    url: str  # masked
    ok: bool
    detail: str = ""


def register_secrets(urls: Iterable[str], secrets: Iterable[str] = ()) -> None:
    """Mask `secrets` and the secret parts of each URL from now on."""
    REDACT.add(secrets)
    for url in urls:
        REDACT.add(secret_parts(url))


def send_one(url: str, message: Message, timeout_s: float = 10.0) -> SendResult:
    """Send one message to one URL now; never raises. Logs the outcome with the URL masked."""
    masked = mask_url(url)
    plugin = instantiate(url)
    if plugin is None:
        log.warning("notify: %s is not a valid notification URL", masked)
        return SendResult(masked, False, "not a valid notification URL")
    for attr in ("socket_connect_timeout", "socket_read_timeout"):
        if hasattr(plugin, attr):
            setattr(plugin, attr, timeout_s)
    try:
        ok = bool(
            plugin.notify(
                body=REDACT(message.body),
                title=REDACT(message.title),
                notify_type=_LEVELS.get(message.level, apprise.NotifyType.INFO),
            )
        )
    except Exception as exc:
        log.warning("notify: %s to %s failed: %s", message.kind, masked, REDACT(repr(exc)))
        return SendResult(masked, False, REDACT(type(exc).__name__))
    if ok:
        log.info("notify: sent %s to %s", message.kind, masked)
        return SendResult(masked, True)
    log.warning("notify: %s to %s was not accepted (see the log above)", message.kind, masked)
    return SendResult(masked, False, "the service did not accept the message")


def send_test(urls: Sequence[str], timeout_s: float = 10.0, secrets: Iterable[str] = ()) -> list[SendResult]:
    """`stepbatch notify-test`: one test message to each URL, synchronously."""
    message = Message(
        "test", "test", "stepbatch 알림 테스트 (test)", "stepbatch notification test: it works."
    )
    with log_redaction():
        register_secrets(urls, secrets)
        return [send_one(url, message, timeout_s) for url in urls]
