"""The meaning of a unit's edit operations on a product's images (contracts.md, "Workbook → units").

Used by the seeder (to give every product enough images for its row) and by the verifier (to compute
the expected end state and audit events from the product's original images).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from stepbatch.workbook.models import Action, Command, CommandKind, EditOp

Image = dict[str, Any]
EventKey = tuple[str, ...]

TRANSLATE_TARGET = {
    Action.IMAGE_TRANSLATE: "detail",
    Action.THUMBNAIL_TRANSLATE: "thumbnail",
    Action.OPTIONIMAGE_TRANSLATE: "option",
}


class NotEnoughImages(Exception):
    """The op asks for more images than the product has (the site adapter's `Permanent`)."""


@dataclass
class Expected:
    detail: list[Image]
    thumbs: list[Image]
    options: list[dict[str, Any]]
    events: Counter[EventKey] = field(default_factory=Counter)
    html: list[str] = field(default_factory=list)  # contents expected to be inserted, "" = any <img> tag

    def signature(self) -> tuple[list[tuple[str, bool]], ...]:
        return image_signature(self.detail, self.thumbs, self.options)


def image_signature(
    detail: list[Image], thumbs: list[Image], options: list[dict[str, Any]]
) -> tuple[list[tuple[str, bool]], ...]:
    """What the end state must look like: which seeded picture sits where, and whether translated."""
    opt = [(o["image"]["orig"], bool(o["image"]["tr"])) if o.get("image") else ("-", False) for o in options]
    return ([(i["orig"], bool(i["tr"])) for i in detail], [(i["orig"], bool(i["tr"])) for i in thumbs], opt)


def positions(command: Command, count: int) -> list[int]:
    """1-based positions the command selects in a list of `count` images, clamped as the real tool did:
    `first:N`/`last:N` past the count take what exists, `specific` positions past it are skipped."""
    match command.kind:
        case CommandKind.FIRST | CommandKind.SPECIAL:
            return list(range(1, min(command.n or 0, count) + 1))
        case CommandKind.LAST:
            return list(range(max(count - (command.n or 0), 0) + 1, count + 1))
        case CommandKind.SPECIFIC:
            return sorted(p for p in set(command.positions) if p <= count)
        case CommandKind.SPECIFIC_ALL:
            return list(range(1, count + 1))
    return []


def copy_order(command: Command, count: int) -> list[int]:
    """Option images `copy:N` copies: past the option count it cycles over them."""
    if (command.n or 0) and not count:
        raise NotEnoughImages(f"{command.canonical()} but the product has no option image")
    return [i % count + 1 for i in range(command.n or 0)]


def gated(command: Command) -> bool:
    """`specific:all` and `special:N` press only images with Chinese text; named positions all."""
    return command.kind in (CommandKind.SPECIFIC_ALL, CommandKind.SPECIAL)


def needed(op: EditOp) -> int:
    """How many images the op needs to exist when it starts."""
    c = op.command
    if c.kind in (CommandKind.FIRST, CommandKind.LAST, CommandKind.COPY):
        return c.n or 0
    if c.kind is CommandKind.SPECIFIC:
        return max(c.positions, default=0)
    return 0


def replay(
    detail: list[Image], thumbs: list[Image], options: list[dict[str, Any]], ops: tuple[EditOp, ...]
) -> Expected:
    """Apply `ops` to copies of the lists, with unlimited translation credits: the presses expected are
    those the OCR gate makes (Chinese text only) for `specific:all`/`special:N`, every named one else."""
    exp = Expected(copy.deepcopy(detail), copy.deepcopy(thumbs), copy.deepcopy(options))
    for op in ops:
        _apply(exp, op)
    return exp


def _apply(exp: Expected, op: EditOp) -> None:
    action, command = op.action, op.command
    if action in (Action.IMAGE_DELETE, Action.THUMBNAIL_DELETE):
        images = exp.detail if action is Action.IMAGE_DELETE else exp.thumbs
        name = "detail_image_delete" if action is Action.IMAGE_DELETE else "thumbnail_delete"
        for pos in sorted(positions(command, len(images)), reverse=True):
            exp.events[(name, images[pos - 1]["orig"])] += 1
            del images[pos - 1]
    elif action is Action.OPTION_IMAGE_COPY:
        with_image = [o for o in exp.options if o.get("image")]
        for pos in copy_order(command, len(with_image)):
            image = with_image[pos - 1]["image"]
            exp.events[("option_image_copy", image["orig"])] += 1
            exp.thumbs.append(dict(image))
    elif action in TRANSLATE_TARGET:
        target = TRANSLATE_TARGET[action]
        images = _translate_list(exp, target)
        for pos in positions(command, len(images)):
            image = images[pos - 1]
            has_text = bool(image["zh"]) and not image["tr"]
            if has_text or not gated(command):
                exp.events[("image_translate", target, image["orig"])] += 1
            image["tr"] = image["tr"] or has_text
    elif action is Action.IMAGE_TAG_INSERT:
        if command.kind is CommandKind.YES:
            exp.html.append("")
    elif action is Action.HTML_UPDATE and command.text:
        exp.html.append(command.text)


def _translate_list(exp: Expected, target: str) -> list[Image]:
    if target == "detail":
        return exp.detail
    if target == "thumbnail":
        return exp.thumbs
    return [o["image"] for o in exp.options if o.get("image")]
