"""Step2: move every product of a provider code from 신규수집 to the target group, a page at a time."""

from __future__ import annotations

import logging
from pathlib import Path

from stepbatch.browser.protocol import BrowserSession
from stepbatch.engine.errors import Transient
from stepbatch.engine.protocol import ItemStatus, UnitContext, UnitResult, UnitStatus
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.site import PercentySite
from stepbatch.workbook.models import Account, Unit

log = logging.getLogger(__name__)

_GONE_JS = f"""
(ids) => !document.querySelector({S.SPINNING!r})
  && ![...document.querySelectorAll({S.ROWS!r})].some(r => ids.includes(r.getAttribute({S.ROW_KEY_ATTR!r})))
"""


class Step2Processor:
    step = "step2"

    def __init__(self, base_url: str, *, timeout_ms: int | None = None) -> None:
        self.site = PercentySite(base_url, **({"timeout_ms": timeout_ms} if timeout_ms else {}))

    def open(self, browser: BrowserSession, account: Account) -> None:
        self.site.open(browser, account)

    def capture_failure(self, path_stem: Path | str) -> dict[str, Path]:
        return self.site.capture_failure(path_stem)

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        tally = {"moved": 0, "total": None}
        return self.site.with_relogin(lambda: self._process(unit, ctx, tally), ctx.relogged_in)

    def _process(self, unit: Unit, ctx: UnitContext, tally: dict) -> UnitResult:
        site, lst = self.site, self.site.list
        site.ensure_list()
        total = lst.search(unit.provider_code)
        if tally["total"] is None:
            tally["total"] = total
            ctx.set_total(total)
        self._settle_unfinished(ctx, total)
        rows = lst.row_ids()
        while rows:
            if ctx.should_stop():
                return self._result(UnitStatus.PARTIAL, tally, lst.total(), "stopped between pages")
            for item_id in rows:
                if ctx.item_state(item_id) is None:
                    ctx.item_started(item_id, [f"group_move {unit.target_group}"])
            lst.select_all()
            site.modal.assign_selected(unit.target_group)
            site.h.wait_js(_GONE_JS, rows)
            lst.search(unit.provider_code)
            still = set(lst.row_ids()) & set(rows)
            if still:
                raise Transient(
                    f"{len(still)} product(s) of {unit.provider_code} still listed after the move"
                )
            for item_id in rows:
                ctx.item_done(item_id)
            tally["moved"] += len(rows)
            rows = lst.row_ids()
        left = lst.total()
        return self._result(UnitStatus.DONE if left == 0 else UnitStatus.PARTIAL, tally, left, "")

    def _settle_unfinished(self, ctx: UnitContext, total: int) -> None:
        """Products recorded `intent` by an interrupted run that are no longer listed were moved."""
        listed = set(self.site.list.row_ids())
        if total > len(listed):
            return  # some listed products are on later pages; they get moved (idempotently) anyway
        for record in ctx.unfinished_items():
            if record.status in (ItemStatus.INTENT, ItemStatus.EDITED) and record.item_id not in listed:
                ctx.item_done(record.item_id)

    @staticmethod
    def _result(status: UnitStatus, tally: dict, left: int, message: str) -> UnitResult:
        before = tally["total"] or 0
        summary = f"moved {tally['moved']}; before {before}, after {left}"
        if status == UnitStatus.DONE and tally["moved"] < before:
            summary += " (fewer moved than found: moved by a previous run)"
        return UnitResult(
            status=status,
            items_done=tally["moved"],
            items_failed=0,
            total_found=tally["total"],
            message="; ".join(x for x in (message, summary) if x),
        )
