"""Notifications through apprise to a real HTTP endpoint on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import pytest
from report_eventgen import generate_run

from stepbatch.config import NotifyConfig
from stepbatch.report.notify import (
    Message,
    Notifier,
    RateLimit,
    configured_urls,
    mask_url,
    parse_urls,
    send_test,
)

TOKEN = "tok3nS3cretXYZ987"
PASSWORD = "pw-Hunter2-비밀"


def _events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def _url(port: int, path: str = "hook") -> str:
    return f"json://bot:{TOKEN}@127.0.0.1:{port}/{path}"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_run_events_become_messages_without_secrets(http_sink, runs_root, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    run_dir, exp = generate_run(runs_root, stop_account=True)
    events = _events(run_dir)
    # a processor error that echoed the typed password must not travel
    events.insert(
        5,
        {
            "ts": events[5]["ts"],
            "t": 1,
            "event": "retry",
            "unit": "A10@서버2-1",
            "error_class": "Transient",
            "message": f"login form rejected {PASSWORD}",
            "attempt": 1,
        },
    )
    notifier = Notifier(
        [_url(http_sink.port)],
        RateLimit(per_key_s=600, per_minute=100),
        repeated_failures=2,
        secrets=[PASSWORD],
    )
    assert http_sink.requests == []  # nothing is sent just because a notifier exists
    for event in events:
        notifier(event)
    notifier.close()

    payloads = http_sink.payloads()
    titles = [p["title"] for p in payloads]
    assert titles[0] == "stepbatch ▶ ABC step3 서버2-1"
    assert any(t.startswith("stepbatch ⚠") for t in titles)  # repeated failures
    assert any(t.startswith("stepbatch ⏸") for t in titles)  # StopAccount
    assert titles[-1] == "stepbatch ■ ABC step3 서버2-1: stopped"
    repeated = [p["message"] for p in payloads if p["title"].startswith("stepbatch ⚠")]
    assert len(repeated) == 1 and "B11@서버2-1" in repeated[0]  # B11 failed twice, A10 only once
    stop = next(p["message"] for p in payloads if p["title"].startswith("stepbatch ⏸"))
    assert "번역 가능 횟수를 모두 사용했습니다" in stop
    final = payloads[-1]["message"]
    assert "결과 outcome: stopped" in final and f"재시작 restarts: {len(exp.restarts)}" in final
    assert all(r["path"] == "/hook" for r in http_sink.requests)

    everything = "\n".join(http_sink.bodies())
    assert PASSWORD not in everything and "********" in everything
    records = [r.getMessage() for r in caplog.records]
    assert any("notify: sent run_started to json://bot:****@127.0.0.1" in m for m in records)
    for message in records:
        assert TOKEN not in message and PASSWORD not in message, message


def test_rate_limit_per_kind_and_key_and_global_cap(http_sink, caplog) -> None:
    caplog.set_level(logging.INFO, logger="stepbatch.notify")
    clock = FakeClock()
    notifier = Notifier([_url(http_sink.port)], RateLimit(per_key_s=600, per_minute=3), clock=clock)

    def msg(kind: str, key: str) -> Message:
        return Message(kind, key, f"{kind} {key}", "body")

    assert notifier.submit(msg("repeated_failures", "X12@서버1"))
    assert not notifier.submit(msg("repeated_failures", "X12@서버1"))  # same code, same kind: dropped
    assert notifier.submit(msg("repeated_failures", "Y34@서버1"))  # another code is fine
    assert notifier.submit(msg("account_stopped", "X12@서버1"))  # another kind is fine
    assert not notifier.submit(msg("repeated_failures", "Z56@서버1"))  # 4th in a minute: global cap
    assert notifier.submit(msg("run_finished", "run-1"))  # the final summary is never capped
    clock.now += 61
    assert notifier.submit(msg("repeated_failures", "Z56@서버1"))
    assert not notifier.submit(msg("repeated_failures", "X12@서버1"))  # still within its 10 minutes
    clock.now += 600
    assert notifier.submit(msg("repeated_failures", "X12@서버1"))
    notifier.close()
    assert http_sink.wait_for(6)
    assert [p["title"] for p in http_sink.payloads()] == [
        "repeated_failures X12@서버1",
        "repeated_failures Y34@서버1",
        "account_stopped X12@서버1",
        "run_finished run-1",
        "repeated_failures Z56@서버1",
        "repeated_failures X12@서버1",
    ]
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 3
    assert any("more than 3 messages a minute" in m for m in dropped)


def test_a_hanging_or_failing_service_never_blocks_the_run(http_sink, caplog) -> None:
    caplog.set_level(logging.INFO, logger="stepbatch.notify")
    http_sink.hold = threading.Event()
    notifier = Notifier([_url(http_sink.port)], timeout_s=1.0, finish_wait_s=0.2)
    started = time.monotonic()
    notifier(
        {
            "ts": "2025-07-01T00:00:00Z",
            "t": 0,
            "event": "run_started",
            "run_id": "r1",
            "account": "ABC",
            "step": "step3",
            "server": None,
            "units_total": 1,
            "units_remaining": 1,
            "batches": 1,
        }
    )
    notifier(
        {"ts": "2025-07-01T00:00:01Z", "t": 1, "event": "run_finished", "outcome": "complete", "summary": {}}
    )
    assert time.monotonic() - started < 1.0  # queued, not sent inline; finish waits at most finish_wait_s
    assert notifier.flush(30)  # the worker gives up after the 1 s read timeout
    results = [r for _, rs in notifier.sent for r in rs]
    assert results and not any(r.ok for r in results)
    http_sink.hold.set()

    http_sink.status = 500
    bad = Notifier([_url(http_sink.port), "json://127.0.0.1:9/closed"], timeout_s=2.0)
    bad(
        {
            "ts": "2025-07-01T00:00:00Z",
            "t": 0,
            "event": "run_started",
            "run_id": "r2",
            "account": "ABC",
            "step": "step3",
            "server": None,
            "units_total": 1,
            "units_remaining": 1,
            "batches": 1,
        }
    )
    bad.close()
    assert [r.ok for r in bad.sent[0][1]] == [False, False]
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("was not accepted" in m for m in warnings)
    assert all(TOKEN not in m for m in warnings)


def test_send_test_reports_each_url_masked(http_sink) -> None:
    results = send_test([_url(http_sink.port), "json://127.0.0.1:9/closed", "nonsense://x/y"], timeout_s=2)
    assert [r.ok for r in results] == [True, False, False]
    assert results[0].url == f"json://bot:****@127.0.0.1:{http_sink.port}/hook"
    assert results[2].detail == "not a valid notification URL"
    assert all(TOKEN not in r.url for r in results)
    assert http_sink.payloads()[0]["title"] == "stepbatch 알림 테스트 (test)"


def test_urls_from_env_or_config_and_masking() -> None:
    assert parse_urls("tgram://1:a/2, json://h/x  mailto://u:p@h") == [
        "tgram://1:a/2",
        "json://h/x",
        "mailto://u:p@h",
    ]
    assert parse_urls("json://h/x?to=a,b") == ["json://h/x?to=a,b"]
    config = NotifyConfig(urls=["json://from-config/x"])
    assert configured_urls(config, env={}) == ["json://from-config/x"]
    assert configured_urls(config, env={"STEPBATCH_NOTIFY": "json://env/y"}) == ["json://env/y"]
    masked = mask_url("tgram://123456789:ABCdefGhIJKlmnOPQRsTUVwxyZ/98765")
    assert "ABCdefGhIJKlmnOPQRsTUVwxyZ" not in masked and masked.startswith("tgram://")
    assert Notifier.from_config(NotifyConfig(), env={}) is None


@pytest.mark.parametrize("reason", ["browser_failed", "crash_loop"])
def test_browser_restarts_failing_is_notified_once(http_sink, reason) -> None:
    notifier = Notifier([_url(http_sink.port)], repeated_failures=3)
    base = {"ts": "2025-07-01T00:00:00Z", "t": 0}
    notifier(
        {
            **base,
            "event": "run_started",
            "run_id": "r3",
            "account": "ABC",
            "step": "step2",
            "server": "서버1",
            "units_total": 2,
            "units_remaining": 2,
            "batches": 1,
        }
    )
    if reason == "browser_failed":
        notifier(
            {**base, "event": "browser_failed", "reason": "crash", "message": "chromium exited with code 1"}
        )
    else:  # the engine reports each failed start as a BrowserCrashed error of the unit it was for
        for n in range(4):
            notifier(
                {
                    **base,
                    "event": "error",
                    "unit": f"X{n}@서버1",
                    "item": None,
                    "error_class": "BrowserCrashed",
                    "message": "browser failed to start: chromium exited",
                    "screenshot": None,
                    "html": None,
                }
            )
    notifier.close()
    titles = [p["title"] for p in http_sink.payloads()]
    assert titles == ["stepbatch ▶ ABC step2 서버1", "stepbatch ✖ ABC step2 서버1"]


def test_telegram_token_is_masked_in_third_party_log_records(caplog) -> None:
    caplog.set_level(logging.DEBUG)
    bot_token = "123456789:AAHfakeFAKEfake_tokenVALUE-xyz"
    Notifier([f"tgram://{bot_token}/98765"])  # registers the token's secret parts; sends nothing
    # what urllib3 logs when apprise posts to Telegram (the token is in the request path)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s',
        "https",
        "api.telegram.org",
        443,
        "POST",
        f"/bot{bot_token}/sendMessage",
        "HTTP/1.1",
        200,
        512,
    )
    logging.getLogger("apprise").info("tgram token was %s", bot_token)
    messages = [r.getMessage() for r in caplog.records]
    assert any("sendMessage" in m for m in messages)
    assert all("AAHfakeFAKEfake_tokenVALUE-xyz" not in m for m in messages)
