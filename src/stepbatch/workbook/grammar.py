"""The command grammar of the columns H–O (`first:N`, `specific:1,3`, `copy:N`, `YES`, raw HTML...).

`parse_cell(header, value)` turns one cell into `EditOp`s or raises `CommandError` whose message says
what is wrong and, when it can guess, what was meant (`did you mean copy:2?`). Nothing is ever read
as something else silently: the old tool treated any unknown text as `YES`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from stepbatch.workbook.models import Action, Command, CommandKind, EditOp

K = CommandKind

# Which command forms each column accepts (the contract in docs/design/contracts.md).
_DELETE = frozenset({K.FIRST, K.LAST, K.SPECIFIC})
_TRANSLATE = frozenset({K.SPECIFIC, K.SPECIFIC_ALL, K.SPECIAL, K.FIRST, K.LAST})
ALLOWED: dict[Action, frozenset[CommandKind]] = {
    Action.IMAGE_DELETE: _DELETE,
    Action.THUMBNAIL_DELETE: _DELETE,
    Action.OPTION_IMAGE_COPY: frozenset({K.COPY}),
    Action.IMAGE_TRANSLATE: _TRANSLATE,
    Action.IMAGE_TAG_INSERT: frozenset({K.YES, K.NO}),
    Action.HTML_UPDATE: frozenset({K.HTML}),
    Action.THUMBNAIL_TRANSLATE: _TRANSLATE,
    Action.OPTIONIMAGE_TRANSLATE: _TRANSLATE,
}

_FORM = {
    K.FIRST: "first:N",
    K.LAST: "last:N",
    K.SPECIFIC: "specific:a,b",
    K.SPECIFIC_ALL: "specific:all",
    K.SPECIAL: "special:N",
    K.COPY: "copy:N",
    K.YES: "YES",
    K.NO: "NO",
    K.HTML: "HTML text containing '<'",
}
_N_KINDS = {"first": K.FIRST, "last": K.LAST, "special": K.SPECIAL, "copy": K.COPY}
_KEYWORDS = ("first", "last", "specific", "special", "copy", "yes", "no")
_PART = re.compile(r"^([a-z]+)\s*:\s*(.+)$")
_INT = re.compile(r"^\d+$")


class CommandError(ValueError):
    """One bad command cell; the message is one line and may end with a suggestion."""


def accepted_forms(action: Action) -> str:
    kinds = ALLOWED[action]
    return ", ".join(_FORM[k] for k in K if k in kinds)


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_cell(header: str | Action, value: object) -> tuple[EditOp, ...]:
    """Parse one command cell of column `header` (`image_delete`...). Blank → no ops."""
    action = Action(header)
    if value is None or isinstance(value, bool):
        if value is None:
            return ()
        raise CommandError(f"{value!r} is not a command; {action.value} accepts {accepted_forms(action)}")
    if isinstance(value, int | float):
        raise CommandError(f"a number is not a command; {action.value} accepts {accepted_forms(action)}")
    return _parse_text(action, str(value))


@lru_cache(maxsize=8192)
def _parse_text(action: Action, raw: str) -> tuple[EditOp, ...]:
    text = normalise(raw)
    if not text:
        return ()
    if action is Action.HTML_UPDATE:
        if "<" not in text:
            raise CommandError(f"html_update must be HTML (text containing '<'), got {_short(text)!r}")
        return (EditOp(action, Command(K.HTML, text=raw.strip())),)
    parts = text.split("/")
    commands = [_parse_part(action, part.strip(), text) for part in parts]
    _check_combination(action, commands, text)
    return tuple(EditOp(action, c) for c in commands)


def _parse_part(action: Action, part: str, whole: str) -> Command:
    if not part:
        raise CommandError(f"empty command between '/' in {whole!r}")
    command = _parse_form(part)
    if command is None:
        raise CommandError(_unknown_message(action, part))
    if command.kind not in ALLOWED[action]:
        raise CommandError(
            f"{action.value} does not accept {_FORM[command.kind]} ({part!r}); "
            f"it accepts {accepted_forms(action)}"
        )
    return command


def _parse_form(part: str) -> Command | None:
    """A syntactically valid command (any column), or None. Raises for bad numbers."""
    low = part.lower()
    if low in ("yes", "no"):
        return Command(K.YES if low == "yes" else K.NO)
    match = _PART.match(low)
    if not match:
        return None
    word, arg = match.group(1), match.group(2).strip()
    if word in _N_KINDS:
        return Command(_N_KINDS[word], n=_positive(arg, part))
    if word == "specific":
        if arg == "all":
            return Command(K.SPECIFIC_ALL)
        items = [a.strip() for a in arg.split(",")]
        if any(not _INT.match(a) for a in items):
            return None
        positions = tuple(_positive(a, part) for a in items)
        dupes = sorted({p for p in positions if positions.count(p) > 1})
        if dupes:
            raise CommandError(f"{part!r} repeats position {','.join(map(str, dupes))}")
        return Command(K.SPECIFIC, positions=positions)
    return None


def _positive(arg: str, part: str) -> int:
    if not _INT.match(arg):
        raise CommandError(f"{part!r}: {arg!r} is not a whole number" + _hint(part))
    n = int(arg)
    if n < 1:
        raise CommandError(f"{part!r}: numbers start at 1")
    return n


def _check_combination(action: Action, commands: list[Command], whole: str) -> None:
    if len(commands) == 1:
        return
    kinds = {c.kind for c in commands}
    if kinds & {K.YES, K.NO}:
        raise CommandError(f"YES/NO cannot be combined with '/' ({whole!r})")
    if K.SPECIFIC_ALL in kinds:
        raise CommandError(f"specific:all already covers every image; do not combine it ({whole!r})")
    seen: set[str] = set()
    for command in commands:
        key = command.canonical()
        if key in seen:
            raise CommandError(f"{whole!r} repeats {key}")
        seen.add(key)


def _unknown_message(action: Action, part: str) -> str:
    message = f"unknown command {part!r}"
    hint = suggest(part)
    if hint:
        message += f" (did you mean {hint}?"
        kind = _parse_form(hint)
        if kind is not None and kind.kind not in ALLOWED[action]:
            owners = [a.value for a in Action if kind.kind in ALLOWED[a]]
            message += f" but {_FORM[kind.kind]} belongs in {' / '.join(owners)}"
        message += ")"
    return f"{message}; {action.value} accepts {accepted_forms(action)}"


def _hint(part: str) -> str:
    hint = suggest(part)
    return f" (did you mean {hint}?)" if hint and hint != part else ""


def suggest(part: str) -> str | None:
    """Best guess at what a malformed command meant: `copy2` → `copy:2`, `frist:1` → `first:1`."""
    low = normalise(part).lower()
    match = re.match(r"^([a-z]+)(.*)$", low)
    if not match:
        return None
    letters, rest = match.groups()
    word = _closest_keyword(letters)
    if word is None:
        return None
    if letters.startswith(word):
        rest = letters[len(word) :] + rest
    numbers = re.findall(r"\d+", rest)
    if word in ("yes", "no"):
        return word.upper() if not rest.strip() else None
    if word == "specific":
        if "all" in rest:
            return "specific:all"
        return "specific:" + ",".join(str(int(n)) for n in numbers) if numbers else None
    return f"{word}:{int(numbers[0])}" if numbers and int(numbers[0]) >= 1 else None


def _closest_keyword(letters: str) -> str | None:
    for word in _KEYWORDS:
        if letters == word or (len(letters) > len(word) and letters.startswith(word)):
            return word
    close = difflib.get_close_matches(letters, _KEYWORDS, n=1, cutoff=0.7)
    return close[0] if close else None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
