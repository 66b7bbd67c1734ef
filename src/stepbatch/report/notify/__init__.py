"""Notifications through apprise (Telegram `tgram://token/chat`, Slack, e-mail, JSON webhooks, ...).

`Notifier` is an engine event listener: call it with each event dict. It decides what deserves a message
(run started/finished, account stopped, one code failing again and again, the browser failing to come
back; `rules`), rate-limits, and sends from a background thread so a slow or broken service never blocks
or crashes the run (`notifier`, `sending`). Nothing is sent at construction. Secrets (URL tokens,
passwords handed in as `secrets`) are masked in every message, and in every log record of apprise and
urllib3 while a notifier is open or `send_test` runs (`redact`).
"""

from stepbatch.report.notify.notifier import Notifier, RateLimit, Sender
from stepbatch.report.notify.redact import MASK, REDACT, log_redaction
from stepbatch.report.notify.rules import Message
from stepbatch.report.notify.sending import SendResult, send_one, send_test
from stepbatch.report.notify.urls import ENV_VAR, configured_urls, mask_url, parse_urls, secret_parts

__all__ = [
    "ENV_VAR",
    "MASK",
    "REDACT",
    "Message",
    "Notifier",
    "RateLimit",
    "SendResult",
    "Sender",
    "configured_urls",
    "log_redaction",
    "mask_url",
    "parse_urls",
    "secret_parts",
    "send_one",
    "send_test",
]
