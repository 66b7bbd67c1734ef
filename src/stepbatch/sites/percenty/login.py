"""Login page: sign in, dismiss the post-login notices, hide Channel Talk."""

from __future__ import annotations

from stepbatch.engine.errors import StopAccount, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.base import PageHelper
from stepbatch.workbook.models import Account

_LOGGED_IN_JS = f"""
() => !location.pathname.replace(/\\/$/, '').endsWith('{S.SIGNIN_PATH}')
      && !!document.querySelector({S.APP_LAYOUT!r})
"""

_LOGIN_OUTCOME_JS = f"""
() => {{
  if (!location.pathname.replace(/\\/$/, '').endsWith('{S.SIGNIN_PATH}')
      && document.querySelector({S.APP_LAYOUT!r})) return 'ok';
  const errs = [...document.querySelectorAll({S.LOGIN_ERRORS!r})]
    .filter(e => !e.hidden && e.offsetParent !== null && e.textContent.trim());
  return errs.length ? 'error:' + errs[0].textContent.trim() : null;
}}
"""


class LoginPage:
    def __init__(self, helper: PageHelper) -> None:
        self.h = helper

    def login(self, account: Account) -> None:
        """Sign in with the account's email and password (the password is never logged)."""
        page = self.h.page
        self.h.install_channel_talk_blocker()
        page.goto(self.h.base_url + S.SIGNIN_PATH, wait_until="domcontentloaded")
        if self.h.on_signin():
            page.locator(S.LOGIN_EMAIL).fill(account.email)
            page.locator(S.LOGIN_PASSWORD).fill(account.password.reveal())
            self.h.click(page.locator(S.LOGIN_SUBMIT), signin_ok=True)
            outcome = str(self.h.wait_js(_LOGIN_OUTCOME_JS))
            if outcome.startswith("error:"):
                message = outcome.removeprefix("error:")
                if "일치하지" in message:
                    # Wrong credentials will not get better by retrying: stop this account.
                    raise StopAccount(f"login refused for {account.email}: {message}")
                raise Transient(f"login failed for {account.email}: {message}")
        else:
            self.h.wait_js(_LOGGED_IN_JS)
        if self.h.on_signin():
            raise Transient("still on the sign-in page after logging in")
        self.h.install_channel_talk_blocker()
        self.h.dismiss_popups()
