"""docs/design/real-dom.md gives every selector constant its evidence or assumption, and nothing stale.

An entry is a table row whose first cell is the constant in backticks, or a heading naming it (with the
text under that heading). Only those first cells and headings are read for constant names, so production
names quoted as evidence (`PAGE_LOAD_INDICATORS`, …) are not taken for entries.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SELECTORS = ROOT / "src" / "stepbatch" / "sites" / "percenty" / "selectors.py"
DOC = ROOT / "docs" / "design" / "real-dom.md"

UPPER = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
BACKTICKED_UPPER = re.compile(rf"`({UPPER.pattern})`")
HEADING = re.compile(r"^#{1,6}\s")
BASIS = ("evidence:", "assumption:")


def selector_constants(source: str) -> set[str]:
    """Names of the module-level UPPER_CASE assignments in `source` (tuple targets included)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            elements = target.elts if isinstance(target, ast.Tuple) else [target]
            names |= {e.id for e in elements if isinstance(e, ast.Name) and UPPER.fullmatch(e.id)}
    return names


def _row_key(line: str) -> str | None:
    """The constant a table row is the entry of: its first cell, when that is one backticked name."""
    if not line.startswith("|"):
        return None
    first = line.strip("|").split("|", 1)[0].strip()
    match = BACKTICKED_UPPER.fullmatch(first)
    return match.group(1) if match else None


def _sections(lines: list[str]) -> list[tuple[str, str]]:
    """(heading, heading + the text under it up to the next heading) for each heading."""
    starts = [i for i, line in enumerate(lines) if HEADING.match(line)]
    ends = [*starts[1:], len(lines)]
    return [(lines[s], "\n".join(lines[s:e])) for s, e in zip(starts, ends, strict=True)]


def doc_entries(text: str) -> dict[str, str]:
    """Constant name → the text of its entry (all of its entries, if it has several)."""
    lines = text.splitlines()
    entries: dict[str, list[str]] = {}
    for line in lines:
        key = _row_key(line)
        if key:
            entries.setdefault(key, []).append(line)
    for heading, body in _sections(lines):
        for key in BACKTICKED_UPPER.findall(heading):
            entries.setdefault(key, []).append(body)
    return {key: "\n".join(parts) for key, parts in entries.items()}


def missing_entries(constants: set[str], entries: dict[str, str]) -> list[str]:
    return sorted(constants - entries.keys())


def entries_without_basis(entries: dict[str, str]) -> list[str]:
    return sorted(key for key, text in entries.items() if not any(word in text for word in BASIS))


def stale_entries(constants: set[str], entries: dict[str, str]) -> list[str]:
    return sorted(entries.keys() - constants)


# --- the real files ---
def test_every_selector_constant_has_an_entry() -> None:
    constants = selector_constants(SELECTORS.read_text(encoding="utf-8"))
    missing = missing_entries(constants, doc_entries(DOC.read_text(encoding="utf-8")))
    assert not missing, f"constants of selectors.py without an entry in real-dom.md: {missing}"


def test_every_entry_gives_evidence_or_an_assumption() -> None:
    lacking = entries_without_basis(doc_entries(DOC.read_text(encoding="utf-8")))
    assert not lacking, f"real-dom.md entries with neither 'evidence:' nor 'assumption:': {lacking}"


def test_no_entry_names_a_constant_that_is_gone() -> None:
    constants = selector_constants(SELECTORS.read_text(encoding="utf-8"))
    stale = stale_entries(constants, doc_entries(DOC.read_text(encoding="utf-8")))
    assert not stale, f"real-dom.md has entries for constants selectors.py no longer has: {stale}"


# --- the checks themselves ---
SAMPLE_SOURCE = """
A_SELECTOR = ".a"
NEXT_KEY, FIRST_KEY = "Tab", "Home"
TYPED: str = "x"
lower_name = "not a constant"
def helper():
    INSIDE = "not module level"
"""

SAMPLE_DOC = """
| constant | value | basis |
|---|---|---|
| `A_SELECTOR` | `.a` | evidence: [capture] seen, unlike `PRODUCTION_NAME` |
| `NEXT_KEY` | `Tab` | assumption: safe |
| `FIRST_KEY` | `Home` | nothing said |

### `TYPED`
The paragraph under the heading.
assumption: typed.

Prose naming `OTHER_TEXT` is no entry.
"""


def test_constants_are_module_level_upper_case_names() -> None:
    assert selector_constants(SAMPLE_SOURCE) == {"A_SELECTOR", "NEXT_KEY", "FIRST_KEY", "TYPED"}


def test_a_new_constant_without_an_entry_is_caught() -> None:
    source = SELECTORS.read_text(encoding="utf-8") + '\nDUMMY_SELECTOR = ".dummy"\n'
    entries = doc_entries(DOC.read_text(encoding="utf-8"))
    assert missing_entries(selector_constants(source), entries) == ["DUMMY_SELECTOR"]


def test_rows_and_headings_are_entries_other_text_is_not() -> None:
    entries = doc_entries(SAMPLE_DOC)
    assert set(entries) == {"A_SELECTOR", "NEXT_KEY", "FIRST_KEY", "TYPED"}
    assert "assumption: typed." in entries["TYPED"]


def test_an_entry_without_basis_is_caught() -> None:
    assert entries_without_basis(doc_entries(SAMPLE_DOC)) == ["FIRST_KEY"]


def test_an_entry_for_a_removed_constant_is_caught() -> None:
    constants = selector_constants(SAMPLE_SOURCE) - {"NEXT_KEY"}
    assert stale_entries(constants, doc_entries(SAMPLE_DOC)) == ["NEXT_KEY"]
