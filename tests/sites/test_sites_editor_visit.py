"""One opening of the image editor over a list's images (`EditorVisit`): moves inside it while the canvas
can be checked, an opening per image from its own card when it cannot (unit tests over a fake editor; the
real page is in tests/e2e/test_e2e_variants.py)."""

from __future__ import annotations

import pytest

from stepbatch.engine.errors import Permanent
from stepbatch.sites.percenty.editor import EditorVisit, ProductEditor


class FakeImageEditor:
    def __init__(self, comparable: bool) -> None:
        self.comparable = comparable
        self.calls: list[tuple] = []

    def open(self, opener: str, index: int) -> str:
        self.calls.append(("open", opener, index))
        return f"/img/{index}.png"

    def move(self, index: int, current: int) -> None:
        self.calls.append(("move", current, index))

    def close(self) -> None:
        self.calls.append(("close",))


class FakeProductEditor:
    _check_position = staticmethod(ProductEditor._check_position)

    def __init__(self, comparable: bool, count: int = 4) -> None:
        self.images = FakeImageEditor(comparable)
        self.count = count
        self.counted = 0

    def image_count(self, target: str) -> int:
        self.counted += 1
        return self.count

    def _editor_opener(self, target: str, position: int) -> str:
        return f"card {position}"


def visit_of(editor: FakeProductEditor) -> EditorVisit:
    return EditorVisit(editor, "detail")  # type: ignore[arg-type]


def test_a_checked_canvas_moves_from_image_to_image_in_one_opening():
    editor = FakeProductEditor(comparable=True)
    visit = visit_of(editor)
    assert visit.show(2).src == "/img/1.png"
    assert visit.show(3).src is None  # read from the strip when asked: the URL changes once translated
    visit.show(4)
    visit.close()
    visit.close()
    assert editor.images.calls == [("open", "card 2", 1), ("move", 1, 2), ("move", 2, 3), ("close",)]
    assert editor.counted == 1


def test_an_unchecked_canvas_opens_each_image_from_its_own_card():
    editor = FakeProductEditor(comparable=False)
    visit = visit_of(editor)
    visit.show(1)
    visit.show(3)
    visit.close()
    assert editor.images.calls == [("open", "card 1", 0), ("close",), ("open", "card 3", 2), ("close",)]


def test_a_position_past_the_list_is_refused_before_anything_moves():
    editor = FakeProductEditor(comparable=True, count=2)
    visit = visit_of(editor)
    visit.show(1)
    with pytest.raises(Permanent):
        visit.show(3)
    assert editor.images.calls == [("open", "card 1", 0)]
