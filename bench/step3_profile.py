"""Where a step3 product's wall time goes: the site, OCR, browser round trips, waits, commits, our code.

A step3 run (one account, headless Chromium) over the sample workbook's command mix on the simulator with
no added latency and `--translate-ms 0` (its pictures carry Chinese text or not, as seeded). Everything is
measured in this process, by wrapping (in this bench only) Playwright's sync API, the page objects, the
progress context and the OCR:

- site: the simulator's own time per request (`stepbatch.simulator.timing`), translation busy time included;
- OCR: `detect()` of the gate's detector;
- round trips: every outermost Playwright call that is not a wait (count and time, by page-object method);
- waits: `wait_for`, `wait_for_function`, `wait_for_url` and the answer of `expect_response` (by what);
- commits: the progress calls of the unit context (`item_started`, `item_checkpoint`, ...);
- adapter: a product's wall time outside all of these (our Python).

A product is the span from one `_next_item` to the next. `ours` = wall − the site's `/api/*` time − OCR
(picture requests are served while the page renders, alongside our calls). The script-call yardstick:
each user action (click, key press, fill, typed text) done as one `page.evaluate`, at the median time
of this run's own `page.evaluate` calls (same run, same load). The simulator runs as a subprocess
(as users run it; its time is its own), over a database seeded here.
`engine overhead` = the run's wall time outside the processor and outside browser start/stop, plus the
progress commits, over the wall time.

Usage: .venv/bin/python bench/step3_profile.py [--codes 5] [--per-code 4] [--doc] [--label TITLE]
           [--json OUT]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from playwright.sync_api import ElementHandle, JSHandle, Keyboard, Locator, Mouse, Page

from _stepbench import Sim, bench_workbook, run_step, table, write_section
from stepbatch.simulator.app import prepare_db
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.timing import TIMING_PATH, ServerTiming
from stepbatch.workbook import load_workbook

# The script click timed in the page (bench only): the time from the click's first event to the
# return of the page's handlers (its checks included, a few hundred microseconds).
TIMED_CLICK_JS = """els => {{
  const t0 = performance.now();
  try {{ return ({click})(els); }}
  finally {{ window.__sbPageMs = (window.__sbPageMs || 0) + performance.now() - t0; }}
}}"""
# The same timing around the click inside click-and-wait calls (`dom_wait.CLICK_JS`, patched here).
TIMED_ONE_CLICK_JS = """el => {{
  const t0 = performance.now();
  try {{ return ({click})(el); }}
  finally {{ window.__sbPageMs = (window.__sbPageMs || 0) + performance.now() - t0; }}
}}"""
# Our predicate's looks inside click-and-wait calls, timed in the page (its state kept: OPENED_JS counts).
TIMED_LOOK_JS = """(() => {{
  const test = ({predicate});
  return async (arg) => {{
    const t0 = performance.now();
    try {{ return await test(arg); }}
    finally {{ window.__sbLookMs = (window.__sbLookMs || 0) + performance.now() - t0; }}
  }};
}})()"""
# Since the last read (read and reset): the page's click handling, our looks, and the page's `/api/*`
# fetch/XHR calls as the page saw them (Resource Timing: the union of request start to response end).
TAKE_PAGE_MS_JS = """() => {
  const since = window.__sbSince || 0;
  performance.setResourceTimingBufferSize(100000);
  const spans = performance.getEntriesByType('resource')
    .filter(e => (e.initiatorType === 'fetch' || e.initiatorType === 'xmlhttprequest')
                 && e.startTime >= since && new URL(e.name).pathname.startsWith('/api/'))
    .map(e => [e.startTime, e.responseEnd]).sort((a, b) => a[0] - b[0]);
  let apiMs = 0, end = -1;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    apiMs += b - Math.max(a, end); end = b;
  }
  const out = {clickMs: window.__sbPageMs || 0, lookMs: window.__sbLookMs || 0, apiMs, calls: spans.length};
  window.__sbPageMs = 0; window.__sbLookMs = 0; window.__sbSince = performance.now();
  return out;
}"""
# Calls that click and then wait in the page (one round trip each; their time is waiting for the site).
COMBINED = {"PageHelper._click_until_once", "PageHelper._watch_answers", "ImageEditor.close"}
WAITS = {"wait_for", "wait_for_function", "wait_for_url", "wait_for_selector", "wait_for_load_state"}
ACTIONS = {"click", "press", "fill", "insert_text", "type", "check", "dblclick"}
PW_METHODS: dict[type, tuple[str, ...]] = {
    Page: ("evaluate", "wait_for_function", "wait_for_url", "goto", "screenshot", "content", "reload"),
    Locator: (
        "click",
        "fill",
        "press",
        "wait_for",
        "count",
        "is_visible",
        "get_attribute",
        "inner_text",
        "inner_html",
        "evaluate",
        "evaluate_all",
        "focus",
        "scroll_into_view_if_needed",
        "text_content",
    ),
    Keyboard: ("press", "insert_text", "type"),
    Mouse: ("click",),
    JSHandle: ("json_value",),
    ElementHandle: ("click",),
}

# Page-object methods, and the operation kind a call inside them counts as (the innermost kind wins).
KINDS: dict[str, str] = {
    "ProductEditor.open": "open drawer",
    "ProductEditor.close": "close drawer",
    "ProductEditor.switch_tab": "tab switch",
    "ProductEditor.open_bulk": "bulk drawer",
    "ProductEditor.close_bulk": "bulk drawer",
    "ProductEditor.delete_detail": "delete",
    "ProductEditor.delete_thumbnail": "delete",
    "ProductEditor.copy_option_to_thumbnail": "copy",
    "ProductEditor.images_in_editor": "translate images",
    "ProductEditor.insert_source": "HTML",
    "ProductEditor.detail_html": "HTML",
    "OpRunner.snapshot": "read counts",
    "OpRunner.measure": "read counts",
    "Step3Processor._move": "move",
    "Step3Processor._next_item": "next product",
}
KIND_ORDER = [
    "next product",
    "open drawer",
    "read counts",
    "tab switch",
    "bulk drawer",
    "delete",
    "copy",
    "translate images",
    "HTML",
    "close drawer",
    "move",
    "other",
]
COMMITS = ("item_started", "item_checkpoint", "item_note", "item_edited", "item_done", "item_failed")


@dataclass
class Tally:
    count: int = 0
    seconds: float = 0.0

    def add(self, seconds: float) -> None:
        self.count += 1
        self.seconds += seconds


@dataclass
class Product:
    started: float
    server0: float
    translate0: float
    api0: float
    wall: float = 0.0
    site: float = 0.0
    api: float = 0.0
    translate_busy: float = 0.0
    ocr: float = 0.0
    page_js: float = 0.0  # the page's own handling of our script clicks, timed in the page
    looks: float = 0.0  # our predicates' looks inside click-and-wait calls, timed in the page
    page_api: float = 0.0  # the page's `/api/*` calls as the page saw them (request start to response end)
    page_api_calls: int = 0
    busy: float = 0.0  # the renderer's main thread busy (CDP TaskDuration): the page's work and our scripts'
    commits: float = 0.0
    rt: Tally = field(default_factory=Tally)
    waits: Tally = field(default_factory=Tally)
    actions: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0, 0, 0.0]))

    @property
    def adapter(self) -> float:
        return self.wall - self.ocr - self.commits - self.rt.seconds - self.waits.seconds

    @property
    def ours(self) -> float:
        # the site's own time is its `/api/*` answers (translation busy time included) and its scripts'
        # handling of our clicks; the picture requests are served while the page renders, alongside our
        # calls, so they block nothing
        return self.wall - self.api - self.ocr - self.page_js

    @property
    def page_work(self) -> float:
        # the page's own main-thread work outside its click handling (rendering what its `/api/*` answers
        # bring, layout, paint): its busy time less everything that could be ours in it, counted high (our
        # looks, and the whole time of every other round trip, as if all of it ran in the page)
        return max(0.0, self.busy - self.looks - self.page_js - self.rt.seconds)


class Profiler:
    """Collects the timings; `install()` wraps the classes (this process only, until `uninstall()`)."""

    def __init__(self, timing: Callable[[], ServerTiming]) -> None:
        self.read_timing = timing
        self.evaluates: list[float] = []  # every outermost page.evaluate: the one-script-call yardstick
        self.stack: list[str] = []  # page-object methods being run
        self.depth = 0  # Playwright calls being run (only the outermost counts)
        self.products: list[Product] = []
        self.current: Product | None = None
        self.first_lookup = True
        self.rt_by_method: dict[str, Tally] = defaultdict(Tally)
        self.wait_by_what: dict[str, Tally] = defaultdict(Tally)
        self.in_processor = 0.0
        self.in_browser = 0.0
        self.commits = 0.0
        self.commit_kinds: dict[str, tuple[int, float]] = {}  # progress call → (calls, ms) in the run
        self.page: Page | None = None  # the session's page, for reading the in-page click time
        self.raw_evaluate: Callable[..., Any] | None = None
        self._cdp: tuple[int, Any] | None = None  # (id of the page, its CDP session)
        self._busy_seen = 0.0
        self._undo: list[tuple[object, str, object]] = []

    # --- products ---
    def boundary(self) -> None:
        now = time.perf_counter()
        timing = self.read_timing()
        page = self.take_page_ms()
        if self.current is not None:
            p = self.current
            p.wall = now - p.started
            p.site = timing.server_s - p.server0
            p.translate_busy = timing.translate_s - p.translate0
            p.api = timing.api_s - p.api0
            p.page_js = page.get("clickMs", 0.0) / 1000
            p.looks = page.get("lookMs", 0.0) / 1000
            p.page_api = page.get("apiMs", 0.0) / 1000
            p.page_api_calls = int(page.get("calls", 0))
            p.busy = self.take_busy()
            self.products.append(p)
        else:
            self.take_busy()
        self.current = Product(time.perf_counter(), timing.server_s, timing.translate_s, timing.api_s)

    def take_page_ms(self) -> dict[str, float]:
        """The page's click-handling time, our in-page looks and the page's `/api/*` time since the last
        read (read and reset, outside the accounting)."""
        if self.page is None or self.raw_evaluate is None:
            return {}
        try:
            return dict(self.raw_evaluate(self.page, TAKE_PAGE_MS_JS) or {})
        except Exception:  # the page went away (a browser restart): its clicks are lost to the tally
            return {}

    def take_busy(self) -> float:
        """Seconds the page's renderer main thread ran tasks since the last read (CDP `Performance`
        metrics; a new page after a browser restart starts its own count)."""
        if self.page is None:
            return 0.0
        try:
            if self._cdp is None or self._cdp[0] != id(self.page):
                session = self.page.context.new_cdp_session(self.page)
                session.send("Performance.enable")
                self._cdp, self._busy_seen = (id(self.page), session), 0.0
            metrics = self._cdp[1].send("Performance.getMetrics")["metrics"]
        except Exception:  # the page went away: its busy time is lost to the tally
            self._cdp = None
            return 0.0
        total = next((m["value"] for m in metrics if m["name"] == "TaskDuration"), 0.0)
        spent, self._busy_seen = max(0.0, total - self._busy_seen), total
        return spent

    def end_unit(self) -> None:
        """A unit's last `_next_item` found nothing: that lookup is the last product's."""
        if self.current is not None and not self.first_lookup:
            self.boundary()
        self.current = None

    # --- attribution ---
    def kind(self) -> str:
        for name in reversed(self.stack):
            if name in KINDS:
                return KINDS[name]
        return "other"

    def method(self) -> str:
        return self.stack[-1] if self.stack else "(processor)"

    def record_call(self, cls: str, name: str, seconds: float) -> None:
        p = self.current
        combined = self.method() in COMBINED and name in ("evaluate", "evaluate_all")
        # an in-page poll is a wait; so is a click-and-wait call's time (one round trip, counted below)
        is_wait = name in WAITS or self.method() == "PageHelper.wait_js" or combined
        where = f"{self.method()} → {cls}.{name}"
        (self.wait_by_what if is_wait else self.rt_by_method)[where].add(seconds)
        if cls == "Page" and name == "evaluate" and not is_wait:
            self.evaluates.append(seconds)
        if p is None:
            return
        (p.waits if is_wait else p.rt).add(seconds)
        if combined:
            p.rt.count += 1
        if name in ACTIONS or self.method() == "PageHelper._script_click" or combined:  # a click as a script
            p.actions += 1
        k = p.by_kind[self.kind()]
        if is_wait:
            k[2] += 1
            k[3] += seconds
        else:
            k[0] += 1
            k[1] += seconds

    # --- wrapping ---
    def _patch(self, owner: object, name: str, make: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        self._undo.append((owner, name, original))
        setattr(owner, name, make(original))

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._undo):
            if name == "cache_clear":
                owner.cache_clear()  # type: ignore[attr-defined]
            else:
                setattr(owner, name, original)
        self._undo.clear()

    def install(self) -> None:
        from stepbatch.sites.percenty import base, dom_click, dom_wait

        self.raw_evaluate = Page.evaluate
        if hasattr(dom_click, "_CLICK_ONE_JS"):  # an older adapter (a before/after run) has no such call
            self._patch(dom_click, "_CLICK_ONE_JS", lambda js: TIMED_CLICK_JS.format(click=js))
        if hasattr(dom_wait, "click_until_script"):
            dom_wait.click_until_script.cache_clear()
            self._undo.append((dom_wait.click_until_script, "cache_clear", None))
            self._patch(dom_wait, "CLICK_JS", lambda js: TIMED_ONE_CLICK_JS.format(click=js))
            self._patch(base, "click_until_script", lambda f: _timed_looks(f))
        for cls, names in PW_METHODS.items():
            for name in names:
                self._patch(cls, name, lambda f, c=cls.__name__, n=name: self._pw(f, c, n))
        self._patch(Page, "expect_response", lambda f: self._expect(f))
        self._install_page_objects()
        self._install_engine()

    def _pw(self, f: Callable, cls: str, name: str) -> Callable:
        prof = self

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if prof.depth:
                return f(*args, **kwargs)
            if args and isinstance(args[0], Page | Locator):
                prof.page = args[0] if isinstance(args[0], Page) else args[0].page
            prof.depth += 1
            t0 = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                prof.depth -= 1
                prof.record_call(cls, name, time.perf_counter() - t0)

        return wrapper

    def _expect(self, f: Callable) -> Callable:
        prof = self

        @functools.wraps(f)
        @contextmanager
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            cm = f(*args, **kwargs)
            info = cm.__enter__()
            try:
                yield info
            except BaseException:
                if not cm.__exit__(*sys.exc_info()):
                    raise
                return
            t0 = time.perf_counter()
            prof.depth += 1
            try:
                cm.__exit__(None, None, None)
            finally:
                prof.depth -= 1
                prof.record_call("Page", "wait_for(response)", time.perf_counter() - t0)

        return wrapper

    def _method(self, f: Callable, label: str) -> Callable:
        prof = self

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prof.stack.append(label)
            try:
                return f(*args, **kwargs)
            finally:
                prof.stack.pop()

        return wrapper

    def _context_method(self, f: Callable, label: str) -> Callable:
        prof = self

        @functools.wraps(f)
        @contextmanager
        def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
            prof.stack.append(label)
            depth = len(prof.stack)
            try:
                with f(*args, **kwargs) as value:
                    yield value
            finally:
                del prof.stack[depth - 1 :]

        return wrapper

    def _install_page_objects(self) -> None:
        from stepbatch.sites.percenty import (
            base,
            editor,
            group_modal,
            image_editor,
            ops,
            product_list,
            site,
            step3,
            translation,
        )

        classes = [
            base.PageHelper,
            editor.ProductEditor,
            image_editor.ImageEditor,
            product_list.ProductList,
            group_modal.GroupModal,
            site.PercentySite,
            ops.OpRunner,
            step3.Step3Processor,
        ]
        for cls in classes:
            for name, value in list(vars(cls).items()):
                if not callable(value) or isinstance(value, (staticmethod, classmethod, type)):
                    continue
                if name.startswith("__") or (
                    name in ("process", "open", "with_relogin") and cls is site.PercentySite
                ):
                    continue
                label = f"{cls.__name__}.{name}"
                if label == "ProductEditor.images_in_editor":
                    self._patch(cls, name, lambda f, lb=label: self._context_method(f, lb))
                elif cls is step3.Step3Processor and name in ("process", "open", "capture_failure"):
                    self._patch(cls, name, lambda f: self._processor_call(f))
                elif label == "Step3Processor._next_item":
                    self._patch(cls, name, lambda f, lb=label: self._next_item(f, lb))
                else:
                    self._patch(cls, name, lambda f, lb=label: self._method(f, lb))
        self._patch(translation.TranslationGate, "detector", lambda f: self._detector(f))

    def _next_item(self, f: Callable, label: str) -> Callable:
        """A product spans from the lookup that found it to the lookup after it (that one included)."""
        prof = self

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            prof.stack.append(label)
            try:
                found = f(*args, **kwargs)
            finally:
                prof.stack.pop()
            if found is None:
                prof.end_unit()
            elif prof.first_lookup:
                prof.first_lookup = False
            else:
                prof.boundary()
            return found

        return wrapper

    def _processor_call(self, f: Callable) -> Callable:
        prof = self

        @functools.wraps(f)
        def wrapper(self_: Any, *args: Any, **kwargs: Any) -> Any:
            if f.__name__ == "process" and len(args) == 2:
                args = (args[0], _TimedContext(args[1], prof))
            if f.__name__ == "process":
                prof.boundary()
                prof.first_lookup = True
            t0 = time.perf_counter()
            try:
                return f(self_, *args, **kwargs)
            finally:
                prof.in_processor += time.perf_counter() - t0
                if f.__name__ == "process" and prof.current is not None:
                    prof.end_unit()  # an interrupted unit: its open product ends here

        return wrapper

    def _detector(self, f: Callable) -> Callable:
        prof = self

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            detector = f(*args, **kwargs)
            return None if detector is None else _TimedDetector(detector, prof)

        return wrapper

    def _install_engine(self) -> None:
        from stepbatch.engine.browser_life import BrowserLife

        for name in ("_start", "close"):
            self._patch(BrowserLife, name, lambda f: self._browser(f))

    def _browser(self, f: Callable) -> Callable:
        prof = self

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                prof.in_browser += time.perf_counter() - t0

        return wrapper


def _timed_looks(click_until_script: Callable[..., str]) -> Callable[..., str]:
    """`click_until_script` with its predicate's looks timed in the page."""

    @functools.wraps(click_until_script)
    def wrapper(predicate: str, *args: Any, **kwargs: Any) -> str:
        return click_until_script(TIMED_LOOK_JS.format(predicate=predicate), *args, **kwargs)

    return wrapper


class _TimedContext:
    """The engine's unit context with its progress calls timed."""

    def __init__(self, inner: Any, prof: Profiler) -> None:
        self._inner, self._prof = inner, prof

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in COMMITS:
            return value
        prof = self._prof

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                spent = time.perf_counter() - t0
                prof.commits += spent
                n, ms = prof.commit_kinds.get(name, (0, 0.0))
                prof.commit_kinds[name] = (n + 1, ms + spent * 1000)
                if prof.current is not None:
                    prof.current.commits += spent

        return timed


class _TimedDetector:
    def __init__(self, inner: Any, prof: Profiler) -> None:
        self._inner, self._prof = inner, prof
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def detect(self, picture: bytes) -> Any:
        t0 = time.perf_counter()
        try:
            return self._inner.detect(picture)
        finally:
            if self._prof.current is not None:
                self._prof.current.ocr += time.perf_counter() - t0


def remote_timing(url: str) -> Callable[[], ServerTiming]:
    """The simulator's totals, read from its `/__timing` (a subprocess simulator: its own CPU time)."""

    def read() -> ServerTiming:
        with urllib.request.urlopen(url + TIMING_PATH, timeout=10) as answer:
            return ServerTiming(**json.loads(answer.read()))

    return read


# --- report ---
def med(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def report(prof: Profiler, summary: dict, yardstick_ms: float, args: argparse.Namespace) -> tuple[str, dict]:
    ps = [p for p in prof.products if p.wall > 0]
    per = {
        "wall": med([p.wall for p in ps]),
        "site": med([p.site for p in ps]),
        "api": med([p.api for p in ps]),
        "translate_busy": med([p.translate_busy for p in ps]),
        "ocr": med([p.ocr for p in ps]),
        "rt_count": med([p.rt.count for p in ps]),
        "rt_s": med([p.rt.seconds for p in ps]),
        "wait_count": med([p.waits.count for p in ps]),
        "wait_s": med([p.waits.seconds for p in ps]),
        "commits": med([p.commits for p in ps]),
        "adapter": med([p.adapter for p in ps]),
        "ours": med([p.ours for p in ps]),
        "ours_before": med([p.ours + p.page_js for p in ps]),
        "page_js": med([p.page_js for p in ps]),
        "looks": med([p.looks for p in ps]),
        "busy": med([p.busy for p in ps]),
        "page_work": med([p.page_work for p in ps]),
        "ours_less_render": med([p.ours - p.page_work for p in ps]),
        "page_api": med([p.page_api for p in ps]),
        "page_api_calls": med([p.page_api_calls for p in ps]),
        "actions": med([p.actions for p in ps]),
    }
    per["script_equiv"] = per["actions"] * yardstick_ms / 1000
    wall = summary["wall_s"]
    outside = wall - prof.in_processor - prof.in_browser
    overhead = (outside + prof.commits) / wall * 100 if wall else 0.0
    ours_site = per["ours"] / per["api"] if per["api"] else float("inf")
    kind_rows = []
    n = len(ps) or 1
    for kind in KIND_ORDER:
        vals = [p.by_kind[kind] for p in ps if kind in p.by_kind]
        if not vals:
            continue
        calls = sum(v[0] for v in vals) / n
        secs = sum(v[1] for v in vals) / n
        waits = sum(v[2] for v in vals) / n
        wsecs = sum(v[3] for v in vals) / n
        kind_rows.append(
            [
                kind,
                f"{calls:.1f}",
                f"{secs * 1000:.0f}",
                f"{waits:.1f}",
                f"{wsecs * 1000:.0f}",
                f"{(secs + wsecs) * 1000:.0f}",
            ]
        )
    top_rt = sorted(prof.rt_by_method.items(), key=lambda kv: -kv[1].seconds)[: args.top]
    top_wait = sorted(prof.wait_by_what.items(), key=lambda kv: -kv[1].seconds)[: args.top]
    rt_rows = [
        [k, v.count, f"{v.seconds / n * 1000:.0f}", f"{v.seconds / v.count * 1000:.0f}"] for k, v in top_rt
    ]
    wait_rows = [
        [k, v.count, f"{v.seconds / n * 1000:.0f}", f"{v.seconds / v.count * 1000:.0f}"] for k, v in top_wait
    ]
    medians = table(
        ["per product (median)", "value"],
        [
            ["wall", f"{per['wall'] * 1000:.0f} ms"],
            ["site (simulator's own time, all requests)", f"{per['site'] * 1000:.0f} ms"],
            ["… of which `/api/*` calls", f"{per['api'] * 1000:.0f} ms"],
            [
                "the page's `/api/*` calls as the page saw them (request start to response end)",
                f"{per['page_api_calls']:.0f} calls, {per['page_api'] * 1000:.0f} ms",
            ],
            ["OCR", f"{per['ocr'] * 1000:.0f} ms"],
            ["round trips", f"{per['rt_count']:.0f} calls, {per['rt_s'] * 1000:.0f} ms"],
            [
                "waits for a condition (in-page polls, and the click-and-wait calls' time)",
                f"{per['wait_count']:.0f}, {per['wait_s'] * 1000:.0f} ms",
            ],
            ["… our predicates' looks inside click-and-wait calls", f"{per['looks'] * 1000:.0f} ms"],
            ["progress commits", f"{per['commits'] * 1000:.0f} ms"],
            ["the renderer's main thread busy (CDP `TaskDuration`)", f"{per['busy'] * 1000:.0f} ms"],
            [
                "… the page's own work in it (less our looks, its click handling and all our round trips)",
                f"{per['page_work'] * 1000:.0f} ms",
            ],
            ["adapter (our Python outside all of these)", f"{per['adapter'] * 1000:.0f} ms"],
            [
                "site: the page's own handling of our clicks (timed in the page)",
                f"{per['page_js'] * 1000:.0f} ms",
            ],
            ["wall − site `/api/*` − OCR (the earlier `ours`)", f"{per['ours_before'] * 1000:.0f} ms"],
            [
                "**ours** (wall − site `/api/*` − the page's click handling − OCR)",
                f"**{per['ours'] * 1000:.0f} ms**",
            ],
            [
                "ours less the page's own rendering work (the site's too, on the real site)",
                f"{per['ours_less_render'] * 1000:.0f} ms",
            ],
            [
                "user actions → as single script calls",
                f"{per['actions']:.0f} × {yardstick_ms:.1f} ms = {per['script_equiv'] * 1000:.0f} ms",
            ],
        ],
    )
    kinds = table(
        ["operation (mean per product)", "round trips", "ms", "waits", "wait ms", "total ms"], kind_rows
    )
    rts = table(["page-object method → Playwright call", "calls", "ms/product", "ms/call"], rt_rows)
    waits = table(["page-object method → wait", "waits", "ms/product", "ms/wait"], wait_rows)
    commit_kinds = ", ".join(
        f"{name} {calls} × {ms / calls:.1f} ms" for name, (calls, ms) in sorted(prof.commit_kinds.items())
    )
    ratio = per["ours"] / per["script_equiv"] if per["script_equiv"] else float("inf")
    line = (
        f"ours/site {ours_site:.1f}; ours {per['ours'] * 1000:.0f} ms"
        f" = {ratio:.1f}× the script-call yardstick;"
        f" engine overhead {overhead:.1f} % of wall time"
    )
    body = f"""Command: `{args.command}`

Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; load average
{os.getloadavg()[0]:.1f} at the end (shared with other test runs: absolute times are noisy, ratios less so).
{len(ps)} products ({summary["items_done"]} done, verification: {summary["verified"]}), run wall
{wall:.1f} s, of which browser start/stop {prof.in_browser:.1f} s, in the processor {prof.in_processor:.1f} s,
progress commits {prof.commits:.2f} s ({commit_kinds or "none"}), outside the processor and the browser
{outside:.2f} s (the run's start and end).

{medians}

{kinds}

Costliest round trips:

{rts}

Costliest waits:

{waits}

**{line}**
"""
    data = {
        "per_product": per,
        "ours_site": ours_site,
        "overhead_pct": overhead,
        "ratio": ratio,
        "wall": wall,
    }
    return body, data


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--codes", type=int, default=5)
    ap.add_argument("--per-code", type=int, default=4)
    ap.add_argument("--translate-ms", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--top", type=int, default=12)
    ap.add_argument("--doc", action="store_true", help="write the result into docs/benchmarks.md")
    ap.add_argument("--label", default="Step3 profile", help="the docs section's title")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args()
    args.command = "python bench/step3_profile.py " + " ".join(sys.argv[1:])
    faults = Faults(translate_ms=args.translate_ms, latency_ms=args.latency_ms)
    with tempfile.TemporaryDirectory(prefix="stepbatch-profile-") as tmp_name:
        folder = Path(tmp_name)
        workbook = bench_workbook(folder, args.codes, ops=None)
        book = load_workbook(workbook)
        codes = {u.provider_code for a in book.accounts for u in book.units(a, "step3")}
        prepare_db(folder / "sim.db", workbook, 1, faults, None, dict.fromkeys(codes, args.per_code))
        with SimulatorServer(folder / "sim.db", workbook, faults=faults, mode="subprocess") as server:
            sim = Sim(server.url, server.db_path, workbook, book)
            prof = Profiler(remote_timing(server.url))
            prof.install()
            try:
                summary = run_step(sim, "step3", folder / "state", batch_size=5)
            finally:
                prof.uninstall()
    yardstick = statistics.median(prof.evaluates) * 1000 if prof.evaluates else float("nan")
    body, data = report(prof, summary, yardstick, args)
    print(body)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2), encoding="utf-8")
    if args.doc:
        write_section(args.label, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
