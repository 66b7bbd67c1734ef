"""The translation gate and its journal: which images are pressed, and none twice across a resume
(unit tests over a fake editor and a fake OCR; the real OCR and browser are in tests/vision and tests/e2e)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from stepbatch.sites.percenty.translation import ImageJournal, Translation, TranslationGate, journal_entries
from stepbatch.vision import OcrUnavailable, Verdict


class Crash(Exception):
    pass


class FakeImages:
    """Pictures by position: True has Chinese text. A press translates (the URL changes)."""

    def __init__(self, chinese: dict[int, bool]) -> None:
        self.chinese = dict(chinese)
        self.translated: set[int] = set()
        self.presses: list[int] = []
        self.opened: list[int] = []  # the positions shown, in order
        self.openings = 0  # of the editor (one per run that shows anything)
        self.closings = 0
        self.crash_before_press: set[int] = set()
        self.crash_after_press: set[int] = set()

    @contextmanager
    def images_in_editor(self, target: str):
        images = self
        visit = {"open": False}

        class Visit:
            def show(self, position: int):
                if not visit["open"]:
                    visit["open"] = True
                    images.openings += 1
                images.opened.append(position)
                return images.shown(position)

        try:
            yield Visit()
        finally:
            if visit["open"]:
                images.closings += 1

    def shown(self, position: int):
        images = self

        class Shown:
            def picture(self) -> bytes:
                return b"zh" if images.chinese[position] and position not in images.translated else b"none"

            def source(self) -> str:
                return f"/img/{position}-{'tr' if position in images.translated else 'orig'}.png"

            def press(self) -> None:
                if position in images.crash_before_press:
                    images.crash_before_press.discard(position)
                    raise Crash
                images.presses.append(position)
                images.translated.add(position)
                if position in images.crash_after_press:
                    images.crash_after_press.discard(position)
                    raise Crash

        return Shown()


class FakeOcr:
    name = "fake"

    def __init__(self) -> None:
        self.reads = 0

    def detect(self, image: bytes) -> Verdict:
        self.reads += 1
        return Verdict(image == b"zh", 7, "新款" if image == b"zh" else "", self.name)


def journal() -> tuple[ImageJournal, list[dict], list[tuple[str, dict]]]:
    saved: list[dict] = []
    notes: list[tuple[str, dict]] = []
    j = ImageJournal(persist=saved.append, note=lambda kind, **data: notes.append((kind, data)))
    return j, saved, notes


def gate(ocr: FakeOcr | None = None, translate_all: bool = False) -> TranslationGate:
    return TranslationGate(translate_all=translate_all, loader=lambda: ocr or FakeOcr())


def test_the_gate_presses_only_images_with_chinese_text_and_journals_each_decision():
    images, ocr = FakeImages({1: True, 2: False, 3: True}), FakeOcr()
    j, saved, notes = journal()
    Translation(images, gate(ocr)).run("detail", [1, 2, 3], gated=True, journal=j)
    assert images.presses == [1, 3]
    assert ocr.reads == 3
    assert saved[-1]["2"] == {"zh": False, "ms": 7, "engine": "fake"}
    assert saved[-1]["1"]["pressed"] is True and saved[-1]["1"]["src"] == "/img/1-orig.png"
    assert [k for k, _ in notes] == ["ocr", "press", "ocr", "ocr", "press"]
    assert notes[0][1] == {
        "target": "detail",
        "position": 1,
        "chinese": True,
        "ms": 7,
        "engine": "fake",
        "reused": False,
        "found": "新款",
    }


def test_named_positions_and_translate_all_press_every_image_without_reading_it():
    for gated, translate_all in ((False, False), (True, True)):
        images, ocr = FakeImages({1: True, 2: False}), FakeOcr()
        j, _, _ = journal()
        Translation(images, gate(ocr, translate_all)).run("detail", [1, 2], gated=gated, journal=j)
        assert images.presses == [1, 2] and ocr.reads == 0


def test_a_list_is_done_in_one_opening_of_the_editor_closed_also_after_a_failure():
    images, ocr = FakeImages({1: True, 2: False, 3: True}), FakeOcr()
    Translation(images, gate(ocr)).run("detail", [1, 2, 3], gated=True, journal=ImageJournal())
    assert (images.openings, images.closings, images.opened) == (1, 1, [1, 2, 3])
    images.crash_before_press = {3}
    images.translated.clear()
    with pytest.raises(Crash):
        Translation(images, gate(ocr)).run("detail", [3], gated=True, journal=ImageJournal())
    assert (images.openings, images.closings) == (2, 2)
    decided = ImageJournal(entries={"1": {"zh": False}, "2": {"pressed": True}})
    Translation(images, gate(ocr)).run("detail", [1, 2], gated=True, journal=decided)
    assert images.openings == 2  # nothing left to show: the editor is not opened


def test_a_crash_between_the_decision_and_the_press_resumes_with_the_decision_and_one_press():
    images, ocr = FakeImages({1: True, 2: True}), FakeOcr()
    images.crash_before_press = {2}
    j, saved, _ = journal()
    with pytest.raises(Crash):
        Translation(images, gate(ocr)).run("detail", [1, 2], gated=True, journal=j)
    assert saved[-1]["2"]["zh"] is True and "pressed" not in saved[-1]["2"]
    resumed, _, notes = journal()
    resumed.entries = journal_entries({"images_op": 3, "images": saved[-1]}, 3)
    Translation(images, gate(ocr)).run("detail", [1, 2], gated=True, journal=resumed)
    assert images.presses == [1, 2]  # image 2 pressed once, image 1 not again
    assert ocr.reads == 2  # the recorded decision was reused, not read again
    assert notes[0] == ("ocr", {**notes[0][1], "reused": True, "position": 2})


def test_a_press_that_landed_before_the_crash_is_not_pressed_again():
    images = FakeImages({1: True})
    images.crash_after_press = {1}
    j, saved, _ = journal()
    with pytest.raises(Crash):
        Translation(images, gate()).run("detail", [1], gated=True, journal=j)
    resumed = ImageJournal(entries=journal_entries({"images_op": 0, "images": saved[-1]}, 0))
    Translation(images, gate()).run("detail", [1], gated=True, journal=resumed)
    assert images.presses == [1]
    assert resumed.get(1)["pressed"] is True


def test_a_press_that_did_not_land_is_pressed_on_resume():
    images = FakeImages({1: True})
    j = ImageJournal(entries={"1": {"zh": True, "ms": 5, "engine": "fake", "src": "/img/1-orig.png"}})
    Translation(images, gate()).run("detail", [1], gated=True, journal=j)
    assert images.presses == [1]


def test_an_image_decided_against_is_not_even_opened_on_resume():
    images = FakeImages({1: False, 2: True})
    j = ImageJournal(entries={"1": {"zh": False, "ms": 5, "engine": "fake"}})
    Translation(images, gate()).run("detail", [1, 2], gated=True, journal=j)
    assert images.opened == [2] and images.presses == [2]


def test_without_an_ocr_every_named_image_is_pressed_and_said_once(caplog):
    def missing():
        raise OcrUnavailable("OCR not installed")

    images = FakeImages({1: False, 2: False})
    shared = TranslationGate(translate_all=False, loader=missing)
    for _ in range(2):
        Translation(images, shared).run("detail", [1, 2], gated=True, journal=ImageJournal())
    assert images.presses == [1, 2, 1, 2]
    assert sum("OCR not installed" in r.getMessage() for r in caplog.records) == 1


def test_an_unreadable_picture_is_pressed_as_the_real_tool_did():
    images = FakeImages({1: False})
    images.images_in_editor = _unreadable(images.images_in_editor)  # type: ignore[method-assign]
    j, saved, _ = journal()
    Translation(images, gate()).run("detail", [1], gated=True, journal=j)
    assert images.presses == [1]
    assert saved[0]["1"]["zh"] is True and "could not be read" in saved[0]["1"]["error"]


def _unreadable(opener):
    @contextmanager
    def wrapped(target: str):
        with opener(target) as visit:
            show = visit.show

            def unreadable(position: int):
                shown = show(position)
                shown.picture = lambda: None
                return shown

            visit.show = unreadable
            yield visit

    return wrapped


def test_a_decision_against_pressing_is_written_with_the_next_commit_and_read_again_if_lost():
    images, ocr = FakeImages({1: False, 2: True}), FakeOcr()
    images.crash_before_press = {2}
    j, saved, _ = journal()
    with pytest.raises(Crash):
        Translation(images, gate(ocr)).run("detail", [1, 2], gated=True, journal=j)
    assert len(saved) == 1 and saved[0]["1"]["zh"] is False  # with image 2's decision and src
    lost = FakeImages({1: False})
    lost_journal, lost_saved, _ = journal()
    Translation(lost, gate(ocr)).run("detail", [1], gated=True, journal=lost_journal)
    assert lost_saved == [] and lost.presses == []  # nothing written or pressed: a resume reads it again
