"""The simulator's product pictures: raster images with rendered text (Chinese, Korean, English or none),
generated once per picture and cached, served from the simulator's own origin.

An image record's text is `zh` when its `zh` flag is set; otherwise Korean, English or none, derived from
its id (so seeding stays as random as before). A translated Chinese picture shows the same picture with
Korean text, under a new URL, as a translated image is a new picture.
"""

from __future__ import annotations

import hashlib

from stepbatch.simulator.textimages import TEXT_KINDS, PictureSpec, cached_png

_NON_CHINESE = ("ko", "en", "none", "none")
NOTICE_PICTURES = {"notice-ko": "ko", "event-ko": "ko"}


def text_kind(image: dict[str, object]) -> str:
    """What text the seeded picture carries: zh, ko, en or none."""
    if image.get("zh"):
        return "zh"
    digest = hashlib.sha1(str(image["orig"]).encode()).digest()
    return _NON_CHINESE[digest[0] % len(_NON_CHINESE)]


SIZES = range(32, 1281)  # `?w=` a page may ask for (the list's row thumbnails are small)
ROW_THUMB_SIZE = 96


def image_src(image: dict[str, object], size: int | None = None) -> str:
    """The URL of an image record; it changes when the image is translated."""
    state = "tr" if image.get("tr") and image.get("zh") else text_kind(image)
    return f"/img/{image['orig']}-{state}.png" + (f"?w={size}" if size else "")


def picture_for(key: str, size: int | None = None) -> bytes | None:
    """The PNG behind `/img/{key}.png[?w=size]` (`<orig>-<zh|ko|en|none|tr>`), or None for an unknown key
    or size."""
    if size is not None and size not in SIZES:
        return None
    if key in NOTICE_PICTURES:
        return cached_png(PictureSpec(seed=key, text=NOTICE_PICTURES[key], size=size or 432))
    orig, _, state = key.rpartition("-")
    text = "ko" if state == "tr" else state
    if not orig or text not in TEXT_KINDS:
        return None
    return cached_png(PictureSpec(seed=orig, text=text, size=size or 640))
