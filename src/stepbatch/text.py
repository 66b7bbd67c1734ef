"""Small helpers for English messages (a leaf module: imports nothing of stepbatch)."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 product`, `2 products`, `0 products`; `many` for irregular forms (`process`, `processes`)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
