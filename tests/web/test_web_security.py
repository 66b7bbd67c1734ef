"""`stepbatch web`'s rules: loopback or a token, the file route stays inside the run folders, actions need
the token, labels in Korean and English, nothing secret served."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from web_support import item, web_server, write_run

from stepbatch.simulator.testing import stepbatch_cli

TOKEN = "tok-3f9a1c7e55"


def test_a_non_loopback_host_without_a_token_is_refused(tmp_path: Path):
    env_token = os.environ.pop("STEPBATCH_WEB_TOKEN", None)
    try:
        result = stepbatch_cli(
            "web", "--host", "0.0.0.0", "--state-dir", str(tmp_path), cwd=tmp_path, timeout=60
        )
    finally:
        if env_token is not None:
            os.environ["STEPBATCH_WEB_TOKEN"] = env_token
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --host 0.0.0.0 is reachable"), result.stderr
    assert "serving" not in result.stdout


@pytest.fixture
def state(tmp_path: Path) -> Path:
    state = tmp_path / "state"
    run = write_run(state, "20261203-010000-ABC-step3", "ABC", [item(1.0, "X1@서버1", "p1")])
    (run / "artifacts" / "shot.png").write_bytes(b"\x89PNG fake")
    (tmp_path / "secret.txt").write_text("outside", encoding="utf-8")
    (state / "progress").mkdir()
    (state / "progress" / "other.json").write_text("{}", encoding="utf-8")
    (run / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (run / "escape-dir").symlink_to(tmp_path)
    return state


def test_the_file_route_serves_run_files_and_refuses_everything_else(state: Path):
    run = "runs/20261203-010000-ABC-step3"
    with web_server(state_dir=state) as url:
        assert httpx.get(f"{url}/files/{run}/artifacts/shot.png").content == b"\x89PNG fake"
        refused = [
            f"/files/{run}/escape.txt",  # a symlink out of the state folder
            f"/files/{run}/escape-dir/secret.txt",
            f"/files/{run}/../../../secret.txt",
            f"/files/{run}/%2e%2e/%2e%2e/secret.txt",
            f"/files/{run}/..%2f..%2f..%2fsecret.txt",
            "/files/progress/other.json",  # inside the state folder, but not a run folder
            f"/files/{run}",  # a folder
            f"/files/{run}/missing.png",
            "/files//etc/passwd",
            "/files/runs/..%5c..%5csecret.txt",
        ]
        for path in refused:
            response = httpx.get(url + path)
            assert response.status_code == 404, path
            assert b"outside" not in response.content, path


def test_actions_need_the_token_even_on_loopback(state: Path):
    with web_server(state_dir=state) as url:  # no token configured: actions are off
        assert httpx.post(f"{url}/api/cancel/ABC/step3").status_code == 403
        assert httpx.get(f"{url}/api/status").json()["actions"] is False
    with web_server(state_dir=state, token=TOKEN) as url:
        assert httpx.post(f"{url}/api/cancel/ABC/step3").status_code == 401
        assert (
            httpx.post(
                f"{url}/api/cancel/ABC/step3", headers={"Authorization": "Bearer nope-nope"}
            ).status_code
            == 403
        )
        assert httpx.post(f"{url}/api/requeue/ABC/step3", data={"token": "nope-nope"}).status_code == 403
        ok = httpx.post(f"{url}/api/cancel/ABC/step3", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 404 and "cluster mode" in ok.text  # accepted, but local mode has no queue
        for response in (httpx.get(f"{url}/api/status"), httpx.get(url + "/")):
            assert TOKEN not in response.text


def test_a_lan_page_needs_the_token_and_never_shows_it(state: Path):
    with web_server(state_dir=state, token=TOKEN, host="0.0.0.0") as url:  # as on a LAN; served on loopback
        assert httpx.get(f"{url}/api/status").status_code == 401
        assert httpx.get(f"{url}/").status_code == 401
        with httpx.Client(base_url=url, follow_redirects=True) as client:
            page = client.get("/", params={"token": TOKEN})
            assert page.status_code == 200 and TOKEN not in page.text and "token=" not in str(page.url)
            status = client.get("/api/status")  # the cookie set by the redirect
            assert status.status_code == 200 and TOKEN not in status.text
            assert status.json()["accounts"][0]["products_done"] == 1


def test_labels_follow_accept_language_and_the_toggle(state: Path):
    with web_server(state_dir=state) as url:
        ko = httpx.get(url + "/", headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"})
        assert '<html lang="ko">' in ko.text and "<th>상태</th>" in ko.text and "<th>상품</th>" in ko.text
        en = httpx.get(url + "/", headers={"Accept-Language": "en-US,en;q=0.9"})
        assert '<html lang="en">' in en.text and "<th>status</th>" in en.text
        with httpx.Client(base_url=url, headers={"Accept-Language": "ko"}) as client:
            toggled = client.get("/", params={"lang": "en"})
            assert "<th>status</th>" in toggled.text
            assert "<th>status</th>" in client.get("/").text  # the cookie keeps the choice
            assert "<th>상태</th>" in client.get("/", params={"lang": "ko"}).text
