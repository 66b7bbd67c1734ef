"""`stepbatch run` end to end: notifications reach a local webhook and the run's HTML report is written."""

from __future__ import annotations

import dataclasses
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from e2e_support import Sim, request

from stepbatch.app.run import run_one
from stepbatch.config import NotifyConfig

pytestmark = pytest.mark.browser


class _Sink(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.bodies: list[str] = []
        self.received = threading.Condition()


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
        with self.server.received:  # type: ignore[attr-defined]
            self.server.bodies.append(body)  # type: ignore[attr-defined]
            self.server.received.notify_all()  # type: ignore[attr-defined]
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_step3_run_notifies_and_its_report_shows_codes_and_restarts(sim: Sim, tmp_path: Path, monkeypatch):
    monkeypatch.delenv("STEPBATCH_NOTIFY", raising=False)
    sink = _Sink()
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    try:
        token = "SECRET-TOKEN-123"
        url = f"json://bot:{token}@127.0.0.1:{sink.server_address[1]}/hook"
        base = request(sim, "step3", tmp_path / "state", batch_size=1)
        req = dataclasses.replace(base, notify=NotifyConfig(urls=[url]))
        out = io.StringIO()
        assert run_one(req, out=out, live=False) == 0, out.getvalue()
    finally:
        sink.shutdown()
        sink.server_close()

    texts = [json.loads(b)["title"] + "\n" + json.loads(b)["message"] for b in sink.bodies]
    assert any("started" in t for t in texts), texts
    assert any("finished" in t or "complete" in t for t in texts), texts
    password = sim.book.accounts[0].password.reveal()
    for body in sink.bodies:
        assert password not in body and token not in body

    [run_dir] = sorted((tmp_path / "state" / "runs").iterdir())
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    codes = [u.provider_code for u in sim.book.units(sim.book.accounts[0], "step3")]
    assert len(codes) >= 2 and all(code in html for code in codes)
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    restarts = [e for e in map(json.loads, lines) if e["event"] == "browser_started"][1:]
    assert restarts, "batch size 1 over several codes must recycle the browser"
    assert html.count('class="restart-marker"') == len(restarts)
    assert 'id="outcome"' in html and ">complete<" in html
    assert (run_dir / "summary.md").exists()
    assert f"report: {run_dir / 'report.html'}" in out.getvalue()
