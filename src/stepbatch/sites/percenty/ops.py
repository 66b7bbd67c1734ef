"""Applying the workbook's edit operations to an open product, exactly once, resumably.

Semantics are those of docs/design/contracts.md: positions are 1-based and refer to the list as it is
when the op starts; deletes are one click at a time (`specific` in descending order) so that, after a
crash, `before - now` tells how many clicks landed and only the rest is applied.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass

from stepbatch.engine.errors import Permanent, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.editor import DETAIL, OPTION, THUMBNAIL, ProductEditor
from stepbatch.workbook.models import Action, Command, CommandKind, EditOp

TRANSLATE_TARGET = {
    Action.IMAGE_TRANSLATE: DETAIL,
    Action.THUMBNAIL_TRANSLATE: THUMBNAIL,
    Action.OPTIONIMAGE_TRANSLATE: OPTION,
}


@dataclass
class Counts:
    """How many detail images, thumbnails and option images a product has (the intent snapshot)."""

    detail: int | None = None
    thumbnails: int | None = None
    options: int | None = None

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v is not None}


def needed_counts(ops: tuple[EditOp, ...]) -> set[str]:
    """Which counts the ops depend on (only those are read before the first edit)."""
    need: set[str] = set()
    for op in ops:
        if op.action == Action.IMAGE_DELETE or op.action == Action.IMAGE_TRANSLATE:
            need.add("detail")
        elif op.action == Action.THUMBNAIL_DELETE or op.action == Action.THUMBNAIL_TRANSLATE:
            need.add("thumbnails")
        elif op.action == Action.OPTION_IMAGE_COPY:
            need |= {"options", "thumbnails"}
        elif op.action == Action.OPTIONIMAGE_TRANSLATE:
            need.add("options")
    return need


def delete_amount(command: Command) -> tuple[int, int]:
    """(how many images a delete command removes, the highest position it needs)."""
    if command.kind in (CommandKind.FIRST, CommandKind.LAST):
        n = int(command.n or 0)
        return n, n
    if command.kind == CommandKind.SPECIFIC:
        positions = set(command.positions)
        return len(positions), max(positions, default=0)
    raise Permanent(f"unsupported delete command {command.canonical()!r}")


def check_feasible(ops: tuple[EditOp, ...], counts: Counts) -> str | None:
    """Walk the ops over the snapshot; the first op the product cannot satisfy, as a reason, or None."""
    detail, thumbs, options = counts.detail or 0, counts.thumbnails or 0, counts.options or 0
    for op in ops:
        cmd = op.command
        if op.action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
            have = detail if op.action == Action.IMAGE_DELETE else thumbs
            n, highest = delete_amount(cmd)
            if highest > have:
                return f"{op.describe()}: the product has only {have} image(s)"
            if op.action == Action.IMAGE_DELETE:
                detail -= n
            else:
                thumbs -= n
        elif op.action == Action.OPTION_IMAGE_COPY:
            n = int(cmd.n or 0)
            if n > options:
                return f"{op.describe()}: the product has only {options} option image(s)"
            thumbs += n
        elif op.action in TRANSLATE_TARGET and cmd.kind == CommandKind.SPECIFIC:
            have = {DETAIL: detail, THUMBNAIL: thumbs, OPTION: options}[TRANSLATE_TARGET[op.action]]
            if max(cmd.positions, default=0) > have:
                return f"{op.describe()}: the product has only {have} image(s)"
    return None


def translate_positions(command: Command, count: int) -> list[int]:
    match command.kind:
        case CommandKind.SPECIFIC_ALL:
            return list(range(1, count + 1))
        case CommandKind.SPECIFIC:
            return sorted(set(command.positions))
        case CommandKind.SPECIAL | CommandKind.FIRST:
            return list(range(1, min(int(command.n or 0), count) + 1))
        case CommandKind.LAST:
            return list(range(max(count - int(command.n or 0), 0) + 1, count + 1))
        case _:
            raise Permanent(f"unsupported translate command {command.canonical()!r}")


def insert_html_for(op: EditOp) -> str | None:
    if op.action == Action.IMAGE_TAG_INSERT:
        return S.IMAGE_TAG_HTML if op.command.kind == CommandKind.YES else None
    if op.action == Action.HTML_UPDATE:
        return op.command.text or None
    return None


def inserts_at_start(op: EditOp) -> bool:
    """M is typed where the source mode's caret starts (prepended, as the operators' sheets expect); L is
    added after the content, as the real tool appended it."""
    return op.action == Action.HTML_UPDATE


class OpRunner:
    """Measures and applies one op on the open product through the editor page object."""

    def __init__(self, editor: ProductEditor) -> None:
        self.editor = editor

    def snapshot(self, ops: tuple[EditOp, ...]) -> Counts:
        need = needed_counts(ops)
        counts = Counts()
        if "detail" in need:
            counts.detail = self.editor.detail_count()
        if "thumbnails" in need:
            counts.thumbnails = self.editor.thumbnail_count()
        if "options" in need:
            counts.options = self.editor.option_count()
        return counts

    def measure(self, op: EditOp) -> int | None:
        """The count an op changes (so a resumed op can tell how much of it landed), or None."""
        if op.action == Action.IMAGE_DELETE:
            return self.editor.detail_count()
        if op.action in (Action.THUMBNAIL_DELETE, Action.OPTION_IMAGE_COPY):
            return self.editor.thumbnail_count()
        html = insert_html_for(op)
        if html is not None:
            return self.editor.detail_html().count(_marker(html))
        return None

    def apply(self, op: EditOp, before: int | None, now: int | None) -> None:
        """Apply what is missing of `op`, given the count at its start and the count now."""
        cmd = op.command
        if op.action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
            self._delete(op, int(before or 0), int(now if now is not None else before or 0))
        elif op.action == Action.OPTION_IMAGE_COPY:
            landed = max(int(now or 0) - int(before or 0), 0)
            for index in range(landed + 1, int(cmd.n or 0) + 1):
                self.editor.copy_option_to_thumbnail(index)
        elif op.action in TRANSLATE_TARGET:
            # Idempotent on the site (translated images cost nothing again), so a resume redoes it all.
            target = TRANSLATE_TARGET[op.action]
            self.editor.translate(target, translate_positions(cmd, self.editor.image_count(target)))
        else:
            html = insert_html_for(op)
            if html is not None and (now is None or before is None or now <= before):
                self.editor.insert_source(html, at_start=inserts_at_start(op))
                shown = self.measure(op)
                if now is not None and shown is not None and shown <= now:
                    raise Transient(f"{op.describe()}: the editor does not show the inserted HTML")

    def _delete(self, op: EditOp, before: int, now: int) -> None:
        cmd = op.command
        n, highest = delete_amount(cmd)
        if highest > before:
            raise Permanent(f"{op.describe()}: the product has only {before} image(s)")
        landed = max(before - now, 0)
        delete = (
            self.editor.delete_detail if op.action == Action.IMAGE_DELETE else self.editor.delete_thumbnail
        )
        if cmd.kind == CommandKind.FIRST:
            for _ in range(n - landed):
                delete(1)
        elif cmd.kind == CommandKind.LAST:
            for i in range(landed, n):
                delete(before - i)
        else:
            for position in sorted(set(cmd.positions), reverse=True)[landed:]:
                delete(position)


def _marker(html: str) -> str:
    """A fragment of the inserted HTML that survives the editor's re-serialisation (an attribute value)."""
    if html == S.IMAGE_TAG_HTML:
        return S.IMAGE_TAG_MARKER
    for attr in ('src="', "src='"):
        start = html.find(attr)
        if start >= 0:
            rest = html[start + len(attr) :]
            return html_lib.escape(rest.split(attr[-1], 1)[0], quote=False)
    return html.strip()[:40]
