"""The simulator's own time: how long it took to answer, summed over requests (for bench/step3_profile.py).

`GET /__timing` answers the totals so far (not counted itself); the page never calls it. Everything a
request spends inside the simulator counts, added latency and the translation busy time included (that
part is also summed on its own).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TIMING_PATH = "/__timing"


@dataclass
class ServerTiming:
    requests: int = 0
    server_s: float = 0.0  # from the request's arrival to its last body byte
    api_s: float = 0.0  # of which `/api/*` calls (the rest: the page, scripts, pictures)
    translate_s: float = 0.0  # of which the translation busy time (`--translate-ms`)

    def snapshot(self) -> dict[str, float]:
        return asdict(self)


class TimingMiddleware:
    """Outermost layer: sums the time every HTTP request spends in the app below."""

    def __init__(self, app: ASGIApp, timing: ServerTiming) -> None:
        self.app, self.timing = app, timing
        self.state = getattr(app, "state", None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TIMING_PATH:
            await _send_json(send, self.timing.snapshot())
            return
        started = time.perf_counter()
        api = scope["path"].startswith("/api/")

        async def timed_send(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                spent = time.perf_counter() - started
                self.timing.server_s += spent
                if api:
                    self.timing.api_s += spent

        self.timing.requests += 1
        await self.app(scope, receive, timed_send)


async def _send_json(send: Send, data: dict[str, float]) -> None:
    body = json.dumps(data).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
