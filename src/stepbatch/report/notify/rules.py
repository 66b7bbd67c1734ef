"""What deserves a message: the event stream folded into a run, and the rules that turn it into messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stepbatch.contracts.events import Event
from stepbatch.report.chart import format_clock
from stepbatch.report.events import RunAccumulator, RunData
from stepbatch.text import plural


@dataclass(frozen=True)
class Message:
    kind: str  # run_started, run_finished, account_stopped, repeated_failures, browser_failing, test
    key: str  # rate-limit key inside the kind (run id, unit key)
    title: str
    body: str
    level: str = "info"  # info, success, warning, failure


def _label(run: RunData) -> str:
    parts = [run.account or "?", run.step or "?"]
    if run.server:
        parts.append(run.server)
    return " ".join(parts)


def _finished_body(run: RunData) -> str:
    counts = run.status_counts()
    done_items = run.items_done or sum(u.items_done for u in run.units.values())
    lines = [
        f"결과 outcome: {run.outcome} · {format_clock(run.duration_s)}",
        "코드 codes: " + " · ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        if counts
        else "코드 codes: 0",
        f"상품 products done: {done_items}",
        f"브라우저 재시작 restarts: {len(run.restarts)}",
    ]
    if run.stop_reasons:
        lines.append("중단 stop: " + "; ".join(run.stop_reasons))
    for group in run.errors[:3]:
        lines.append(f"- {group.error_class} ×{group.count + group.retries}: {group.message[:160]}")
    lines.append(f"run {run.run_id}")
    return "\n".join(lines)


class Watch:
    """Turns the event stream into messages."""

    def __init__(self, repeated_failures: int) -> None:
        self.threshold = max(1, repeated_failures)
        self.acc = RunAccumulator(RunData(run_dir=None, run_id="?"))
        self.failures: dict[str, int] = {}
        self.crash_streak = 0
        self.stopped = False
        self._handlers: dict[Event, Callable[[dict[str, Any]], list[Message]]] = {
            Event.RUN_STARTED: self._on_run_started,
            Event.RUN_FINISHED: self._on_run_finished,
            Event.STOP: self._on_stop,
            Event.ERROR: self._on_error,
            Event.BROWSER_FAILED: self._on_browser_failed,
            Event.ITEM: self._on_item,
        }

    @property
    def run(self) -> RunData:
        return self.acc.run

    def messages(self, event: dict[str, Any]) -> list[Message]:
        self.acc.add(event)
        kind = Event.parse(event.get("event"))
        handler = self._handlers.get(kind) if kind is not None else None
        return handler(event) if handler else []

    def _on_run_started(self, e: dict[str, Any]) -> list[Message]:
        run = self.run
        body = (
            f"실행 시작 run started: 코드 {run.units_remaining} / {run.units_total}개, "
            f"배치 {run.batches_planned}개\n"
            f"run {run.run_id}"
        )
        return [Message("run_started", run.run_id, f"stepbatch ▶ {_label(run)}", body)]

    def _on_run_finished(self, e: dict[str, Any]) -> list[Message]:
        run = self.run
        level = {"complete": "success", "stopped": "warning"}.get(run.outcome, "failure")
        title = f"stepbatch ■ {_label(run)}: {run.outcome}"
        return [Message("run_finished", run.run_id, title, _finished_body(run), level)]

    def _on_stop(self, e: dict[str, Any]) -> list[Message]:
        reason = str(e.get("reason") or "")
        if not reason.startswith("StopAccount") or self.stopped:
            return []
        self.stopped = True
        body = f"계정 중단 account stopped: {reason}\nrun {self.run.run_id}"
        return [
            Message("account_stopped", self.run.run_id, f"stepbatch ⏸ {_label(self.run)}", body, "warning")
        ]

    def _on_error(self, e: dict[str, Any]) -> list[Message]:
        """The engine emits one `error` per failed attempt (a `retry` follows when it tries again)."""
        if e.get("error_class") == "StopAccount":
            return self._on_stop({"reason": f"StopAccount: {e.get('message', '')}"})
        messages = self._failure(e)
        if e.get("error_class") == "BrowserCrashed":
            self.crash_streak += 1
            if self.crash_streak == self.threshold:
                last = str(e.get("message", ""))[:200]
                detail = f"{self.crash_streak} browser crashes in a row without progress; last: {last}"
                messages += self._browser_failure(detail)
        return messages

    def _failure(self, e: dict[str, Any]) -> list[Message]:
        unit = e.get("unit")
        if unit is None:
            return []
        unit = str(unit)
        self.failures[unit] = self.failures.get(unit, 0) + 1
        if self.failures[unit] != self.threshold:
            return []
        body = (
            f"코드 {unit} 실패 {self.failures[unit]}회 (failed {plural(self.failures[unit], 'attempt')})\n"
            f"마지막 오류 last error: {e.get('error_class', '')}: {str(e.get('message', ''))[:300]}"
        )
        return [Message("repeated_failures", unit, f"stepbatch ⚠ {_label(self.run)}", body, "warning")]

    def _on_browser_failed(self, e: dict[str, Any]) -> list[Message]:
        return self._browser_failure(str(e.get("message") or e.get("reason") or "browser did not start"))

    def _on_item(self, e: dict[str, Any]) -> list[Message]:
        self.crash_streak = 0
        return []

    def _browser_failure(self, detail: str) -> list[Message]:
        body = f"브라우저 재시작 실패 browser restarts failing: {detail}\nrun {self.run.run_id}"
        return [
            Message("browser_failing", self.run.run_id, f"stepbatch ✖ {_label(self.run)}", body, "failure")
        ]
