"""The fonts of the simulator's pictures: Noto Sans CJK (Debian), or the system's on Windows/macOS."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from stepbatch.errors import UserError

FONT_ENV = "STEPBATCH_CJK_FONT"  # a font file covering Han and Hangul, overriding the search below

_NOTO_DIRS = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/noto-cjk",
    "/usr/share/fonts/google-noto-cjk",
)
_NOTO_FACE = {"zh": 2, "ko": 1, "en": 1}  # NotoSansCJK-*.ttc holds the faces JP, KR, SC, TC, HK
_ARIAL_UNICODE = "/System/Library/Fonts/Supplemental/Arial Unicode.ttf"
_SYSTEM_FONTS = {  # Windows, then macOS; {b}: "bd" for the bold file
    "zh": ("{windir}/Fonts/msyh{b}.ttc", "{windir}/Fonts/simhei.ttf", "/System/Library/Fonts/PingFang.ttc",
           "/System/Library/Fonts/Hiragino Sans GB.ttc", "/System/Library/Fonts/STHeiti Medium.ttc",
           _ARIAL_UNICODE),
    "ko": ("{windir}/Fonts/malgun{b}.ttf", "/System/Library/Fonts/AppleSDGothicNeo.ttc", _ARIAL_UNICODE),
    "en": ("{windir}/Fonts/arial{b}.ttf", "/System/Library/Fonts/Supplemental/Arial.ttf", _ARIAL_UNICODE),
}  # fmt: skip
_MISSING_FONT = (
    "no font for Chinese and Korean text found: install fonts-noto-cjk (Debian/Ubuntu: "
    "sudo apt install fonts-noto-cjk; Windows: the Microsoft YaHei and Malgun Gothic system fonts) "
    f"or set {FONT_ENV} to a .ttf/.ttc that covers Han and Hangul"
)


@dataclass(frozen=True)
class FontFace:
    path: Path
    index: int = 0


def find_font(kind: str, *, bold: bool = False) -> FontFace:
    """The font for one script ("zh", "ko", "en"); raises UserError naming what to install."""
    override = os.environ.get(FONT_ENV)
    if override:
        if Path(override).is_file():
            return FontFace(Path(override))
        raise UserError(f"{FONT_ENV}={override} is not a font file; {_MISSING_FONT}")
    kind = "en" if kind == "none" else kind
    windir = os.environ.get("WINDIR", "C:/Windows")
    for weight in ("Bold", "Regular") if bold else ("Regular",):
        noto = [(f"{d}/NotoSansCJK-{weight}.ttc", _NOTO_FACE[kind]) for d in _NOTO_DIRS]
        system = [
            (f.format(windir=windir, b="bd" if weight == "Bold" else ""), 0) for f in _SYSTEM_FONTS[kind]
        ]
        for name, index in noto + system:
            if Path(name).is_file():
                return FontFace(Path(name), index)
    raise UserError(_MISSING_FONT)


def find_cjk_font() -> Path:
    """The font used for Han text, after checking that Hangul has one too (the same file on Debian)."""
    find_font("ko")
    return find_font("zh").path


@lru_cache(maxsize=128)
def load_font(kind: str, bold: bool, px: int) -> ImageFont.FreeTypeFont:
    face = find_font(kind, bold=bold)
    return ImageFont.truetype(str(face.path), px, index=face.index)
