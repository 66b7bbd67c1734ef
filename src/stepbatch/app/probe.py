"""`stepbatch probe`: the read-only check of the real site's screens, run once before trusting a run.

Resolves the workbook, account, server, URL and browser as `stepbatch run` does, lets the site's `Probe`
walk the screens, saves its rows to `probe.json` (next to the screenshots and sanitized HTML) and prints
them as a table with a one-line verdict.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from stepbatch.app.run import (
    DEFAULT_BASE_URL,
    check_browser,
    is_local,
    probe_base_url,
    read_workbook,
    select_units,
)
from stepbatch.errors import EXIT_OK, EXIT_PROBLEMS, UserError

if TYPE_CHECKING:
    from stepbatch.sites.percenty.probe import LocatorCheck

DEFAULT_OUT_DIR = Path("stepbatch-probe")
PROBE_STEP = "step3"  # the probe walks the screens step3 uses (step2's are a subset)
TABLE_WIDTH = 140


@dataclass
class ProbeRequest:
    workbook: Path
    account: str | None
    server: str | None = None
    base_url: str = DEFAULT_BASE_URL
    headed: bool = False
    out: Path | None = None  # default: ./stepbatch-probe/<timestamp>/
    chrome_binary: Path | None = None


def out_folder(out: Path | None) -> Path:
    """`out` as given, or a new `./stepbatch-probe/<timestamp>/` (never one that holds an earlier probe)."""
    if out is not None:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {folder}: exists and is not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = DEFAULT_OUT_DIR / stamp, 1
    while folder.exists():
        n += 1
        folder = DEFAULT_OUT_DIR / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    return folder


def run_probe(req: ProbeRequest, *, out: TextIO | None = None) -> int:
    """Check the arguments, probe the site, save and print the rows; 0 only when every row is `found`."""
    from stepbatch.browser.factory import BrowserOptions, start_session
    from stepbatch.sites.percenty.probe import Probe

    out = out or sys.stdout
    book = read_workbook(req.workbook)
    if not req.account:
        raise UserError("--account is required (login email, sheet nickname or account_N)")
    account = book.account(req.account)
    units = select_units(book, account, PROBE_STEP, req.server)
    codes = list(dict.fromkeys(u.provider_code for u in units))
    if not codes:
        where = f" for server {req.server}" if req.server else ""
        raise UserError(f"{account.nickname}: no {PROBE_STEP} rows{where}; the probe searches their codes")
    check_browser("playwright", req.chrome_binary)
    probe_base_url(req.base_url)
    folder = out_folder(req.out)
    out.write(f"probing {req.base_url} as {account.nickname}; artifacts in {folder}\n")
    out.flush()
    probe = Probe(req.base_url, folder)
    session = start_session(
        BrowserOptions(
            kind="playwright",
            headless=not req.headed,
            chrome_binary=req.chrome_binary,
            offline=is_local(req.base_url),
        )
    )
    try:
        checks = probe.run(session, account, codes)
    finally:
        session.close()
    report = {
        "base_url": req.base_url,
        "account": account.nickname,
        "code": probe.code,
        "ok": all(c.ok for c in checks),
        "checks": [c.to_dict() for c in checks],
    }
    text = json.dumps(report, ensure_ascii=False, indent=2)
    (folder / "probe.json").write_text(probe.scrub.text(text) + "\n", encoding="utf-8")
    out.write(format_table(checks) + "\n")
    out.write(f"  screenshots, sanitized HTML and probe.json: {folder}\n")
    out.write(verdict(checks) + "\n")
    return EXIT_OK if checks and all(c.ok for c in checks) else EXIT_PROBLEMS


def format_table(checks: list[LocatorCheck]) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="stepbatch probe")
    for column in ("screen", "locator", "expected", "count", "status", "note"):
        table.add_column(column, overflow="fold")
    for c in checks:
        count = "-" if c.count is None else str(c.count)
        cells = (c.screen, c.name, c.expected, count, c.status, c.note)
        table.add_row(*(Text(str(v)) for v in cells), style=None if c.ok else "bold")
    buffer = StringIO()
    Console(file=buffer, width=TABLE_WIDTH, force_terminal=False).print(table)
    return buffer.getvalue().rstrip()


def verdict(checks: list[LocatorCheck]) -> str:
    """`probe: N locators, all found` or `probe: K of N locators missing or ambiguous: NAME, NAME`."""
    bad = [c for c in checks if not c.ok]
    if checks and not bad:
        return f"probe: {len(checks)} locators, all found"
    names = ", ".join(dict.fromkeys(c.name for c in bad)) or "nothing was checked"
    return f"probe: {len(bad)} of {len(checks)} locators missing or ambiguous: {names}"
