"""The translation gate's OCR on generated product pictures (real rapidocr, no mocks)."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from stepbatch.simulator.textimages import PictureSpec, render_png
from stepbatch.vision import OcrUnavailable, availability, load_detector
from stepbatch.vision.chinese_text import DEFAULT_RULE, REAL_TOOL_RULE, TextBlock, decide, engine_available

needs_rapidocr = pytest.mark.skipif(
    not engine_available("rapidocr"), reason='needs pip install "stepbatch[ocr]"'
)

PICTURES = [
    PictureSpec("vision-zh-1", "zh", text_scale=0.06, busy=False),
    PictureSpec("vision-zh-2", "zh", text_scale=0.035, busy=True),
    PictureSpec("vision-zh-3", "zh", text_scale=0.12, busy=True),
    PictureSpec("vision-ko-1", "ko", text_scale=0.06, busy=False),
    PictureSpec("vision-ko-2", "ko", text_scale=0.1, busy=True),
    PictureSpec("vision-en-1", "en", text_scale=0.05, busy=True),
    PictureSpec("vision-none-1", "none", busy=True),
]


@needs_rapidocr
@pytest.mark.parametrize("spec", PICTURES, ids=lambda s: s.seed)
def test_chinese_text_is_found_and_only_chinese(spec: PictureSpec) -> None:
    verdict = load_detector().detect(render_png(spec))
    assert verdict.error is None and verdict.engine == "rapidocr"
    assert verdict.has_chinese is (spec.text == "zh"), verdict
    assert (verdict.found != "") is verdict.has_chinese and len(verdict.found) <= 12
    assert 0 < verdict.ms < 20_000


def _tall_jpeg(*specs: PictureSpec) -> bytes:
    """A long detail picture (pictures stacked), as JPEG."""
    parts = [Image.open(io.BytesIO(render_png(s))).convert("RGB") for s in specs]
    tall = Image.new("RGB", (parts[0].width, sum(p.height for p in parts)))
    for i, part in enumerate(parts):
        tall.paste(part, (0, i * part.height))
    out = io.BytesIO()
    tall.save(out, format="JPEG", quality=85)
    return out.getvalue()


@needs_rapidocr
def test_a_long_jpeg_detail_picture_is_read_to_its_end() -> None:
    plain = [PictureSpec(f"vision-tall-{i}", "none", size=480, busy=False) for i in range(3)]
    chinese = PictureSpec("vision-tall-zh", "zh", size=480, text_scale=0.08, busy=False)
    detector = load_detector()
    assert not detector.detect(_tall_jpeg(*plain)).has_chinese
    verdict = detector.detect(_tall_jpeg(*plain, chinese))
    assert verdict.has_chinese and verdict.error is None, verdict


@needs_rapidocr
def test_a_large_picture_is_shrunk_and_still_read() -> None:
    verdict = load_detector().detect(render_png(PictureSpec("vision-big", "zh", size=1800, text_scale=0.04)))
    assert verdict.has_chinese and verdict.error is None, verdict


@needs_rapidocr
def test_garbage_bytes_press_anyway() -> None:
    verdict = load_detector("rapidocr").detect(b"this is not a picture")
    assert verdict.has_chinese and verdict.error and verdict.found == ""


@needs_rapidocr
def test_one_detector_per_process() -> None:
    assert load_detector() is load_detector("rapidocr")


def test_availability_is_cheap() -> None:
    started = time.perf_counter()
    ok, line = availability()
    assert time.perf_counter() - started < 0.5
    assert "\n" not in line
    assert ("rapidocr-onnxruntime" in line) if ok else ('pip install "stepbatch[ocr]"' in line)


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(OcrUnavailable, match="unknown OCR engine"):
        load_detector("easyocr")


def test_the_rule_rejects_hangul_misread_as_han() -> None:
    misread = [TextBlock("晨IY有", 0.5)]  # what the Chinese model made of 신상 특가
    assert decide(misread, REAL_TOOL_RULE)[0] and not decide(misread, DEFAULT_RULE)[0]
    assert decide([TextBlock("包邮", 0.97)]) == (True, "包邮")
    assert decide([TextBlock("到手价¥129", 0.8)]) == (True, "到手价")
    assert decide([TextBlock("FREE SHIPPING", 0.99), TextBlock("一", 0.9)]) == (False, "")
