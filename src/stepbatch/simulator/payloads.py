"""The simulator's JSON payloads and the small request helpers its handlers share."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from stepbatch.simulator import db
from stepbatch.simulator.images import ROW_THUMB_SIZE, image_src

COOKIE = "percenty_sid"


async def read_json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return body if isinstance(body, dict) else {}


def positive_int(raw: str | None, default: int) -> int:
    try:
        return max(int(raw or default), 1)
    except ValueError:
        return default


def short_sid(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    return token[:8] if token else None  # enough to tell sessions apart, useless as a credential


def find_image(p: db.Product, kind: str | None, image_id: object) -> tuple[int, dict[str, Any]] | None:
    if kind == "option":
        images = [o["image"] for o in p.options if o.get("image")]
    elif kind in ("detail", "thumbnail"):
        images = p.detail if kind == "detail" else p.thumbs
    else:
        return None
    for i, image in enumerate(images):
        if image["id"] == image_id:
            return i + 1, image
    return None


def source_edit(p: db.Product, old: str, new: str) -> tuple[str, str] | None:
    """What a source-mode edit inserted and where ("start" before the content, "end" after it), or None
    when it did anything else (the simulator models insertions at either end only)."""
    if new == old:
        return "", "end"
    if new.endswith(old):
        return new[: len(new) - len(old)], "start"
    if new.startswith(old):
        return new[len(old) :], "end"
    return None


def join_html(first: str, second: str) -> str:
    return "\n".join(part.strip() for part in (first, second) if part.strip())


def is_single_img(html: str) -> bool:
    text = html.strip().lower()
    return text.startswith("<img") and text.endswith(">") and text.count("<") == 1


def image_refs(images: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": im["id"], "src": image_src(im)} for im in images]


def summary(p: db.Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "memo": p.memo,
        "group": p.group,
        "price": p.price,
        "cost_cny": p.cost_cny,
        "shipping": p.shipping,
        "collected": p.collected,
        "source": p.source,
        "thumb": image_src(p.thumbs[0], ROW_THUMB_SIZE) if p.thumbs else None,
    }


def detail(p: db.Product) -> dict[str, Any]:
    return {
        **summary(p),
        "detail": image_refs(p.detail),
        "thumbs": image_refs(p.thumbs),
        "options": [
            {
                "name": o["name"],
                "zh_name": o["zh_name"],
                "image": image_refs([o["image"]])[0] if o.get("image") else None,
            }
            for o in p.options
        ],
        "html": p.html,
        "html_head": p.html_head,
    }
