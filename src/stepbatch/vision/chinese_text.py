"""Does a product picture show Chinese text? The gate in front of `원클릭 이미지 번역` (one credit a press).

The real tool ran EasyOCR (ch_sim) on the editor's canvas and pressed when a text block with confidence
>= 0.3 held a character in U+4E00..U+9FFF, and pressed anyway when OCR failed (the safe side). This module
keeps that contract with OCR engines that install offline with their models: rapidocr-onnxruntime (the
default; PP-OCRv4 models inside the wheel, Windows wheels) or tesseract with chi_sim (the measured
alternative). Models load once per process, on the first picture.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import io
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEFAULT_ENGINE = "rapidocr"
INSTALL_HINT = 'pip install "stepbatch[ocr]"'
HAN = re.compile(r"[\u4e00-\u9fff]")
MAX_FOUND = 12
DET_SHORT_SIDE = 960  # pictures are shrunk to this shorter side: 14 px text at 640 stays readable
# rapidocr upscales pictures whose shorter side is below this before detection (its default, 736,
# turned every 640 px picture into a 736 px one: 18 % slower in bench/ocr_gate, no recall gained)
DET_MIN_SIDE = 640
TILE_RATIO = 2.5  # tall detail pictures are read in tiles this many widths high (with overlap)
MAX_PIXELS = 6_000_000


class OcrUnavailable(Exception):
    """The asked OCR engine cannot run here; `str()` is one line that says how to install it."""


@dataclass(frozen=True)
class Verdict:
    has_chinese: bool
    ms: int  # OCR time for this image (the model load is not counted)
    found: str  # up to 12 Han characters of the blocks that decided ("" when none)
    engine: str  # "rapidocr" | "tesseract"
    error: str | None = None  # OCR failed on this image: has_chinese is True (press, as the real tool did)


@dataclass(frozen=True)
class TextBlock:
    text: str
    confidence: float  # 0..1


@dataclass(frozen=True)
class Rule:
    """Which OCR blocks count as Chinese text: sure enough, with enough Han characters."""

    min_confidence: float = 0.3
    min_han: int = 1  # Han characters in one block

    def accepts(self, block: TextBlock) -> bool:
        return block.confidence >= self.min_confidence and len(HAN.findall(block.text)) >= self.min_han


REAL_TOOL_RULE = Rule()  # what production did with EasyOCR: confidence >= 0.3 and one Han character
# Tuned on bench/ocr_gate.py (and a second set of other seeds), because PP-OCR's Chinese model knows no
# Hangul and reads it as Han: with the real tool's rule 23 of 240 non-Chinese pictures pressed (34 on the
# second set).
# - 2 Han characters: the misreads of shapes (口, 门, 山, 二 at up to 0.99) and of a Korean price's 원 (as
#   号 in "279号", 0.8-0.95) are single characters; Chinese marketing text is a phrase.
# - confidence 0.6: Korean read as several Han characters comes back unsure (0.37-0.53: "是明" 0.50,
#   "早豆明会" 0.53) while Chinese product text is read at >= 0.98; 0.6 keeps a wide margin for real,
#   blurrier photos. Measured: recall 1.000 both ways, precision 0.78 -> 1.00.
DEFAULT_RULE = Rule(min_confidence=0.6, min_han=2)


def decide(blocks: Iterable[TextBlock], rule: Rule = DEFAULT_RULE) -> tuple[bool, str]:
    """(has Chinese, the Han characters of the accepted blocks, at most MAX_FOUND)."""
    accepted = [b for b in blocks if rule.accepts(b)]
    found = "".join(HAN.findall("".join(b.text for b in accepted)))[:MAX_FOUND]
    return bool(accepted), found


class ChineseTextDetector(Protocol):
    name: str

    def detect(self, image: bytes) -> Verdict: ...  # PNG or JPEG bytes


# --------------------------------------------------------------------------------------------- shared


def _decode(image: bytes) -> Any:
    """A PIL RGB image, shrunk so the shorter side is at most DET_SHORT_SIDE and it has <= MAX_PIXELS."""
    from PIL import Image

    img = Image.open(io.BytesIO(image))
    img.load()
    img = img.convert("RGB")
    w, h = img.size
    scale = min(1.0, DET_SHORT_SIDE / min(w, h), (MAX_PIXELS / (w * h)) ** 0.5)
    if scale < 1.0:
        img = img.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.Resampling.LANCZOS)
    return img


def _tiles(img: Any) -> list[Any]:
    """Tall (or wide) detail pictures as overlapping tiles no longer than TILE_RATIO × the short side."""
    w, h = img.size
    short, long_ = min(w, h), max(w, h)
    span = int(short * TILE_RATIO)
    if long_ <= span:
        return [img]
    step = int(span * 0.9)
    starts = [*range(0, long_ - span, step), long_ - span]
    return [img.crop((0, s, w, s + span) if h > w else (s, 0, s + span, h)) for s in starts]


class _Backend:
    """Lazy, once-per-process engine; `read` gives the text blocks of one picture tile."""

    name = ""

    def __init__(self, rule: Rule = DEFAULT_RULE) -> None:
        self.rule = rule
        self._lock = threading.Lock()
        self.load_s: float | None = None

    def load(self) -> float:
        """Load the model now (else the first picture does); seconds it took, 0 when already loaded."""
        with self._lock:
            if self.load_s is not None:
                return 0.0
            started = time.perf_counter()
            self._load()
            self.load_s = time.perf_counter() - started
            return self.load_s

    def read(self, image: bytes) -> list[TextBlock]:
        """Every text block OCR finds in the picture (all tiles), before any rule."""
        self.load()
        blocks: list[TextBlock] = []
        for tile in _tiles(_decode(image)):
            with self._lock:
                blocks += self._read(tile)
        return blocks

    def detect(self, image: bytes) -> Verdict:
        try:
            self.load()
            started = time.perf_counter()
            found_any, found = False, ""
            for tile in _tiles(_decode(image)):
                with self._lock:
                    found_any, found = decide(self._read(tile), self.rule)
                if found_any:  # the rest of a tall picture cannot change the answer
                    break
            ms = round((time.perf_counter() - started) * 1000)
            return Verdict(has_chinese=found_any, ms=ms, found=found, engine=self.name)
        except Exception as exc:  # any failure presses, as production did; the reason travels in `error`
            message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            return Verdict(has_chinese=True, ms=0, found="", engine=self.name, error=message)

    def _load(self) -> None:
        raise NotImplementedError

    def _read(self, tile: Any) -> list[TextBlock]:
        raise NotImplementedError


# ------------------------------------------------------------------------------------------- rapidocr


class RapidOcrDetector(_Backend):
    """PP-OCRv4 (Chinese det + rec) on onnxruntime, CPU; the angle classifier is off (product text is
    upright, and flipping a crop by mistake only adds misreads)."""

    name = "rapidocr"
    packages = ("rapidocr-onnxruntime",)

    def _load(self) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except Exception as exc:  # ImportError, or a broken onnxruntime/OpenCV DLL on Windows
            raise OcrUnavailable(f"rapidocr-onnxruntime does not import ({exc}): {INSTALL_HINT}") from exc
        self._engine = RapidOCR(
            text_score=min(self.rule.min_confidence, REAL_TOOL_RULE.min_confidence),  # the bench scores both
            use_cls=False,
            max_side_len=int(DET_SHORT_SIDE * TILE_RATIO) + 1,  # we shrink and tile; it must not shrink more
            det_limit_side_len=DET_MIN_SIDE,
        )

    def _read(self, tile: Any) -> list[TextBlock]:
        import numpy as np

        bgr = np.ascontiguousarray(np.asarray(tile)[:, :, ::-1])
        result, _ = self._engine(bgr, use_cls=False)
        return [TextBlock(str(r[1]), float(r[2])) for r in result or ()]


# ------------------------------------------------------------------------------------------ tesseract

_TESSERACT_HINT = (
    "tesseract with chi_sim not found: pip install pytesseract and install tesseract-ocr with its "
    "chi_sim data (Debian: sudo apt install tesseract-ocr tesseract-ocr-chi-sim; Windows: the UB Mannheim "
    "installer with Chinese (Simplified))"
)
_WINDOWS_TESSERACT = Path("C:/Program Files/Tesseract-OCR/tesseract.exe")


def _tesseract_cmd() -> str | None:
    found = shutil.which("tesseract")
    if found:
        return found
    return str(_WINDOWS_TESSERACT) if _WINDOWS_TESSERACT.is_file() else None


class TesseractDetector(_Backend):
    """tesseract 4/5 LSTM with chi_sim, one line of text per block. Measured best of the simple set-ups:
    grey, upscaled 2× (small print), sparse-text page segmentation (product text is scattered)."""

    name = "tesseract"
    packages = ("pytesseract",)
    debian_packages = ("tesseract-ocr", "tesseract-ocr-chi-sim")

    def _load(self) -> None:
        try:
            import pytesseract
        except ImportError as exc:
            raise OcrUnavailable(_TESSERACT_HINT) from exc
        cmd = _tesseract_cmd()
        if cmd is None:
            raise OcrUnavailable(_TESSERACT_HINT)
        pytesseract.pytesseract.tesseract_cmd = cmd
        if "chi_sim" not in pytesseract.get_languages(config=""):
            raise OcrUnavailable(_TESSERACT_HINT)
        self._tess = pytesseract

    def _read(self, tile: Any) -> list[TextBlock]:
        from PIL import Image

        grey = tile.convert("L")
        grey = grey.resize((grey.width * 2, grey.height * 2), Image.Resampling.LANCZOS)
        data = self._tess.image_to_data(
            grey, lang="chi_sim", config="--psm 11", output_type=self._tess.Output.DICT
        )
        return _tesseract_lines(data)


def _tesseract_lines(data: dict[str, Sequence[Any]]) -> list[TextBlock]:
    """Words grouped by line; a line's confidence is the mean of its words' (tesseract says 0–100)."""
    lines: dict[tuple[int, int, int], list[tuple[str, float]]] = {}
    for i, word in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if word.strip() and conf >= 0:
            key = (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))
            lines.setdefault(key, []).append((word.strip(), conf / 100))
    return [
        TextBlock("".join(w for w, _ in words), sum(c for _, c in words) / len(words))
        for words in lines.values()
    ]


# ------------------------------------------------------------------------------------------- choosing

_ENGINES: dict[str, Callable[[], _Backend]] = {"rapidocr": RapidOcrDetector, "tesseract": TesseractDetector}
_LOADED: dict[str, _Backend] = {}
_LOADED_LOCK = threading.Lock()


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def engine_available(name: str) -> bool:
    """Cheap check (no import, no model): could `load_detector(name)` work?"""
    if name == "rapidocr":
        return _importable("rapidocr_onnxruntime") and _importable("onnxruntime")
    if name == "tesseract":
        return _importable("pytesseract") and _tesseract_cmd() is not None
    return False


def load_detector(name: str = "auto") -> ChineseTextDetector:
    """The detector of one engine ("rapidocr", "tesseract"; "auto": the default, rapidocr), one per
    process; its model loads on the first picture. Raises OcrUnavailable when it is not installed."""
    engine = DEFAULT_ENGINE if name == "auto" else name
    if engine not in _ENGINES:
        raise OcrUnavailable(f"unknown OCR engine {name!r}: use auto, {', '.join(_ENGINES)}")
    if not engine_available(engine):
        raise OcrUnavailable(
            f"OCR engine {engine} not installed: {INSTALL_HINT}" if engine == "rapidocr" else _TESSERACT_HINT
        )
    with _LOADED_LOCK:
        if engine not in _LOADED:
            _LOADED[engine] = _ENGINES[engine]()
        return _LOADED[engine]


def availability() -> tuple[bool, str]:
    """(is the default OCR installed, one line for the operator); no import, no model load."""
    if engine_available(DEFAULT_ENGINE):
        try:
            version = importlib.metadata.version("rapidocr-onnxruntime")
        except importlib.metadata.PackageNotFoundError:
            version = "?"
        return True, f"OCR gate on (rapidocr-onnxruntime {version})"
    return False, f"OCR not installed: {INSTALL_HINT}; translating every named image (--translate-all)"
