"""Step3: edit every product of a provider code in 신규수집, then move it to the target group.

Exactly-once (docs/design/contracts.md): `intent` (plan + snapshot) is committed before the first edit,
each op is bracketed by checkpoints, `edited` before the move, `done` after the product is seen to have
left the search. On resume an `edited` product is only moved and an `intent` product gets only the part
of its ops that is not yet visible on the site.
"""

from __future__ import annotations

import logging
from pathlib import Path

from stepbatch.browser.protocol import BrowserSession
from stepbatch.engine.errors import Permanent, Transient
from stepbatch.engine.protocol import ItemRecord, ItemStatus, UnitContext, UnitResult, UnitStatus
from stepbatch.sites.percenty.ops import Counts, OpRunner, assess, check_feasible
from stepbatch.sites.percenty.site import PercentySite
from stepbatch.sites.percenty.translation import ImageJournal, Translation, TranslationGate, journal_entries
from stepbatch.workbook.models import Account, EditOp, Unit

log = logging.getLogger(__name__)

_SKIP = (ItemStatus.DONE, ItemStatus.FAILED)


class Step3Processor:
    step = "step3"

    def __init__(
        self,
        base_url: str,
        *,
        max_products_per_code: int | None = None,
        timeout_ms: int | None = None,
        translate_all: bool = False,
    ) -> None:
        self.site = PercentySite(base_url, **({"timeout_ms": timeout_ms} if timeout_ms else {}))
        self.max_products_per_code = max_products_per_code
        self.gate = TranslationGate(translate_all=translate_all)

    def open(self, browser: BrowserSession, account: Account) -> None:
        self.site.open(browser, account)
        self.ops = OpRunner(self.site.editor, Translation(self.site.editor, self.gate))

    def capture_failure(self, path_stem: Path | str) -> dict[str, Path]:
        return self.site.capture_failure(path_stem)

    def process(self, unit: Unit, ctx: UnitContext) -> UnitResult:
        tally = {"done": 0, "failed": 0, "total": None}
        return self.site.with_relogin(lambda: self._process(unit, ctx, tally), ctx.relogged_in)

    # --- one unit ---
    def _process(self, unit: Unit, ctx: UnitContext, tally: dict) -> UnitResult:
        site = self.site
        site.ensure_list()
        total = site.list.search(unit.provider_code)
        if tally["total"] is None:
            tally["total"] = total
            ctx.set_total(total)
        while True:
            if ctx.should_stop():  # also once this call reached the engine's max_products_per_code
                return self._result(UnitStatus.PARTIAL, tally, "stopped at an item boundary")
            item_id = self._next_item(ctx, unit.provider_code)
            if item_id is None:
                tally["done"] += self._settle_moved(ctx)
                break
            if self._process_item(unit, ctx, item_id):
                tally["done"] += 1
            else:
                tally["failed"] += 1
        return self._result(UnitStatus.DONE, tally, "")

    def _result(self, status: UnitStatus, tally: dict, message: str) -> UnitResult:
        if status == UnitStatus.DONE and tally["failed"] and not tally["done"]:
            status = UnitStatus.FAILED
            message = message or f"{tally['failed']} product(s) failed"
        return UnitResult(
            status=status,
            items_done=tally["done"],
            items_failed=tally["failed"],
            total_found=tally["total"],
            message=message,
        )

    def _next_item(self, ctx: UnitContext, code: str) -> str | None:
        """The first listed product of `code` that is not finished (done/failed), or None when none is left.

        An empty list is believed only after a fresh search: a refresh that the site answered 401 also
        shows an empty list, on the app's way to the sign-in page.
        """
        found = self._first_unfinished(ctx, code)
        if found is None:
            self.site.list.search(code)
            found = self._first_unfinished(ctx, code)
        return found

    @staticmethod
    def _settle_moved(ctx: UnitContext) -> int:
        """Once the search shows nothing unfinished, an `edited` product of this code has left it: its move
        landed just before an error (a session that ended under the move's check). Record it done."""
        settled = 0
        for record in ctx.unfinished_items():
            if record.status == ItemStatus.EDITED:
                ctx.log.info("product %s was moved before an interruption; recording it done", record.item_id)
                ctx.item_done(record.item_id)
                settled += 1
        return settled

    def _first_unfinished(self, ctx: UnitContext, code: str) -> str | None:
        """Pages on past finished products; the list must show `code`'s search (else the wait fails)."""
        lst = self.site.list
        while True:
            for item_id in lst.results_row_ids(code):
                record = ctx.item_state(item_id)
                if record is None or record.status not in _SKIP:
                    return item_id
            if not lst.has_next_page():
                return None
            lst.next_page()

    # --- one product ---
    def _process_item(self, unit: Unit, ctx: UnitContext, item_id: str) -> bool:
        record = ctx.item_state(item_id)
        if record is None or record.status == ItemStatus.INTENT:
            try:
                self._edit(unit, ctx, item_id, record)
            except Permanent as exc:
                ctx.item_failed(item_id, str(exc))
                ctx.log.warning("product %s failed: %s", item_id, exc)
                self.site.editor.close()
                return False
            self.site.editor.close()
        self._move(unit, item_id)
        ctx.item_done(item_id)
        return True

    def _edit(self, unit: Unit, ctx: UnitContext, item_id: str, record: ItemRecord | None) -> None:
        editor = self.site.editor
        editor.open(self.site.list.row(item_id))
        ops = unit.ops
        checkpoint: dict = {}
        if record is None:
            counts = self.ops.snapshot(ops)
            assessment = assess(ops, counts)
            if assessment.problem:
                raise Permanent(assessment.problem)
            clamps = [list(c) for c in assessment.clamps]
            now = self.ops.measure(ops[0]) if ops else None
            ctx.item_started(
                item_id,
                unit.plan(),
                {"snapshot": counts.as_dict(), "ops_done": 0, "op": 0, "before": now, "clamps": clamps},
            )
            for what, message in assessment.clamps:
                ctx.item_note(item_id, "clamp", op=what, message=message)
                ctx.log.info("product %s: %s: %s", item_id, what, message)
            start, before = 0, now
        else:
            checkpoint = record.checkpoint or {}
            start = int(checkpoint.get("ops_done", 0))
            resume_before = checkpoint.get("before") if checkpoint.get("op") == start else None
            ctx.log.info("resuming product %s at op %d of %d", item_id, start + 1, len(ops))
            if start == 0 and resume_before is None and checkpoint.get("snapshot") is not None:
                problem = check_feasible(ops, Counts(**checkpoint["snapshot"]))
                if problem:
                    raise Permanent(problem)
            now = self.ops.measure(ops[start]) if start < len(ops) else None
            before = now if resume_before is None else int(resume_before)
            if resume_before is None and start < len(ops):
                ctx.item_checkpoint(item_id, op=start, before=before)
        self._apply_ops(ctx, item_id, ops, start, (before, now), checkpoint)
        ctx.item_edited(item_id)

    def _apply_ops(
        self,
        ctx: UnitContext,
        item_id: str,
        ops: tuple[EditOp, ...],
        start: int,
        counts: tuple[int | None, int | None],
        checkpoint: dict,
    ) -> None:
        """Apply op `start` (its count before it began, and now) and the ops after it.

        Between two ops one commit records the op done and the next op's count before it: a crash
        before that commit resumes the op just applied from its own `before`, which applies only what did
        not land. The last op's end is `item_edited`, committed by the caller."""
        before, now = counts
        for index in range(start, len(ops)):
            if index > start:
                now = before = self.ops.measure(ops[index])
                ctx.item_checkpoint(item_id, ops_done=index, op=index, before=before)
            self.ops.apply(ops[index], before, now, self._journal(ctx, item_id, index, checkpoint))

    @staticmethod
    def _journal(ctx: UnitContext, item_id: str, index: int, checkpoint: dict) -> ImageJournal:
        """Op `index`'s image journal, durable in the item's checkpoint (resumed from it)."""
        return ImageJournal(
            entries=journal_entries(checkpoint, index),
            persist=lambda entries: ctx.item_checkpoint(item_id, images_op=index, images=entries),
            note=lambda kind, **data: ctx.item_note(item_id, kind, **data),
        )

    def _move(self, unit: Unit, item_id: str) -> None:
        """Move the product to its target group and verify it left the search."""
        lst = self.site.list
        code, group = unit.provider_code, unit.target_group
        if not lst.row(item_id).count():
            lst.search(code)
            if not lst.row(item_id).count():
                paged_ids = self._all_ids_in_search()
                lst.search(code)
                if item_id not in paged_ids:
                    return  # already moved (a crash between the move and `done`)
        try:
            lst.move_row_via_select(item_id, group)
            if lst.wait_row_gone(item_id, timeout_ms=self.site.timeout_ms // 2):
                return
        except (Transient, Permanent) as exc:
            log.info("row group select failed for %s (%s); using 그룹 지정", item_id, exc)
        self.site.h.clear_overlays()
        lst.search(code)
        if not lst.row(item_id).count():
            return
        lst.select_row(item_id)
        self.site.modal.assign_selected(group)
        if not lst.wait_row_gone(item_id):
            lst.search(code)
            if lst.row(item_id).count():
                raise Transient(f"product {item_id} is still in {code}'s search after moving to {group}")

    def _all_ids_in_search(self) -> set[str]:
        ids = set(self.site.list.row_ids())
        while self.site.list.has_next_page():
            self.site.list.next_page()
            ids |= set(self.site.list.row_ids())
        return ids
