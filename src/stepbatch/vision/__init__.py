"""Reading product pictures: is there Chinese text on this image (the image-translation gate)?

A leaf package: it imports nothing of stepbatch. OCR engines are optional (`pip install "stepbatch[ocr]"`)
and imported lazily.
"""

from stepbatch.vision.chinese_text import (
    ChineseTextDetector,
    OcrUnavailable,
    Verdict,
    availability,
    load_detector,
)

__all__ = ["ChineseTextDetector", "OcrUnavailable", "Verdict", "availability", "load_detector"]
