"""Build the zero-argument browser factory the engine calls once per batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from stepbatch.browser.playwright_session import DEFAULT_VIEWPORT
from stepbatch.browser.protocol import BrowserSession
from stepbatch.errors import UserError

KINDS = ("playwright", "selenium")


@dataclass(frozen=True)
class BrowserOptions:
    kind: str = "playwright"  # "playwright" | "selenium"
    headless: bool = True
    chrome_binary: Path | None = None  # overrides Debian's chromium / the installed Chrome
    offline: bool = False  # resolve only 127.0.0.1/localhost (tests, simulator runs)
    state_dir: Path | None = None  # with `account`: record the process tree for orphan cleanup
    account: str | None = None
    viewport: tuple[int, int] = DEFAULT_VIEWPORT

    def validate(self) -> None:
        if self.kind not in KINDS:
            raise UserError(f"--browser: unknown kind {self.kind!r} (choose {' or '.join(KINDS)})")
        if self.chrome_binary is not None and not Path(self.chrome_binary).expanduser().is_file():
            raise UserError(f"--chrome-binary: no browser at {Path(self.chrome_binary).expanduser()}")


def browser_factory(
    options: BrowserOptions | str | None = None, **overrides: Any
) -> Callable[[], BrowserSession]:
    """`browser_factory(BrowserOptions(...))` or `browser_factory("selenium", headless=False, ...)`.

    Options are checked now, so a bad binary path fails before any work starts.
    """
    if isinstance(options, str):
        options = BrowserOptions(kind=options)
    options = replace(options or BrowserOptions(), **overrides)
    options.validate()

    def start() -> BrowserSession:
        return start_session(options)

    return start


def start_session(options: BrowserOptions) -> BrowserSession:
    kwargs: dict[str, Any] = {
        "headless": options.headless,
        "chrome_binary": options.chrome_binary,
        "offline": options.offline,
        "state_dir": options.state_dir,
        "account": options.account,
        "viewport": options.viewport,
    }
    if options.kind == "selenium":
        from stepbatch.browser.selenium_session import SeleniumSession

        return SeleniumSession(**kwargs)
    from stepbatch.browser.playwright_session import PlaywrightSession

    return PlaywrightSession(**kwargs)
