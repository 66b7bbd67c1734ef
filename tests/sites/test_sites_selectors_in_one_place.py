"""Every site selector and site text lives in `selectors.py`: when the site changes, one file changes."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import stepbatch.sites.percenty as adapter

# Class-name prefixes of the libraries the site is built with (Ant Design, rc-*, CKEditor).
SITE_CLASS = re.compile(r"""["'.\s](ant|rc|ck)-[a-z]""")
HANGUL = re.compile("[\uac00-\ud7a3]")
PAGE_SCRIPT = re.compile(r"=>|document\.|querySelector")


def adapter_modules() -> list[Path]:
    folder = Path(adapter.__file__).parent
    return [path for path in sorted(folder.glob("*.py")) if path.name != "selectors.py"]


def test_no_adapter_module_but_selectors_names_a_site_class():
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in adapter_modules()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SITE_CLASS.search(line)
    ]
    assert not offenders, "site class names outside selectors.py:\n" + "\n".join(offenders)


def test_no_page_script_outside_selectors_spells_out_a_site_text():
    """Korean text in log lines and docstrings is fine; in JS run on the page it is a selector."""
    offenders = []
    for path in adapter_modules():
        source = path.read_text(encoding="utf-8")
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            text = token.string
            if token.type == tokenize.STRING and PAGE_SCRIPT.search(text) and HANGUL.search(text):
                offenders.append(f"{path.name}:{token.start[0]}: {token.string.splitlines()[0][:80]}")
    assert not offenders, "site texts in page scripts outside selectors.py:\n" + "\n".join(offenders)
