"""Login page: sign in, dismiss the post-login notices, hide Channel Talk."""

from __future__ import annotations

import logging

from playwright.sync_api import Error as PlaywrightError

from stepbatch.engine.errors import StopAccount, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import SHORT_TIMEOUT_MS, PageHelper, is_signin_url
from stepbatch.workbook.models import Account

log = logging.getLogger(__name__)

_LOGGED_IN_JS = f"""
() => !location.pathname.replace(/\\/$/, '').endsWith('{S.SIGNIN_PATH}')
      && !!document.querySelector({S.APP_LAYOUT!r})
"""

# `replaced`: a new sign-in page stands where the form was submitted (the site sent the page there again).
_LOGIN_OUTCOME_JS = f"""
() => {{
  const onSignin = location.pathname.replace(/\\/$/, '').endsWith('{S.SIGNIN_PATH}');
  if (!onSignin && document.querySelector({S.APP_LAYOUT!r})) return 'ok';
  if (onSignin && !window.__sbLoginSubmitted) return 'replaced';
  const errs = [...document.querySelectorAll({S.LOGIN_ERRORS!r})]
    .filter(e => !e.hidden && e.offsetParent !== null && e.textContent.trim());
  return errs.length ? 'error:' + errs[0].textContent.trim() : null;
}}
"""


_MARK_SUBMITTED_JS = "() => { window.__sbLoginSubmitted = true; }"
FORM_ATTEMPTS = 3

# What a goto says when the page's own navigation overtook it.
_OVERTAKEN = ("interrupted by another navigation", "net::err_aborted")


class LoginPage:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper

    def login(self, account: Account) -> None:
        """Sign in with the account's email and password (the password is never logged)."""
        self.h.install_channel_talk_blocker()
        self._open_signin()
        if self.h.on_signin():
            self._sign_in(account)
        else:
            self.h.wait_js(_LOGGED_IN_JS)
        if self.h.on_signin():
            raise Transient("still on the sign-in page after logging in")
        self.h.dismiss_popups()

    def _sign_in(self, account: Account) -> None:
        for _ in range(FORM_ATTEMPTS):
            outcome = self._submit_form(account)
            if outcome == "ok":
                return
            if outcome.startswith("error:"):
                message = outcome.removeprefix("error:")
                if S.LOGIN_REFUSED_TEXT in message:
                    # Wrong credentials will not get better by retrying: stop this account.
                    raise StopAccount(f"login refused for {account.email}: {message}")
                raise Transient(f"login failed for {account.email}: {message}")
            log.info("a new sign-in page replaced the submitted form; filling it in again")
        raise Transient("the sign-in page kept loading again under the login form")

    def _submit_form(self, account: Account) -> str:
        page = self.h.page
        page.locator(S.LOGIN_EMAIL).fill(account.email)
        page.locator(S.LOGIN_PASSWORD).fill(account.password.reveal())
        page.evaluate(_MARK_SUBMITTED_JS)
        self.h.click(page.locator(S.LOGIN_SUBMIT), signin_ok=True)
        return str(self.h.wait_js(_LOGIN_OUTCOME_JS))

    def _open_signin(self) -> None:
        page = self.h.page
        for attempt in range(1, FORM_ATTEMPTS + 1):
            try:
                page.goto(self.h.base_url + S.SIGNIN_PATH, wait_until="domcontentloaded")
                return
            except PlaywrightError as exc:
                if attempt == FORM_ATTEMPTS or not any(m in str(exc).lower() for m in _OVERTAKEN):
                    raise
            # The page's own navigation overtook ours: an expired session is sent to sign-in by the
            # site itself. Let it arrive; if it went elsewhere, open the sign-in page again.
            try:
                page.wait_for_url(is_signin_url, wait_until="domcontentloaded", timeout=SHORT_TIMEOUT_MS)
                return
            except PlaywrightError:
                log.info("the page went elsewhere while opening the sign-in page; opening it again")
