"""Taking an account's secrets, and anything token-like, out of page HTML and text that is saved or shown."""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass
from urllib.parse import quote

PASSWORD_MASK, EMAIL_MASK, TOKEN_MASK = "********", "***@***", "[redacted]"

_SCRIPT = re.compile(r"(<script\b[^>]*>).*?(</script\s*>)", re.S | re.I)
_PASSWORD_INPUT = re.compile(r"<input\b[^>]*\btype\s*=\s*[\"']?password\b[^>]*>", re.I)
_VALUE_ATTR = re.compile(r"\svalue\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+)", re.I)
_ATTR_VALUE = re.compile(r"(=\s*)(\"[^\"]*\"|'[^']*')")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*)?")  # base64 of `{"` . payload . sig


@dataclass(frozen=True)
class Scrubber:
    """Takes the account's secrets and anything token-like out of what the probe saves or prints."""

    password: str
    email: str

    def text(self, value: str) -> str:
        for secret in {self.password, html_lib.escape(self.password), quote(self.password, safe="")}:
            if secret:
                value = value.replace(secret, PASSWORD_MASK)
        for email in {self.email, quote(self.email, safe="")}:
            if email:
                value = re.sub(re.escape(email), EMAIL_MASK, value, flags=re.I)
        return value

    def html(self, page_html: str) -> str:
        page_html = _JWT.sub(TOKEN_MASK, _SCRIPT.sub(r"\1\2", page_html))
        page_html = _PASSWORD_INPUT.sub(lambda m: _VALUE_ATTR.sub("", m.group(0)), page_html)
        page_html = _ATTR_VALUE.sub(lambda m: m.group(1) + _TOKEN.sub(_mask_token, m.group(2)), page_html)
        return self.text(page_html)


def _mask_token(match: re.Match[str]) -> str:
    """A long run with a digit, or mixed case without hyphens (JWT, session id) is a token; not a long
    hyphenated class name."""
    run = match.group(0)
    mixed = any(c.isupper() for c in run) and any(c.islower() for c in run) and "-" not in run
    return TOKEN_MASK if any(c.isdigit() for c in run) or mixed else run
