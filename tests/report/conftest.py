"""Fixtures of the report tests: generated run folders and a local HTTP endpoint that records requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest


@dataclass
class Sink:
    """A real HTTP server on 127.0.0.1 that stores every request body (apprise `json://` posts here)."""

    port: int
    requests: list[dict] = field(default_factory=list)
    status: int = 200
    hold: threading.Event | None = None  # when set to an unset Event, requests wait on it
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def bodies(self) -> list[str]:
        return [r["body"] for r in self.requests]

    def payloads(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.requests]

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)


@pytest.fixture
def http_sink() -> Iterator[Sink]:
    sink: Sink

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            if sink.hold is not None:
                sink.hold.wait(60)
            with sink.arrived:
                sink.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                sink.arrived.notify_all()
            self.send_response(sink.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    sink = Sink(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        if sink.hold is not None:
            sink.hold.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def runs_root(tmp_path: Path) -> Path:
    root = tmp_path / "state"
    root.mkdir()
    return root
