"""Tiny generated product pictures (SVG), so pages need no network."""

from __future__ import annotations

import hashlib
from html import escape

_PALETTE = ("#f4cccc", "#fce5cd", "#fff2cc", "#d9ead3", "#d0e0e3", "#cfe2f3", "#d9d2e9", "#ead1dc")


def image_src(image: dict[str, object]) -> str:
    """The URL of an image record; it changes when the image is translated."""
    suffix = "-ko" if image.get("tr") else ("-zh" if image.get("zh") else "")
    return f"/img/{image['orig']}{suffix}.svg"


def render_svg(key: str) -> str:
    orig, _, state = key.partition("-")
    digest = hashlib.sha1(orig.encode()).digest()
    bg = _PALETTE[digest[0] % len(_PALETTE)]
    fg = f"#{digest[1] // 2:02x}{digest[2] // 2:02x}{digest[3] // 2:02x}"
    label = {"zh": "新款 特价", "ko": "신상 특가 무료배송"}.get(state, "")
    text = (
        f'<rect x="20" y="300" width="360" height="60" rx="8" fill="#fff" opacity="0.85"/>'
        f'<text x="200" y="340" font-size="28" text-anchor="middle" fill="#c00">{escape(label)}</text>'
        if label
        else ""
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">'
        f'<rect width="400" height="400" fill="{bg}"/>'
        f'<circle cx="200" cy="170" r="{60 + digest[4] % 60}" fill="{fg}" opacity="0.55"/>'
        f'<rect x="{80 + digest[5] % 80}" y="{60 + digest[6] % 60}" width="120" height="150" rx="20" '
        f'fill="{fg}" opacity="0.35"/>{text}'
        f'<text x="200" y="390" font-size="14" text-anchor="middle" fill="#555">{escape(orig)}</text></svg>'
    )
