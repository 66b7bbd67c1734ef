"""Page objects in headless Chromium against the simulator: login, list state, failure artifacts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stepbatch.browser.factory import BrowserOptions, start_session
from stepbatch.engine.errors import SessionExpired, StopAccount
from stepbatch.simulator.faults import Faults
from stepbatch.sites.percenty.site import PercentySite
from stepbatch.workbook.models import Account, Secret

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "e2e"))
from e2e_support import simulator

pytestmark = pytest.mark.browser


@pytest.fixture
def session():
    s = start_session(BrowserOptions(offline=True))
    yield s
    s.close()


def test_login_list_state_and_failure_artifacts(tmp_path: Path, session):
    with simulator(tmp_path, faults=Faults(login_popup=True, channel_talk=True), codes=3, per_code=3) as sim:
        account = sim.book.accounts[0]
        site = PercentySite(sim.url)
        site.open(session, account)
        site.ensure_list()
        assert site.list.current_group() == "신규수집"
        assert site.list.current_page_size() == "50개씩 보기"
        code = sim.book.units(account, "step3")[0].provider_code
        assert site.list.search(code) == 3
        assert len(site.list.row_ids()) == 3
        # Channel Talk is hidden by the injected style, the login notice is gone
        assert not session.page.locator("#ch-plugin").is_visible()
        assert (
            session.page.locator(".notice-popup").count() == 0
            or not session.page.locator(".notice-popup").is_visible()
        )

        files = site.capture_failure(tmp_path / "artifacts" / "X12@서버1-1-Transient")
        assert files["screenshot"].stat().st_size > 1000
        html = files["html"].read_text(encoding="utf-8")
        assert "총 3개 상품" in html
        assert account.password.reveal() not in html

        session.page.context.clear_cookies()  # the session is gone: the next API call answers 401
        with pytest.raises(SessionExpired):
            site.list.search(code)


def test_wrong_password_stops_the_account(tmp_path: Path, session):
    with simulator(tmp_path, codes=2, per_code=1) as sim:
        real = sim.book.accounts[0]
        wrong = Account(real.email, Secret("not-the-password"), real.operator, real.nickname, real.index)
        with pytest.raises(StopAccount) as info:
            PercentySite(sim.url).open(session, wrong)
        assert "not-the-password" not in str(info.value)
