"""A generator of realistic run folders (events.jsonl + artifacts) for the report tests."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2b7e8a90000000049454e44ae426082"
)


@dataclass
class Expected:
    """What a correct report of the generated run must show."""

    run_id: str
    outcome: str
    statuses: dict[str, str] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)  # reasons, in order
    error_classes: dict[str, int] = field(default_factory=dict)  # class -> error events
    screenshots: list[str] = field(default_factory=list)
    items_done: int = 0
    memory_samples: int = 0
    warnings: dict[str, int] = field(default_factory=dict)  # unit -> clamp notes
    presses_made: int = 0
    presses_saved: int = 0
    ocr_ms: list[int] = field(default_factory=list)  # of the images OCR actually read
    credits_left: int | str = "unknown"


class _Stream:
    def __init__(self, start: datetime) -> None:
        self.start = start
        self.t = 0.0
        self.events: list[dict[str, Any]] = []

    def emit(self, name: str, dt: float = 0.0, **fields: Any) -> None:
        self.t += dt
        ts = (self.start + timedelta(seconds=self.t)).isoformat().replace("+00:00", "Z")
        self.events.append({"ts": ts, "t": round(self.t, 3), "event": name, **fields})


def generate_run(
    state_dir: Path,
    *,
    account: str = "ABC",
    step: str = "step3",
    server: str | None = "서버2-1",
    codes: int = 12,
    batch_size: int = 4,
    restart_above_mb: float = 900.0,
    stop_account: bool = False,
    finished: bool = True,
    seed: int = 1,
    notes: bool = False,
    skipped_rows: list[dict[str, Any]] | None = None,
    translation_gate: dict[str, Any] | None = None,
) -> tuple[Path, Expected]:
    """Write `<state_dir>/runs/<run_id>/` with a plausible event stream; returns it and the expectations.

    Code 2 needs two Transient retries, code 3 fails Permanently (with a screenshot), code 5 ends partial;
    memory grows per product so the browser is also recycled on memory, not only per batch.
    With `notes`, every product gets `note` events like step3's (see `_emit_notes`).
    """
    rng = random.Random(seed)
    start = datetime(2025, 7, 1, 1, 2, 3, tzinfo=UTC)
    run_id = f"{start:%Y%m%d-%H%M%S}-{account}-{step}" + (f"-{server}" if server else "")
    run_dir = state_dir / "runs" / run_id
    (run_dir / "artifacts").mkdir(parents=True)
    keys = [f"{chr(65 + i % 26)}{10 + i}@{server or '서버1'}" for i in range(codes)]
    batches = [keys[i : i + batch_size] for i in range(0, codes, batch_size)]
    exp = Expected(run_id=run_id, outcome="stopped" if stop_account else "complete")
    s = _Stream(start)
    s.emit(
        "run_started",
        run_id=run_id,
        account=account,
        step=step,
        server=server,
        units_total=codes,
        units_remaining=codes,
        batches=len(batches),
        options={"batch_size": batch_size, "restart_above_mb": restart_above_mb, "max_attempts": 3},
        **({"skipped_rows": skipped_rows} if skipped_rows is not None else {}),
        **({"translation_gate": translation_gate} if translation_gate is not None else {}),
    )
    mb = 0.0
    first = True

    def browser(reason: str) -> None:
        nonlocal mb, first
        s.emit(
            "browser_started",
            rng.uniform(0.5, 2),
            reason=reason,
            startup_s=round(rng.uniform(1, 3), 2),
            pids=[1000 + len(s.events)],
        )
        if not first:
            exp.restarts.append(reason)
        first = False
        mb = rng.uniform(280, 320)
        sample()

    def sample() -> None:
        s.emit("memory", rng.uniform(0.5, 1.5), mb=round(mb, 1), js_heap_mb=round(mb / 5, 1), nodes=3000)
        exp.memory_samples += 1

    stopped = False
    for b, batch in enumerate(batches, 1):
        browser("first" if b == 1 else "batch")
        s.emit("batch_started", batch=b, batches=len(batches), units=batch)
        processed = failed = 0
        for idx, key in enumerate(batch):
            n = keys.index(key) + 1
            attempts = 3 if n == 2 else 1
            for attempt in range(1, attempts + 1):
                s.emit("unit_started", 0.2, unit=key, attempt=attempt)
                if attempt < attempts:  # like the engine: an error event, then a retry event
                    message = f"timeout 30000 ms waiting for 상품 목록 (attempt {attempt})"
                    s.emit(
                        "error",
                        rng.uniform(2, 5),
                        unit=key,
                        item=None,
                        error_class="Transient",
                        message=message,
                        screenshot=None,
                        html=None,
                    )
                    exp.error_classes["Transient"] = exp.error_classes.get("Transient", 0) + 1
                    s.emit(
                        "retry",
                        0.01,
                        unit=key,
                        error_class="Transient",
                        message=message,
                        attempt=attempt,
                        delay_s=2.0 * attempt,
                    )
            if n == 3:
                shot = f"artifacts/{key}-0001.png"  # Korean and @ in the name, like the engine's
                (run_dir / shot).write_bytes(PNG_1PX)
                s.emit(
                    "error",
                    3,
                    unit=key,
                    item="5f3a" * 6,
                    error_class="Permanent",
                    message="상세페이지 이미지가 3개뿐인데 first:5 삭제를 요청했습니다",
                    where="ops.py:88 check_feasible",
                    screenshot=shot,
                    html=shot.replace(".png", ".html"),
                )
                exp.screenshots.append(shot)
                exp.error_classes["Permanent"] = exp.error_classes.get("Permanent", 0) + 1
                s.emit(
                    "unit_finished",
                    0.1,
                    unit=key,
                    status="failed",
                    items_done=0,
                    items_failed=1,
                    total_found=1,
                    message="Permanent",
                )
                exp.statuses[key] = "failed"
                failed += 1
                continue
            if stop_account and b == len(batches) and idx == 0:
                s.emit(
                    "error",
                    2,
                    unit=key,
                    item=None,
                    error_class="StopAccount",
                    message="번역 가능 횟수를 모두 사용했습니다",
                )
                exp.error_classes["StopAccount"] = exp.error_classes.get("StopAccount", 0) + 1
                s.emit(
                    "unit_finished",
                    0.1,
                    unit=key,
                    status="partial",
                    items_done=0,
                    items_failed=0,
                    total_found=4,
                    message="StopAccount",
                )
                exp.statuses[key] = "partial"
                s.emit("stop", 0.1, reason="StopAccount: 번역 가능 횟수를 모두 사용했습니다")
                stopped = True
                break
            products = 0 if n % 7 == 0 else rng.randint(2, 6)
            done = products - 1 if n == 5 else products
            for p in range(done):
                item = f"{n:04x}{p:04x}" + "ab" * 8
                if notes:
                    _emit_notes(s, exp, key, item, rng)
                s.emit("item", rng.uniform(8, 20), unit=key, item=item, status="done")
                exp.items_done += 1
                mb += rng.uniform(40, 90)
                sample()
                if mb > restart_above_mb:
                    s.emit("browser_closed", 0.3, reason="memory", close_s=0.4)
                    browser("memory")
            status = "partial" if n == 5 else "done"
            s.emit(
                "unit_finished",
                0.1,
                unit=key,
                status=status,
                items_done=done,
                items_failed=0,
                total_found=products,
                message="max_products" if n == 5 else "",
            )
            exp.statuses[key] = status
            processed += 1
        s.emit(
            "batch_finished",
            0.2,
            batch=b,
            processed=processed,
            failed=failed,
            errors=failed,
            should_stop=stopped,
        )
        s.emit("browser_closed", 0.3, reason="batch", close_s=0.5)
        if stopped:
            break
    for key in keys:
        exp.statuses.setdefault(key, "pending")
    if finished:
        summary = {
            "units_done": sum(v == "done" for v in exp.statuses.values()),
            "items_done": exp.items_done,
        }
        s.emit("run_finished", 0.1, outcome=exp.outcome, summary=summary)
    else:
        exp.outcome = "unfinished"
    lines = [json.dumps(e, ensure_ascii=False) for e in s.events]
    (run_dir / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_dir, exp


def _emit_notes(s: _Stream, exp: Expected, key: str, item: str, rng: random.Random) -> None:
    """Per product: OCR of detail images 1–3 (1 has Chinese text and is pressed), a reused repeat of 2's
    decision (counted once), and a clamp warning on every other product."""
    for position in (1, 2, 3):
        ms = rng.randint(80, 400)
        chinese = position == 1
        s.emit(
            "note",
            0.1,
            unit=key,
            item=item,
            kind="ocr",
            target="detail",
            position=position,
            chinese=chinese,
            ms=ms,
            engine="rapidocr",
            reused=False,
        )
        exp.ocr_ms.append(ms)
        if chinese:
            credits = 500 - exp.presses_made
            s.emit(
                "note",
                0.1,
                unit=key,
                item=item,
                kind="press",
                target="detail",
                position=position,
                credits_left=credits,
            )
            exp.presses_made += 1
            exp.credits_left = credits
        else:
            exp.presses_saved += 1
    s.emit(
        "note",
        0.1,
        unit=key,
        item=item,
        kind="ocr",
        target="detail",
        position=2,
        chinese=False,
        ms=0,
        engine="rapidocr",
        reused=True,
    )
    if int(item[4:8], 16) % 2 == 0:
        s.emit(
            "note",
            0.1,
            unit=key,
            item=item,
            kind="clamp",
            op="image_delete last:9",
            message="only 6 image(s): deleted 6",
        )
        exp.warnings[key] = exp.warnings.get(key, 0) + 1
