from __future__ import annotations

import pytest

from stepbatch.workbook.grammar import CommandError, parse_cell, suggest
from stepbatch.workbook.models import Action, Command, CommandKind, EditOp

K = CommandKind


def kinds(header: str, value: object) -> list[Command]:
    return [op.command for op in parse_cell(header, value)]


@pytest.mark.parametrize(
    ("header", "value", "expected"),
    [
        ("image_delete", "first:3", [Command(K.FIRST, n=3)]),
        ("image_delete", "last:1", [Command(K.LAST, n=1)]),
        ("thumbnail_delete", "specific:1,3,4", [Command(K.SPECIFIC, positions=(1, 3, 4))]),
        ("image_translate", "specific:all", [Command(K.SPECIFIC_ALL)]),
        ("image_translate", "special:5", [Command(K.SPECIAL, n=5)]),
        ("thumbnail_translate", "first:2", [Command(K.FIRST, n=2)]),
        ("optionimage_translate", "last:2", [Command(K.LAST, n=2)]),
        ("option_image_copy", "copy:2", [Command(K.COPY, n=2)]),
        ("image_tag_insert", "YES", [Command(K.YES)]),
        ("image_tag_insert", "no", [Command(K.NO)]),
        ("image_delete", "first:1/last:2", [Command(K.FIRST, n=1), Command(K.LAST, n=2)]),
        ("image_delete", " First : 25 / LAST:1 ", [Command(K.FIRST, n=25), Command(K.LAST, n=1)]),
        ("image_delete", "ｆｉｒｓｔ：１", [Command(K.FIRST, n=1)]),  # full-width, NFKC
        ("thumbnail_delete", "specific: 3, 4", [Command(K.SPECIFIC, positions=(3, 4))]),
    ],
)
def test_every_command_form_parses(header: str, value: str, expected: list[Command]) -> None:
    assert kinds(header, value) == expected


def test_ops_carry_their_action_in_cell_order() -> None:
    ops = parse_cell("image_delete", "last:2/first:1")
    assert ops == (
        EditOp(Action.IMAGE_DELETE, Command(K.LAST, n=2)),
        EditOp(Action.IMAGE_DELETE, Command(K.FIRST, n=1)),
    )
    assert [op.describe() for op in ops] == ["image_delete last:2", "image_delete first:1"]


def test_html_update_keeps_raw_html_including_slashes() -> None:
    html = '<div class="x"><img src="https://example.com/a/b.jpg"></div>'
    (op,) = parse_cell("html_update", f"  {html}\n")
    assert op.command == Command(K.HTML, text=html)


@pytest.mark.parametrize("value", [None, "", "   "])
def test_blank_cells_have_no_ops(value: object) -> None:
    assert parse_cell("image_delete", value) == ()


@pytest.mark.parametrize(
    ("header", "value", "fragment"),
    [
        ("image_delete", "copy2", "did you mean copy:2? but copy:N belongs in option_image_copy"),
        ("image_delete", "copy4opthonimages", "did you mean copy:4?"),
        ("option_image_copy", "copy2", "did you mean copy:2?"),
        ("image_delete", "frist:1", "did you mean first:1?"),
        ("image_delete", "first1", "did you mean first:1?"),
        ("thumbnail_delete", "specific 3 4", "did you mean specific:3,4?"),
        ("image_translate", "specificall", "did you mean specific:all?"),
        ("image_delete", "first:x", "'x' is not a whole number"),
        ("image_delete", "first:0", "numbers start at 1"),
        ("thumbnail_delete", "specific:0,2", "numbers start at 1"),
        ("thumbnail_delete", "specific:2,2", "repeats position 2"),
        ("image_delete", "first:1/first:1", "repeats first:1"),
        ("image_delete", "first:1/", "empty command between '/'"),
        ("image_translate", "specific:all/special:2", "specific:all already covers every image"),
        ("image_delete", "specific:all", "image_delete does not accept specific:all"),
        ("image_delete", "YES", "image_delete does not accept YES"),
        ("option_image_copy", "first:1", "option_image_copy does not accept first:N"),
        ("image_tag_insert", "copy:1", "image_tag_insert does not accept copy:N"),
        ("image_tag_insert", "YES/NO", "YES/NO cannot be combined"),
        ("html_update", "just text", "html_update must be HTML"),
        ("image_delete", "banana", "unknown command 'banana'"),
    ],
)
def test_bad_values_are_errors_with_hints(header: str, value: str, fragment: str) -> None:
    with pytest.raises(CommandError) as info:
        parse_cell(header, value)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_unknown_value_lists_what_the_column_accepts() -> None:
    with pytest.raises(CommandError, match=r"image_delete accepts first:N, last:N, specific:a,b$"):
        parse_cell("image_delete", "copy2")


@pytest.mark.parametrize("value", [3, 2.0, True])
def test_numbers_are_not_commands(value: object) -> None:
    with pytest.raises(CommandError):
        parse_cell("image_delete", value)


def test_unknown_header_is_rejected() -> None:
    with pytest.raises(ValueError):
        parse_cell("memo", "first:1")


def test_suggest_gives_up_on_noise() -> None:
    assert suggest("banana") is None
    assert suggest("123") is None
