"""Translating a product's images: which ones to press (the OCR gate), and pressing each exactly once.

Every press of `원클릭 이미지 번역` costs a credit. The real tool read the image the editor shows (its
canvas) for `specific:all` and `special:N`, ran OCR and pressed only where it found Chinese text; named
positions were pressed as named. It did a list's images in one opening of the editor, and so does this.
Each image's decision and press are journaled durably before and after they happen, so a resume reuses a
decision instead of reading again, and presses no image twice: an image whose press started before an
interruption is pressed again only if its picture did not change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from stepbatch.vision import ChineseTextDetector, OcrUnavailable, Verdict, load_detector

log = logging.getLogger(__name__)


class ShownImage(Protocol):
    """One image open in the image editor."""

    def picture(self) -> bytes | None: ...  # what the editor shows (PNG), None when it cannot be read
    def source(self) -> str: ...  # the image's URL as the editor lists it (changes when translated)
    def press(self) -> None: ...  # 원클릭 이미지 번역, waited until the press is over


class EditorImages(Protocol):
    """The image editor open over one list's images (opened at the first `show`)."""

    def show(self, position: int) -> ShownImage: ...  # 1-based; checked to be the one shown


class ImageOpener(Protocol):
    def images_in_editor(self, target: str) -> AbstractContextManager[EditorImages]: ...


@dataclass
class ImageJournal:
    """What is durably known of one translate op's images, keyed by position: `zh`/`ms`/`engine` (the OCR
    decision), `src` (the picture's URL just before its press), `pressed`."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    persist: Callable[[dict[str, dict[str, Any]]], None] = lambda entries: None
    note: Callable[..., None] = lambda kind, **data: None

    def get(self, position: int) -> dict[str, Any]:
        return dict(self.entries.get(str(position), {}))

    def put(self, position: int, **fields: Any) -> None:
        self.hold(position, **fields)
        self.persist({k: dict(v) for k, v in self.entries.items()})

    def hold(self, position: int, **fields: Any) -> None:
        """Record without writing: what is held is written with the next `put` (lost with a crash before
        it, which only means reading that picture again)."""
        self.entries[str(position)] = {**self.get(position), **fields}


class TranslationGate:
    """The OCR that decides; off with --translate-all, or when no OCR is installed (said once)."""

    def __init__(
        self, *, translate_all: bool, loader: Callable[[], ChineseTextDetector] = load_detector
    ) -> None:
        self.translate_all = translate_all
        self._loader = loader
        self._detector: ChineseTextDetector | None = None
        self._unavailable = translate_all

    def detector(self) -> ChineseTextDetector | None:
        if self._detector is None and not self._unavailable:
            try:
                self._detector = self._loader()
            except OcrUnavailable as exc:
                self._unavailable = True
                log.warning("%s; translating every named image (as --translate-all)", exc)
        return self._detector


class Translation:
    def __init__(self, editor: ImageOpener, gate: TranslationGate | None) -> None:
        self.editor = editor
        self.gate = gate

    def run(self, target: str, positions: list[int], *, gated: bool, journal: ImageJournal) -> None:
        """Press translate on each of `positions` that needs it (with `gated`, only where OCR finds
        Chinese text), skipping what the journal shows as pressed or decided against."""
        detector = self.gate.detector() if gated and self.gate is not None else None
        with self.editor.images_in_editor(target) as editor:
            for position in positions:
                entry = journal.get(position)
                if entry.get("pressed"):
                    continue
                if detector is not None and "zh" in entry and not entry["zh"]:
                    _note_decision(journal, target, position, entry, reused=True)
                    continue
                shown = editor.show(position)
                decision: dict[str, Any] = {}
                if detector is not None:
                    decision = self._decide(detector, shown, target, position, journal)
                    if not decision.get("zh", True):
                        continue
                self._press_once(shown, target, position, journal, decision)

    @staticmethod
    def _decide(
        detector: ChineseTextDetector, shown: ShownImage, target: str, position: int, journal: ImageJournal
    ) -> dict[str, Any]:
        """The OCR decision for the image ({} when the journal already holds one: never decided again).

        A decision against pressing is held and written with the journal's next commit; one for pressing
        goes with the press's `src` (one commit). A resume that finds neither reads the image again, and
        nothing was pressed on it."""
        entry = journal.get(position)
        if "zh" in entry:  # decided before an interruption: never decided again
            _note_decision(journal, target, position, entry, reused=True)
            return {"zh": bool(entry["zh"])} if not entry["zh"] else {}
        picture = shown.picture()
        verdict = (
            detector.detect(picture)
            if picture
            else Verdict(True, 0, "", detector.name, error="the editor's picture could not be read")
        )
        decision: dict[str, Any] = {"zh": verdict.has_chinese, "ms": verdict.ms, "engine": verdict.engine}
        if verdict.error:
            decision["error"] = verdict.error
            log.warning("OCR failed on %s image %d (%s): pressing", target, position, verdict.error)
        if not verdict.has_chinese:
            journal.hold(position, **decision)
        _note_decision(journal, target, position, {**decision, "found": verdict.found}, reused=False)
        return decision

    @staticmethod
    def _press_once(
        shown: ShownImage, target: str, position: int, journal: ImageJournal, decision: dict[str, Any]
    ) -> None:
        src = shown.source()
        started_from = journal.get(position).get("src")
        if started_from and started_from != src:  # pressed before an interruption, and it landed
            journal.put(position, pressed=True)
            return
        journal.put(position, **decision, src=src)
        shown.press()
        journal.put(position, pressed=True)
        journal.note("press", target=target, position=position)


def _note_decision(
    journal: ImageJournal, target: str, position: int, entry: dict[str, Any], *, reused: bool
) -> None:
    extra = {k: entry[k] for k in ("found", "error") if entry.get(k)}
    journal.note(
        "ocr",
        target=target,
        position=position,
        chinese=bool(entry.get("zh")),
        ms=int(entry.get("ms", 0)),
        engine=str(entry.get("engine", "")),
        reused=reused,
        **extra,
    )


def journal_entries(checkpoint: dict[str, Any], op_index: int) -> dict[str, dict[str, Any]]:
    """The image journal a checkpoint holds for op `op_index` (empty for another op)."""
    if checkpoint.get("images_op") != op_index:
        return {}
    return {k: dict(v) for k, v in (checkpoint.get("images") or {}).items()}
