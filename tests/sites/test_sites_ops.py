"""Op semantics and resume arithmetic of the step3 adapter, against an in-memory product (unit tests)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from stepbatch.sites.percenty import ops as O
from stepbatch.sites.percenty.editor import DETAIL, OPTION, THUMBNAIL
from stepbatch.workbook.models import Action, Command, CommandKind, EditOp


class FakeEditor:
    """Just the editor methods OpRunner calls, over plain lists; can 'crash' after N clicks."""

    def __init__(self, detail: int = 6, thumbs: int = 4, options: int = 3, crash_after: int | None = None):
        self.detail = [f"d{i}" for i in range(1, detail + 1)]
        self.thumbs = [f"t{i}" for i in range(1, thumbs + 1)]
        self.options = [f"o{i}" for i in range(1, options + 1)]
        self.html = ""
        self.translated: list[tuple[str, int]] = []
        self.clicks = 0
        self.crash_after = crash_after

    def _click(self) -> None:
        if self.crash_after is not None and self.clicks >= self.crash_after:
            raise RuntimeError("browser died")
        self.clicks += 1

    def detail_count(self) -> int:
        return len(self.detail)

    def thumbnail_count(self) -> int:
        return len(self.thumbs)

    def option_count(self) -> int:
        return len(self.options)

    def delete_detail(self, position: int, count: int | None = None) -> None:
        assert count in (None, len(self.detail))  # a count handed on must be what the list shows
        self._click()
        del self.detail[position - 1]

    def delete_thumbnail(self, position: int, count: int | None = None) -> None:
        assert count in (None, len(self.thumbs))
        self._click()
        del self.thumbs[position - 1]

    def copy_option_to_thumbnail(self, index: int, thumbnails: int | None = None) -> int:
        assert thumbnails in (None, len(self.thumbs))
        self._click()
        self.thumbs.append(self.options[index - 1])
        return len(self.thumbs)

    def image_count(self, target: str) -> int:
        return {DETAIL: len(self.detail), THUMBNAIL: len(self.thumbs), OPTION: len(self.options)}[target]

    @contextmanager
    def images_in_editor(self, target: str):
        editor = self

        class Shown:
            def __init__(self, position: int) -> None:
                self.position = position

            def picture(self) -> bytes:
                return b"png"

            def source(self) -> str:
                return f"/img/{target}{self.position}.png"

            def press(self) -> None:
                editor._click()
                editor.translated.append((target, self.position))

        class Visit:
            def show(self, position: int) -> Shown:
                return Shown(position)

        yield Visit()

    def detail_html(self) -> str:
        return self.html

    def insert_source(self, html: str, *, at_start: bool) -> None:
        self._click()
        self.html = html + self.html if at_start else self.html + html


def op(action: Action, kind: CommandKind, n: int | None = None, positions: tuple[int, ...] = (), text=None):
    return EditOp(action, Command(kind, n=n, positions=positions, text=text))


def run_op(editor: FakeEditor, edit: EditOp, before: int | None = None) -> None:
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    now = runner.measure(edit)
    runner.apply(edit, now if before is None else before, now)


@pytest.mark.parametrize(
    ("edit", "left"),
    [
        (op(Action.IMAGE_DELETE, CommandKind.FIRST, 2), ["d3", "d4", "d5", "d6"]),
        (op(Action.IMAGE_DELETE, CommandKind.LAST, 2), ["d1", "d2", "d3", "d4"]),
        (op(Action.IMAGE_DELETE, CommandKind.SPECIFIC, positions=(1, 3, 6)), ["d2", "d4", "d5"]),
    ],
)
def test_delete_commands_remove_the_positions_of_the_list_at_op_start(edit, left):
    editor = FakeEditor()
    run_op(editor, edit)
    assert editor.detail == left


@pytest.mark.parametrize(
    ("edit", "crash_after", "left"),
    [
        (op(Action.IMAGE_DELETE, CommandKind.FIRST, 3), 1, ["d4", "d5", "d6"]),
        (op(Action.IMAGE_DELETE, CommandKind.LAST, 3), 2, ["d1", "d2", "d3"]),
        (op(Action.IMAGE_DELETE, CommandKind.SPECIFIC, positions=(2, 5, 6)), 2, ["d1", "d3", "d4"]),
        (op(Action.THUMBNAIL_DELETE, CommandKind.FIRST, 2), 1, None),
    ],
)
def test_interrupted_delete_resumes_with_only_the_missing_clicks(edit, crash_after, left):
    editor = FakeEditor(crash_after=crash_after)
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    before = runner.measure(edit)
    with pytest.raises(RuntimeError):
        runner.apply(edit, before, before)
    editor.crash_after = None
    runner.apply(edit, before, runner.measure(edit))  # the resume: recorded `before`, count now
    if left is not None:
        assert editor.detail == left
    else:
        assert editor.thumbs == ["t3", "t4"]
    assert editor.clicks == len(O.delete_positions(edit.command, before))  # each deleted once over both


def test_interrupted_option_copy_resumes_after_the_copies_that_landed():
    edit = op(Action.OPTION_IMAGE_COPY, CommandKind.COPY, 3)
    editor = FakeEditor(crash_after=1)
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    before = runner.measure(edit)
    with pytest.raises(RuntimeError):
        runner.apply(edit, before, before)
    editor.crash_after = None
    runner.apply(edit, before, runner.measure(edit))
    assert editor.thumbs == ["t1", "t2", "t3", "t4", "o1", "o2", "o3"]


def test_html_insert_is_not_repeated_when_already_visible():
    edit = op(Action.HTML_UPDATE, CommandKind.HTML, text='<img src="https://x.example/a.jpg">')
    editor = FakeEditor()
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    before = runner.measure(edit)
    runner.apply(edit, before, before)
    runner.apply(edit, before, runner.measure(edit))  # a resume after the insert landed
    assert editor.html.count("x.example/a.jpg") == 1
    assert editor.html.startswith('<img src="https://x.example/a.jpg">')  # M is prepended


def test_image_tag_insert_is_appended_once_and_found_by_its_alt_text():
    edit = op(Action.IMAGE_TAG_INSERT, CommandKind.YES)
    editor = FakeEditor()
    editor.html = "<p>본문</p>"
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    before = runner.measure(edit)
    runner.apply(edit, before, before)
    runner.apply(edit, before, runner.measure(edit))
    assert editor.html == '<p>본문</p><img src="" alt="상품이미지">'


def test_image_tag_insert_is_a_single_img_tag_and_no_inserts_nothing():
    assert O.insert_html_for(op(Action.IMAGE_TAG_INSERT, CommandKind.YES)).lower().startswith("<img")
    assert O.S.IMAGE_TAG_HTML == '<img src="" alt="상품이미지">'  # what the real tool inserted
    assert O.insert_html_for(op(Action.IMAGE_TAG_INSERT, CommandKind.NO)) is None


@pytest.mark.parametrize(
    ("command", "count", "positions"),
    [
        (Command(CommandKind.SPECIFIC_ALL), 3, [1, 2, 3]),
        (Command(CommandKind.SPECIFIC, positions=(3, 1)), 5, [1, 3]),
        (Command(CommandKind.SPECIAL, n=4), 2, [1, 2]),
        (Command(CommandKind.FIRST, n=2), 5, [1, 2]),
        (Command(CommandKind.LAST, n=2), 5, [4, 5]),
    ],
)
def test_translate_positions(command, count, positions):
    assert O.translate_positions(command, count) == positions


def test_assessment_follows_the_counts_through_the_ops_and_clamps_like_the_real_tool():
    ops = (
        op(Action.IMAGE_DELETE, CommandKind.FIRST, 2),
        op(Action.IMAGE_DELETE, CommandKind.LAST, 1),
        op(Action.THUMBNAIL_DELETE, CommandKind.FIRST, 4),
        op(Action.OPTION_IMAGE_COPY, CommandKind.COPY, 2),
        op(Action.THUMBNAIL_TRANSLATE, CommandKind.SPECIFIC, positions=(2,)),
    )
    assert O.assess(ops, O.Counts(detail=3, thumbnails=4, options=2)) == O.Assessment()
    short = O.assess(ops, O.Counts(detail=2, thumbnails=4, options=1))
    assert short.problem is None
    assert [what for what, _ in short.clamps] == ["image_delete last:1", "option_image_copy copy:2"]
    assert "only 0 image(s): 0 deleted" in short.clamps[0][1]
    assert "copied in turn" in short.clamps[1][1]
    translate_past = O.assess(ops, O.Counts(detail=3, thumbnails=4, options=0))
    assert translate_past.problem and "no option image" in translate_past.problem  # nothing to cycle over


@pytest.mark.parametrize(
    ("edit", "left"),
    [
        (op(Action.IMAGE_DELETE, CommandKind.FIRST, 9), []),
        (op(Action.IMAGE_DELETE, CommandKind.LAST, 9), []),
        (op(Action.IMAGE_DELETE, CommandKind.SPECIFIC, positions=(2, 7)), ["d1", "d3"]),
    ],
)
def test_a_delete_past_the_count_deletes_what_exists(edit, left):
    editor = FakeEditor(detail=3)
    run_op(editor, edit)
    assert editor.detail == left


def test_copy_past_the_option_count_cycles_over_the_option_images():
    editor = FakeEditor(thumbs=1, options=2)
    run_op(editor, op(Action.OPTION_IMAGE_COPY, CommandKind.COPY, 5))
    assert editor.thumbs == ["t1", "o1", "o2", "o1", "o2", "o1"]


def test_an_interrupted_cycling_copy_resumes_in_its_cycle():
    edit = op(Action.OPTION_IMAGE_COPY, CommandKind.COPY, 4)
    editor = FakeEditor(thumbs=1, options=3, crash_after=3)
    runner = O.OpRunner(editor)  # type: ignore[arg-type]
    before = runner.measure(edit)
    with pytest.raises(RuntimeError):
        runner.apply(edit, before, before)
    editor.crash_after = None
    runner.apply(edit, before, runner.measure(edit))
    assert editor.thumbs == ["t1", "o1", "o2", "o3", "o1"]


def test_translate_positions_past_the_count_are_skipped_and_named_ones_pressed_without_a_gate():
    editor = FakeEditor(detail=3)
    run_op(editor, op(Action.IMAGE_TRANSLATE, CommandKind.SPECIFIC, positions=(2, 5)))
    assert editor.translated == [(DETAIL, 2)]
