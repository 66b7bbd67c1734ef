"""Writing one benchmark's section of docs/benchmarks.md, leaving everyone else's sections as they are."""

from __future__ import annotations

import os
import re
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def replace_section(heading: str, text: str, doc: Path = BENCHMARKS_MD, tmp_tag: str = "bench") -> None:
    """Replace the `## …` section whose heading line is `heading` by `text` (which starts with that
    heading), or append `text` when the section is missing. Written through a temporary file."""
    current = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n\n"
    lines = current.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == heading), None)
    if start is None:
        new = current.rstrip("\n") + "\n\n" + text
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + text + ("\n" if end < len(lines) else "") + "".join(lines[end:])
    tmp = doc.with_suffix(f".md.tmp-{tmp_tag}")
    tmp.write_text(new, encoding="utf-8")
    os.replace(tmp, doc)


def replace_subsection(section: str, part: str, body: str, doc: Path = BENCHMARKS_MD) -> None:
    """Replace `### <part>` inside the `section` (`## …`) of `doc`, or add it at the section's end;
    the section is created when missing."""
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if section not in text:
        text = text.rstrip() + f"\n\n{section}\n"
    start = text.index(section)
    nxt = re.search(r"^## ", text[start + len(section) :], flags=re.M)
    end = start + len(section) + nxt.start() if nxt else len(text)
    block = f"### {part}\n{body.strip()}\n"
    pattern = re.compile(rf"^### {re.escape(part)}\n.*?(?=^### |\Z)", flags=re.S | re.M)
    current = text[start:end]
    current = (
        pattern.sub(lambda _: block + "\n", current)
        if pattern.search(current)
        else (current.rstrip() + "\n\n" + block + "\n")
    )
    doc.write_text(text[:start] + current.rstrip() + "\n\n" + text[end:].lstrip(), encoding="utf-8")
