"""Raster product pictures with rendered text (Chinese, Korean, English or none), like seller photos.

Used by the simulator (the pictures the image editor shows) and by bench/ocr_gate.py (a labelled set for
the OCR translation gate). Everything is picked deterministically from `PictureSpec.seed`: background,
shapes, phrase, layout, text size and contrast. The background and layout depend on the seed only, so the
`zh` and `ko` pictures of one seed are the same picture with its text swapped (a translation).
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import logging
import math
import os
import random
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageStat

from stepbatch.simulator.fonts import find_cjk_font, find_font, load_font

__all__ = [
    "LARGE_TEXT",
    "SMALL_TEXT",
    "TEXT_KINDS",
    "PictureSpec",
    "cached_png",
    "find_cjk_font",
    "render_png",
]

log = logging.getLogger(__name__)

TEXT_KINDS = ("zh", "ko", "en", "none")
SMALL_TEXT, LARGE_TEXT = 0.022, 0.16  # text height / picture side: ≈14 px .. ≈100 px at 640

PHRASES: dict[str, tuple[str, ...]] = {
    "zh": (
        "新款特价", "包邮", "正品保证", "限时折扣", "买一送一", "厂家直销", "热销爆款", "品质保障",
        "现货速发", "全场五折", "新品上市", "官方旗舰店", "假一赔十", "七天无理由退换", "超值优惠",
        "加厚保暖", "简约时尚", "大容量", "防水耐磨", "进口材质", "今日特惠", "满减活动",
    ),
    "ko": (
        "신상 특가", "무료배송", "오늘 출발", "당일 발송", "한정 수량", "최저가 보장", "정품 보장",
        "인기 상품", "품절 임박", "세일 중", "고급 소재", "방수 기능", "대용량", "빠른 배송",
        "이벤트 진행중", "타임 세일",
    ),
    "en": (
        "NEW ARRIVAL", "FREE SHIPPING", "SALE 50%", "BEST SELLER", "HOT DEAL", "LIMITED EDITION",
        "100% COTTON", "PREMIUM QUALITY", "BUY 1 GET 1", "WATERPROOF", "ORIGINAL", "FAST DELIVERY",
        "Summer Collection", "Made with care",
    ),
}  # fmt: skip
PRICES = {
    "zh": ("¥{n}", "到手价¥{n}", "¥{n}.00"),
    "ko": ("{n:,}원", "₩{n:,}"),
    "en": ("${n}.99", "ONLY ${n}"),
}


@dataclass(frozen=True)
class PictureSpec:
    seed: str  # any string; picks colours, shapes, phrase, text layout deterministically
    text: str  # one of TEXT_KINDS
    size: int = 640  # square side in px
    text_scale: float | None = None  # text height / side; None: picked from seed (small print .. banner)
    busy: bool | None = None  # None: picked from seed (gradients, shapes, noise, a product-like blob)

    def __post_init__(self) -> None:
        if self.text not in TEXT_KINDS:
            raise ValueError(f"PictureSpec.text must be one of {TEXT_KINDS}, not {self.text!r}")
        if not 32 <= self.size <= 4096:
            raise ValueError(f"PictureSpec.size must be 32..4096 px, not {self.size}")


# ------------------------------------------------------------------------------------------- colours

Rgb = tuple[int, int, int]
Box = tuple[float, float, float, float]


def _luma(c: Rgb) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _random_rgb(rng: random.Random) -> Rgb:
    r, g, b = (int(255 * v) for v in colorsys.hsv_to_rgb(rng.random(), rng.uniform(0.15, 0.9), 1.0))
    return r, g, b


def _with_luma(c: Rgb, target: float) -> Rgb:
    """`c`'s hue at about the luminance `target` (0–255): darkened toward black or lightened toward white."""
    luma = max(_luma(c), 1.0)
    if target <= luma:
        return tuple(int(v * target / luma) for v in c)  # type: ignore[return-value]
    t = (target - luma) / max(255 - luma, 1.0)
    return tuple(int(v + (255 - v) * t) for v in c)  # type: ignore[return-value]


def _contrasting(rng: random.Random, under: float, contrast: float) -> Rgb:
    """A text colour whose luminance differs from `under` by `contrast` (0–1) of the usable range."""
    delta = 255 * contrast
    target = under - delta if under - delta >= 0 and (under > 128 or under + delta > 255) else under + delta
    return _with_luma(_random_rgb(rng), min(max(target, 0), 255))


# ---------------------------------------------------------------------------------------- background


def _background(rng: random.Random, size: int, busy: bool) -> Image.Image:
    base = _with_luma(_random_rgb(rng), rng.uniform(40, 235))
    if not busy:
        img = Image.new("RGB", (size, size), base)
        _product_blob(ImageDraw.Draw(img), rng, size, shaded=False)
        return img
    other = _with_luma(_random_rgb(rng), rng.uniform(40, 235))
    img = Image.composite(
        Image.new("RGB", (size, size), other), Image.new("RGB", (size, size), base), _gradient(rng, size)
    )
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(rng.randint(3, 7)):
        _random_shape(draw, rng, size)
    img = Image.alpha_composite(img.convert("RGBA"), layer).convert("RGB")
    _product_blob(ImageDraw.Draw(img), rng, size, shaded=True)
    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.0, 1.2)))
    return _noise(img, rng, rng.uniform(4, 14))


def _gradient(rng: random.Random, size: int) -> Image.Image:
    """A linear 0..255 mask at a random angle (Pillow only: numpy is not a dependency)."""
    degrees = rng.uniform(0, 180)
    rotated = Image.linear_gradient("L").rotate(degrees, resample=Image.Resampling.BILINEAR, expand=True)
    theta = math.radians(degrees)
    inner = 256 / (abs(math.cos(theta)) + abs(math.sin(theta)))  # the square inside the rotated one
    c, half = rotated.width / 2, inner / 2
    return rotated.crop((c - half, c - half, c + half, c + half)).resize((size, size))


def _random_shape(draw: ImageDraw.ImageDraw, rng: random.Random, size: int) -> None:
    colour = (*_random_rgb(rng), rng.randint(60, 170))
    x, y = rng.uniform(-0.2, 1.0) * size, rng.uniform(-0.2, 1.0) * size
    w, h = rng.uniform(0.1, 0.6) * size, rng.uniform(0.1, 0.6) * size
    shape = rng.choice(("ellipse", "rect", "polygon", "line"))
    if shape == "ellipse":
        draw.ellipse((x, y, x + w, y + h), fill=colour)
    elif shape == "rect":
        draw.rounded_rectangle((x, y, x + w, y + h), radius=int(min(w, h) * 0.2), fill=colour)
    elif shape == "polygon":
        draw.polygon(
            [(x + rng.uniform(0, w), y + rng.uniform(0, h)) for _ in range(rng.randint(3, 6))], colour
        )
    else:
        draw.line((x, y, x + w, y + h), fill=colour, width=max(2, int(size * rng.uniform(0.005, 0.03))))


def _product_blob(draw: ImageDraw.ImageDraw, rng: random.Random, size: int, *, shaded: bool) -> None:
    """A bottle/box/bag-like object: a body, a top part and (shaded) a few bands of highlight."""
    w, h = rng.uniform(0.25, 0.5) * size, rng.uniform(0.3, 0.6) * size
    x, y = rng.uniform(0.05, 0.95 - w / size) * size, rng.uniform(0.1, 0.9 - h / size) * size
    body = _with_luma(_random_rgb(rng), rng.uniform(30, 230))
    draw.rounded_rectangle((x, y, x + w, y + h), radius=int(w * rng.uniform(0.05, 0.4)), fill=body)
    neck = w * rng.uniform(0.2, 0.5)
    draw.rectangle((x + (w - neck) / 2, y - h * 0.12, x + (w + neck) / 2, y), fill=_with_luma(body, 60))
    if shaded:
        for i in range(6):
            band = _with_luma(body, min(_luma(body) + 12 * (3 - abs(i - 3)), 255))
            bx = x + w * (0.15 + 0.05 * i)
            draw.rectangle((bx, y + h * 0.05, bx + w * 0.05, y + h * 0.95), fill=band)


def _noise(img: Image.Image, rng: random.Random, amplitude: float) -> Image.Image:
    """Grain of ±amplitude, coarse (2 px) so the PNG stays a few hundred kB; from `rng`, so reproducible
    (Image.effect_noise is not seedable)."""
    side, half = img.size[0], (img.size[0] + 1) // 2
    raw = Image.frombytes("L", (half, half), rng.randbytes(half * half))
    grain = raw.point(lambda v: round(128 + (v - 128) * amplitude / 128)).resize(
        (side, side), Image.Resampling.NEAREST
    )
    return ImageChops.add(img, Image.merge("RGB", (grain, grain, grain)), offset=-128)  # clipped to 0..255


# -------------------------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Layout:
    scale: float
    busy: bool
    anchor_y: float  # centre of the text block, fraction of the side
    align: str  # "left" | "center" | "right"
    style: str  # "banner" (full-width band) | "box" (tight box) | "plain" | "outline" (plain + stroke)
    bold: bool
    contrast: float  # luminance difference text/under, fraction of 255
    sub: bool  # a second, smaller phrase
    price: str | None  # side of a price badge, "l" | "r", in the half the text block leaves free


def _layout(spec: PictureSpec) -> _Layout:
    rng = random.Random(f"layout/{spec.seed}")
    scale = math.exp(rng.uniform(math.log(SMALL_TEXT), math.log(LARGE_TEXT)))
    busy = rng.random() < 0.5
    return _Layout(
        scale=spec.text_scale if spec.text_scale is not None else scale,
        busy=spec.busy if spec.busy is not None else busy,
        anchor_y=rng.choice((0.12, 0.2, 0.5, 0.8, 0.88, rng.uniform(0.1, 0.9))),
        align=rng.choice(("left", "center", "center", "right")),
        style=rng.choice(("banner", "box", "plain", "outline")),
        bold=rng.random() < 0.6,
        contrast=rng.uniform(0.35, 0.85),
        sub=rng.random() < 0.35,
        price=rng.choice("lr") if rng.random() < 0.3 else None,
    )


def _fit_lines(text: str, kind: str, bold: bool, px: int, width: float) -> tuple[list[str], int]:
    """`text` as 1–2 lines no wider than `width`, shrinking the font only when halving is not enough."""
    lines = [text]
    if load_font(kind, bold, px).getlength(text) > width and len(text) > 1:
        words = text.split(" ")
        if len(words) > 1:
            cut = max(range(1, len(words)), key=lambda i: -abs(len(" ".join(words[:i])) - len(text) / 2))
            lines = [" ".join(words[:cut]), " ".join(words[cut:])]
        else:
            lines = [text[: (len(text) + 1) // 2], text[(len(text) + 1) // 2 :]]
    while px > 8 and max(load_font(kind, bold, px).getlength(line) for line in lines) > width:
        px = int(px * 0.9)
    return lines, px


def _region_luma(img: Image.Image, box: Box) -> float:
    x0, y0, x1, y1 = (int(v) for v in box)
    crop = img.crop((max(x0, 0), max(y0, 0), max(x1, x0 + 1), max(y1, y0 + 1))).convert("L")
    return float(ImageStat.Stat(crop).mean[0])


def _draw_block(img: Image.Image, spec: PictureSpec, lay: _Layout, rng: random.Random) -> Box:
    """The text block (or, for `none`, its empty box); returns where it is."""
    size, kind = spec.size, spec.text
    px = max(8, round(lay.scale * size))
    phrases = PHRASES.get(kind, PHRASES["en"])
    main = rng.choice(phrases)
    lines, px = _fit_lines(main, kind, lay.bold, px, size * 0.9)
    rows = [(line, px) for line in lines]
    if lay.sub:
        sub_px = max(12, int(px * 0.6))
        others = [p for p in phrases if p != main]
        sub_lines, sub_px = _fit_lines(rng.choice(others), kind, False, sub_px, size * 0.9)
        rows += [(line, sub_px) for line in sub_lines]
    heights = [int(p * 1.3) for _, p in rows]
    block_w = max(load_font(kind, lay.bold, p).getlength(t) for t, p in rows)
    block_h = sum(heights)
    margin = size * 0.04
    top = min(max(lay.anchor_y * size - block_h / 2, margin), size - margin - block_h)
    left = {"left": margin, "center": (size - block_w) / 2, "right": size - margin - block_w}[lay.align]
    pad = px * 0.35
    box = (left - pad, top - pad * 0.5, left + block_w + pad, top + block_h + pad * 0.5)
    draw = ImageDraw.Draw(img)
    if lay.style in ("banner", "box"):
        fill = _with_luma(_random_rgb(rng), rng.uniform(20, 240))
        band = (0, box[1], size, box[3]) if lay.style == "banner" else box
        draw.rounded_rectangle(band, radius=0 if lay.style == "banner" else int(pad), fill=fill)
    if kind == "none":
        return box
    under = _region_luma(img, box)
    colour = _contrasting(rng, under, lay.contrast)
    stroke = max(1, px // 14) if lay.style == "outline" else 0
    stroke_fill = _contrasting(rng, _luma(colour), 0.6) if stroke else None
    y = top
    for (text, p), h in zip(rows, heights, strict=True):
        font = load_font(kind, lay.bold and p == px, p)
        width = font.getlength(text)
        x = {"left": left, "center": (size - width) / 2, "right": left + block_w - width}[lay.align]
        draw.text(
            (x, y + (h - p) / 2), text, font=font, fill=colour, stroke_width=stroke, stroke_fill=stroke_fill
        )
        y += h
    return box


def _draw_price(img: Image.Image, spec: PictureSpec, lay: _Layout, rng: random.Random, block: Box) -> None:
    """A badge in a corner away from the text block (none if they would overlap); `none` pictures keep
    the empty badge (a shape, no text)."""
    size, kind = spec.size, spec.text
    px = max(12, round(lay.scale * size * 0.8))
    label = rng.choice(PRICES.get(kind, PRICES["en"])).format(n=rng.randint(9, 999))
    font = load_font(kind if kind != "none" else "en", True, px)
    w = font.getlength(label) if kind != "none" else px * 3
    side = min(max(w, px) + px, size * 0.45)
    while kind != "none" and px > 8 and font.getlength(label) > side - px * 0.6:
        px = int(px * 0.9)
        font = load_font(kind, True, px)
    m = size * 0.03
    x = m if lay.price == "l" else size - m - side
    y = m if (block[1] + block[3]) / 2 > size / 2 else size - m - side * 0.6
    if y < block[3] and block[1] < y + side * 0.6:
        return
    fill = rng.choice(((220, 30, 40), (250, 200, 20), (20, 20, 20), (255, 255, 255), (30, 90, 200)))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle(
        (x, y, x + side, y + side * 0.6), radius=int(side * rng.uniform(0.05, 0.3)), fill=fill
    )
    if kind != "none":
        colour = _contrasting(rng, _luma(fill), max(lay.contrast, 0.5))
        tx, ty = x + (side - font.getlength(label)) / 2, y + side * 0.3 - px * 0.65
        draw.text((tx, ty), label, font=font, fill=colour)


# -------------------------------------------------------------------------------------------- public


def render_png(spec: PictureSpec) -> bytes:
    """The picture as PNG bytes; the same bytes for the same spec (and the same fonts)."""
    lay = _layout(spec)
    img = _background(random.Random(f"background/{spec.seed}"), spec.size, lay.busy)
    text_rng = random.Random(f"text/{spec.seed}/{spec.text}")
    block = _draw_block(img, spec, lay, text_rng)
    if lay.price:
        _draw_price(img, spec, lay, text_rng, block)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


_MEMORY: OrderedDict[tuple[PictureSpec, str], bytes] = OrderedDict()
_MEMORY_SIZE = 64
_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    return Path(tempfile.gettempdir()) / "stepbatch-pictures"


@lru_cache(maxsize=1)
def _renderer_digest() -> str:
    """This module's source and the fonts: a changed renderer never serves pictures cached by an old one."""
    fonts = "|".join(f"{find_font(k).path}" for k in ("zh", "ko", "en"))
    return hashlib.sha256(Path(__file__).read_bytes() + fonts.encode("utf-8")).hexdigest()


def cache_key(spec: PictureSpec) -> str:
    return hashlib.sha256(f"{_renderer_digest()}|{spec!r}".encode()).hexdigest()[:32]


def cached_png(spec: PictureSpec, cache_dir: Path | None = None) -> bytes:
    """render_png generated once: kept in `cache_dir` (default <tempdir>/stepbatch-pictures) and in memory."""
    folder = cache_dir if cache_dir is not None else default_cache_dir()
    key = (spec, str(folder))
    with _LOCK:
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            return _MEMORY[key]
    path = folder / f"{cache_key(spec)}.png"
    try:
        data = path.read_bytes()
    except OSError:
        data = render_png(spec)
        _write_atomically(path, data)
    with _LOCK:
        _MEMORY[key] = data
        while len(_MEMORY) > _MEMORY_SIZE:
            _MEMORY.popitem(last=False)
    return data


def clear_memory_cache() -> None:
    with _LOCK:
        _MEMORY.clear()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write via a unique temporary file, so concurrent writers and readers never see half a picture."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only or full temp folder: the picture still works, uncached on disk
        log.warning("cannot cache the picture %s: %s", path.name, exc)
