"""The operator guides exist twice: inside the README and as docs/operators.{en,ko}.md. The README is the
source; this test keeps the copies equal. After editing the README, refresh them with
`.venv/bin/python tests/docs/test_docs_operator_guides.py --write`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GUIDES = {"en": "## stepbatch — operator guide", "ko": "## stepbatch 운영 가이드"}
README_ONLY = "(The same guides as separate files:"
LINK_FROM_ROOT = re.compile(r"\]\((?:\./)?docs/")  # a README link into docs/; the guide file lives there


def guide_from_readme(lang: str) -> str:
    """The README section, with its headings one level up (the file's title is `#`) and its links into
    docs/ made relative to docs/."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(GUIDES[lang])
    out: list[str] = []
    in_code = False
    for line in lines[start:]:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("## ") and out:
            break  # the next top-level README section
        if not in_code and line.startswith("##"):
            line = line[1:]
        if not line.startswith(README_ONLY):
            out.append(line if in_code else LINK_FROM_ROOT.sub("](", line))
    return "\n".join(out).rstrip() + "\n"


def guide_file(lang: str) -> Path:
    return ROOT / "docs" / f"operators.{lang}.md"


@pytest.mark.parametrize("lang", sorted(GUIDES))
def test_the_guide_file_matches_the_readme(lang: str):
    expected = guide_from_readme(lang)
    assert expected.count("\n") > 100, "the README section was not found whole"
    actual = guide_file(lang).read_text(encoding="utf-8")
    fix = f"python {Path(__file__).relative_to(ROOT)} --write"
    assert actual == expected, f"{guide_file(lang).name} differs from the README; run: {fix}"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    for lang in GUIDES:
        guide_file(lang).write_text(guide_from_readme(lang), encoding="utf-8", newline="\n")
        print(f"wrote {guide_file(lang)}")
