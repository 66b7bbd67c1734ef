"""Helpers of the web tests: the page's app served by uvicorn on 127.0.0.1 in a thread, synthetic runs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from stepbatch.web.server import WebOptions, build_app


@contextmanager
def web_server(**options: Any) -> Iterator[str]:
    """`stepbatch web` with these WebOptions, served on a free 127.0.0.1 port; yields its base URL."""
    app, _ = build_app(WebOptions(port=0, **options))
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "web server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def write_run(
    state: Path, run_id: str, account: str, events: list[dict[str, Any]], step: str = "step3"
) -> Path:
    """A run folder with `events` after its run_started line."""
    run_dir = state / "runs" / run_id
    (run_dir / "artifacts").mkdir(parents=True, exist_ok=True)
    first = {"ts": "2026-12-03T01:00:00+00:00", "t": 0.0, "event": "run_started", "run_id": run_id,
             "account": account, "step": step, "server": None, "units_total": 4, "units_remaining": 4,
             "batches": 2}  # fmt: skip
    append(run_dir, [first, *events])
    return run_dir


def append(run_dir: Path, events: list[dict[str, Any]], tail: str = "") -> None:
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events) + tail)


def item(t: float, unit: str, product: str) -> dict[str, Any]:
    return {"ts": "2026-12-03T01:00:01+00:00", "t": t, "event": "item", "unit": unit, "item": product,
            "status": "done"}  # fmt: skip
