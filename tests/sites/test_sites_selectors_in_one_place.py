"""Every site selector lives in `selectors.py`: when the site changes its markup, one file changes."""

from __future__ import annotations

import re
from pathlib import Path

import stepbatch.sites.percenty as adapter

# Class-name prefixes of the libraries the site is built with (Ant Design, rc-*, CKEditor).
SITE_CLASS = re.compile(r"""["'.\s](ant|rc|ck)-[a-z]""")


def test_no_adapter_module_but_selectors_names_a_site_class():
    folder = Path(adapter.__file__).parent
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(folder.glob("*.py"))
        if path.name != "selectors.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SITE_CLASS.search(line)
    ]
    assert not offenders, "site class names outside selectors.py:\n" + "\n".join(offenders)
