"""The simulator's raster product pictures: deterministic, cached, telling seeds apart, valid PNGs."""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from stepbatch.simulator import textimages
from stepbatch.simulator.textimages import TEXT_KINDS, PictureSpec, cached_png, find_cjk_font, render_png

SIGNATURE_SIDE = 12  # as sites/percenty/image_editor.py compares pictures
MIN_SEED_DISTANCE = 6.0  # mean grey difference; the editor treats <= 1.5 as "the same picture"


def _signature(png: bytes) -> list[float]:
    img = Image.open(io.BytesIO(png)).convert("RGB").resize((SIGNATURE_SIDE,) * 2, Image.Resampling.BILINEAR)
    return [sum(rgb) / 3 for rgb in img.getdata()]


def _distance(a: list[float], b: list[float]) -> float:
    return sum(abs(x - y) for x, y in zip(a, b, strict=True)) / len(a)


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_render_is_deterministic_and_a_png_of_the_asked_size(kind: str) -> None:
    spec = PictureSpec(f"det-{kind}", kind, size=300)
    data = render_png(spec)
    assert data == render_png(spec)
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(data))
    img.verify()
    assert img.size == (300, 300) and img.mode == "RGB"


def test_busy_and_small_or_large_text_are_honoured() -> None:
    plain = render_png(PictureSpec("opts", "zh", text_scale=0.03, busy=False))
    busy = render_png(PictureSpec("opts", "zh", text_scale=0.03, busy=True))
    large = render_png(PictureSpec("opts", "zh", text_scale=0.15, busy=False))
    assert len({plain, busy, large}) == 3
    assert ImageStat.Stat(Image.open(io.BytesIO(busy)).convert("L")).stddev[0] > 5  # not a flat colour
    assert Image.open(io.BytesIO(large)).size == (640, 640)


def test_different_seeds_look_different_to_the_editor() -> None:
    sigs = [_signature(render_png(PictureSpec(f"seed-{i}", "zh", size=320))) for i in range(8)]
    distances = [_distance(a, b) for a, b in itertools.combinations(sigs, 2)]
    assert min(distances) > MIN_SEED_DISTANCE, sorted(distances)[:3]


def test_cache_hit_returns_the_same_bytes_without_rendering(tmp_path: Path) -> None:
    spec = PictureSpec("cached", "ko", size=200)
    textimages.clear_memory_cache()
    first = cached_png(spec, tmp_path)
    [path] = tmp_path.glob("*.png")
    assert path.read_bytes() == first == render_png(spec)
    path.unlink()
    assert cached_png(spec, tmp_path) is first  # from memory: nothing rendered, nothing written
    assert not path.exists()
    marker = render_png(PictureSpec("another", "none", size=200))
    path.write_bytes(marker)
    textimages.clear_memory_cache()
    assert cached_png(spec, tmp_path) == marker  # from disk: the file is what is served


def test_the_cjk_font_is_found() -> None:
    assert find_cjk_font().is_file()


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="text must be one of"):
        PictureSpec("x", "jp")
    with pytest.raises(ValueError, match="size"):
        PictureSpec("x", "zh", size=4)
