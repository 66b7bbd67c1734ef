"""Applying the workbook's edit operations to an open product, exactly once, resumably.

Semantics are those of docs/design/contracts.md: positions are 1-based and refer to the list as it is
when the op starts; deletes are one click at a time (`specific` in descending order) so that, after a
crash, `before - now` tells how many clicks landed and only the rest is applied. Counts beyond what the
product has are clamped as the real tool did (`assess` lists each clamp as a warning).
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass

from stepbatch.engine.errors import Permanent, Transient
from stepbatch.sites.percenty import selectors as S
from stepbatch.sites.percenty.editor import DETAIL, OPTION, THUMBNAIL, ProductEditor
from stepbatch.sites.percenty.translation import ImageJournal, Translation
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


def delete_positions(command: Command, count: int) -> list[int]:
    """1-based positions a delete command removes from a list of `count`, clamped as the real tool did:
    `first:N`/`last:N` past the count delete what exists, `specific` positions past it are skipped."""
    n = int(command.n or 0)
    if command.kind == CommandKind.FIRST:
        return list(range(1, min(n, count) + 1))
    if command.kind == CommandKind.LAST:
        return list(range(max(count - n, 0) + 1, count + 1))
    if command.kind == CommandKind.SPECIFIC:
        return sorted(p for p in set(command.positions) if p <= count)
    raise Permanent(f"unsupported delete command {command.canonical()!r}")


def copy_indices(command: Command, options: int) -> list[int]:
    """Option images `copy:N` copies, in order: past the option count it cycles over them (the real tool's
    button index modulo count)."""
    return [i % options + 1 for i in range(int(command.n or 0))] if options else []


@dataclass(frozen=True)
class Assessment:
    """What the ops will do to a product with these counts: a reason it cannot be done at all, or the
    clamps (op description, message) the product gets — warnings; it is still edited and moved."""

    problem: str | None = None
    clamps: tuple[tuple[str, str], ...] = ()


def assess(ops: tuple[EditOp, ...], counts: Counts) -> Assessment:
    """Walk the ops over the snapshot, clamping counts like the real tool."""
    have = {DETAIL: counts.detail or 0, THUMBNAIL: counts.thumbnails or 0, OPTION: counts.options or 0}
    clamps: list[tuple[str, str]] = []
    for op in ops:
        cmd, what = op.command, op.describe()
        if op.action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
            target = DETAIL if op.action == Action.IMAGE_DELETE else THUMBNAIL
            gone = delete_positions(cmd, have[target])
            if _asked(cmd) > len(gone):
                clamps.append((what, _clamp_message(cmd, have[target], len(gone), "deleted")))
            have[target] -= len(gone)
        elif op.action == Action.OPTION_IMAGE_COPY:
            n = int(cmd.n or 0)
            if n and not have[OPTION]:
                return Assessment(f"{what}: the product has no option image to copy", tuple(clamps))
            if n > have[OPTION]:
                clamps.append((what, f"{have[OPTION]} option image(s): copied in turn, {n} copies"))
            have[THUMBNAIL] += n
        elif op.action in TRANSLATE_TARGET and cmd.kind == CommandKind.SPECIFIC:
            count = have[TRANSLATE_TARGET[op.action]]
            past = sorted(p for p in set(cmd.positions) if p > count)
            if past:
                shown = ", ".join(map(str, past))
                clamps.append((what, f"position(s) {shown} past the {count} image(s): skipped"))
    return Assessment(None, tuple(clamps))


def check_feasible(ops: tuple[EditOp, ...], counts: Counts) -> str | None:
    """The reason the product cannot take its ops at all, or None (clamped counts are not a reason)."""
    return assess(ops, counts).problem


def _asked(command: Command) -> int:
    if command.kind == CommandKind.SPECIFIC:
        return len(set(command.positions))
    return int(command.n or 0)


def _clamp_message(command: Command, count: int, done: int, verb: str) -> str:
    if command.kind == CommandKind.SPECIFIC:
        past = ", ".join(str(p) for p in sorted(set(command.positions)) if p > count)
        return f"position(s) {past} past the {count} image(s): skipped, {done} {verb}"
    return f"only {count} image(s): {done} {verb}"


def translate_positions(command: Command, count: int) -> list[int]:
    """Images a translate command names in a list of `count` (`specific` positions past it skipped)."""
    match command.kind:
        case CommandKind.SPECIFIC_ALL:
            return list(range(1, count + 1))
        case CommandKind.SPECIFIC:
            return sorted(p for p in set(command.positions) if p <= count)
        case CommandKind.SPECIAL | CommandKind.FIRST:
            return list(range(1, min(int(command.n or 0), count) + 1))
        case CommandKind.LAST:
            return list(range(max(count - int(command.n or 0), 0) + 1, count + 1))
        case _:
            raise Permanent(f"unsupported translate command {command.canonical()!r}")


def is_gated(command: Command) -> bool:
    """`specific:all` and `special:N` press only where OCR finds Chinese text (the real tool scanned these);
    explicit positions (`specific:a,b`, `first`, `last`) are pressed as named, as the real tool did."""
    return command.kind in (CommandKind.SPECIFIC_ALL, CommandKind.SPECIAL)


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

    def __init__(self, editor: ProductEditor, translation: Translation | None = None) -> None:
        self.editor = editor
        self.translation = translation or Translation(editor, gate=None)

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

    def apply(
        self, op: EditOp, before: int | None, now: int | None, journal: ImageJournal | None = None
    ) -> None:
        """Apply what is missing of `op`, given the count at its start and the count now; a translate op
        keeps what it decided and pressed per image in `journal` (durable), so a resume presses no image
        twice."""
        cmd = op.command
        if op.action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
            self._delete(op, int(before or 0), int(now if now is not None else before or 0))
        elif op.action == Action.OPTION_IMAGE_COPY:
            landed = max(int(now or 0) - int(before or 0), 0)
            thumbnails = now  # measured at the op's start, then returned by each copy
            for index in copy_indices(cmd, self.editor.option_count())[landed:]:
                thumbnails = self.editor.copy_option_to_thumbnail(index, thumbnails)
        elif op.action in TRANSLATE_TARGET:
            target = TRANSLATE_TARGET[op.action]
            positions = translate_positions(cmd, self.editor.image_count(target))
            self.translation.run(target, positions, gated=is_gated(cmd), journal=journal or ImageJournal())
        else:
            html = insert_html_for(op)
            if html is not None and (now is None or before is None or now <= before):
                self.editor.insert_source(html, at_start=inserts_at_start(op))
                shown = self.measure(op)
                if now is not None and shown is not None and shown <= now:
                    raise Transient(f"{op.describe()}: the editor does not show the inserted HTML")

    def _delete(self, op: EditOp, before: int, now: int) -> None:
        cmd = op.command
        positions = delete_positions(cmd, before)
        landed = max(before - now, 0)
        delete = (
            self.editor.delete_detail if op.action == Action.IMAGE_DELETE else self.editor.delete_thumbnail
        )
        if cmd.kind == CommandKind.FIRST:
            order = [1] * (len(positions) - landed)
        elif cmd.kind == CommandKind.LAST:
            order = [before - i for i in range(landed, len(positions))]
        else:
            order = sorted(positions, reverse=True)[landed:]
        count: int | None = now  # what the list shows: measured at the op's start, then waited for
        for position in order:
            delete(position, count)
            count = None if count is None else count - 1


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
