"""Planning: resume order, batch splitting, removed units."""

from __future__ import annotations

import pytest

from stepbatch.engine.plan import plan_batches
from stepbatch.workbook.models import Unit


def u(code: str, server: str = "서버1") -> Unit:
    return Unit("ABC", "step3", server, code, "대기1")


def rec(status: str, attempts: int = 0, permanent: bool = False) -> dict:
    return {"status": status, "attempts": attempts, "permanent": permanent}


def test_fresh_plan_splits_in_sheet_order() -> None:
    units = [u(f"A{i:02d}") for i in range(12)]
    plan = plan_batches(units, {}, batch_size=5)
    assert [[x.provider_code for x in b] for b in plan.batches] == [
        ["A00", "A01", "A02", "A03", "A04"],
        ["A05", "A06", "A07", "A08", "A09"],
        ["A10", "A11"],
    ]
    assert plan.done == plan.removed == plan.exhausted == []


def test_resume_order_started_then_pending_then_retryable_failed() -> None:
    units = [u(f"A{i}") for i in range(8)]
    progress = {
        "A0@서버1": rec("done"),
        "A1@서버1": rec("failed", attempts=1),  # attempts left: retried last
        "A2@서버1": rec("pending"),
        "A3@서버1": rec("partial"),  # started before: first, in sheet order
        "A4@서버1": rec("failed", attempts=3),  # exhausted
        "A5@서버1": rec("in_progress"),
        "A6@서버1": rec("failed", attempts=0, permanent=True),  # Permanent: not retried
        "GONE@서버1": rec("pending"),  # removed from the workbook
    }
    plan = plan_batches(units, progress, batch_size=3, max_attempts=3)
    assert [x.provider_code for x in plan.remaining] == ["A3", "A5", "A2", "A7", "A1"]
    assert [len(b) for b in plan.batches] == [3, 2]
    assert plan.done == ["A0@서버1"]
    assert plan.exhausted == ["A4@서버1", "A6@서버1"]
    assert plan.removed == ["GONE@서버1"]


def test_same_code_in_two_servers_are_two_units_and_duplicates_run_once() -> None:
    units = [u("A1", "서버1"), u("A1", "서버2"), u("A1", "서버1")]
    plan = plan_batches(units, {}, batch_size=5)
    assert [x.key for x in plan.remaining] == ["A1@서버1", "A1@서버2"]


def test_bad_batch_size() -> None:
    with pytest.raises(ValueError):
        plan_batches([u("A1")], {}, batch_size=0)
