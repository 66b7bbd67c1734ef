"""Data that leaves the workbook package: accounts, units of work and their edit operations.

These types are the contract between the workbook reader, the engine, the site adapter and the
simulator's verifier. They are frozen dataclasses so they can be shared and hashed freely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Secret:
    """A string that never shows itself in repr/str/format, so it cannot leak into logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return "********"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True)
class Account:
    """One row of the `login_id` sheet."""

    email: str
    password: Secret = field(repr=False)
    operator: str
    nickname: str  # 3 uppercase letters; also the name of the account's task sheet
    index: int  # 1-based data row of login_id: the operators' old `account_N`

    @property
    def virtual_id(self) -> str:
        return f"account_{self.index}"


class CommandKind(StrEnum):
    FIRST = "first"  # first:N
    LAST = "last"  # last:N
    SPECIFIC = "specific"  # specific:1,3,4
    SPECIFIC_ALL = "specific_all"  # specific:all  (every image with Chinese text)
    SPECIAL = "special"  # special:N  (images with Chinese text among the first N)
    COPY = "copy"  # copy:N
    YES = "yes"
    NO = "no"
    HTML = "html"  # raw HTML of the html_update column


@dataclass(frozen=True)
class Command:
    kind: CommandKind
    n: int | None = None  # first/last/special/copy
    positions: tuple[int, ...] = ()  # specific:1,3,4 (1-based)
    text: str | None = None  # html

    def canonical(self) -> str:
        """The command as written in a sheet, normalised (`first:2`, `specific:1,3`, `YES`)."""
        match self.kind:
            case CommandKind.SPECIFIC:
                return "specific:" + ",".join(str(p) for p in self.positions)
            case CommandKind.SPECIFIC_ALL:
                return "specific:all"
            case CommandKind.YES | CommandKind.NO:
                return self.kind.value.upper()
            case CommandKind.HTML:
                return "html"
            case _:
                return f"{self.kind.value}:{self.n}"


class Action(StrEnum):
    """The command columns H–O, in the order their operations are applied to a product."""

    IMAGE_DELETE = "image_delete"  # H: detail images (상세페이지 → 일괄 편집 → 삭제)
    THUMBNAIL_DELETE = "thumbnail_delete"  # I: 썸네일 tab → 삭제
    OPTION_IMAGE_COPY = "option_image_copy"  # J: 옵션 tab → 썸네일로 복사
    IMAGE_TRANSLATE = "image_translate"  # K: 일괄 편집 → 편집하기 → 원클릭 이미지 번역
    IMAGE_TAG_INSERT = "image_tag_insert"  # L: YES/NO
    HTML_UPDATE = "html_update"  # M: raw HTML inserted through 소스/HTML 삽입
    THUMBNAIL_TRANSLATE = "thumbnail_translate"  # N
    OPTIONIMAGE_TRANSLATE = "optionimage_translate"  # O


ACTION_ORDER: tuple[Action, ...] = tuple(Action)


@dataclass(frozen=True)
class EditOp:
    """One command of one column: `image_delete first:1` is one op, `first:1/last:2` is two."""

    action: Action
    command: Command

    def describe(self) -> str:
        return f"{self.action.value} {self.command.canonical()}"


@dataclass(frozen=True)
class Unit:
    """One provider code of one server: the unit of batching and resume.

    `ops` are in application order (column H to O, then left to right within a cell).
    """

    account: str  # sheet nickname
    step: str  # "step2", "step3"
    server: str  # final_group (column D), e.g. "서버2-1"
    provider_code: str
    target_group: str
    ops: tuple[EditOp, ...] = ()
    sheet: str = ""
    rows: tuple[int, ...] = ()  # 1-based Excel rows this unit came from

    @property
    def key(self) -> str:
        """Stable identity inside one progress store (a code may repeat in another server)."""
        return f"{self.provider_code}@{self.server}"

    def plan(self) -> list[str]:
        return [op.describe() for op in self.ops]


@dataclass(frozen=True)
class Problem:
    """A validation finding; rendered as one line `sheet!C12 (column): message`."""

    sheet: str
    row: int | None
    column: str | None  # Excel letter, e.g. "H"
    value: str | None
    message: str
    header: str | None = None  # the column's header name, e.g. "image_delete"
    severity: str = "error"  # "error": the rows (or sheet) cannot be run; "warning": read, but check it

    def location(self) -> str:
        cell = f"{self.column or ''}{self.row or ''}"
        where = f"{self.sheet}!{cell}" if cell else self.sheet
        return f"{where} ({self.header})" if self.header else where

    def line(self) -> str:
        shown = f" {self.value!r}:" if self.value not in (None, "") else ""
        return f"{self.location()}:{shown} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class WorkbookError(Exception):
    """The file cannot be used at all (missing, not xlsx, encrypted, missing sheet...). One line."""


class AccountNotFound(WorkbookError):
    pass
