"""The OCR translation gate: does each OCR engine tell Chinese-text pictures from the others?

Generates a labelled set with stepbatch.simulator.textimages (balanced zh/ko/en/none × small/large text ×
plain/busy background), reads every picture with each available engine once, and scores the real tool's
rule (a block with confidence >= 0.3 holding a Han character) and the rule stepbatch uses on the same
reads. Prints precision/recall of "has Chinese text", false positives by kind, OCR ms per picture, model
load time and the installed size each engine adds. `--write-doc` replaces the
`## OCR gate (bench/ocr_gate.py)` section of docs/benchmarks.md (other sections untouched).

Usage: .venv/bin/python bench/ocr_gate.py [--images 320] [--engines rapidocr,tesseract] [--write-doc]
"""

from __future__ import annotations

import argparse
import importlib.metadata as metadata
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

from _docs import BENCHMARKS_MD, replace_section
from stepbatch.simulator.textimages import LARGE_TEXT, SMALL_TEXT, TEXT_KINDS, PictureSpec, cached_png
from stepbatch.vision import chinese_text as ct

ROOT = Path(__file__).resolve().parent.parent
DOC = BENCHMARKS_MD
SECTION = "## OCR gate (bench/ocr_gate.py)"
MEDIUM_TEXT = 0.05  # text height / side splitting "small" from "large"
RULES = {
    "real tool's rule": ct.REAL_TOOL_RULE,
    "2 Han, confidence >= 0.3": ct.Rule(min_confidence=0.3, min_han=2),
    "stepbatch rule": ct.DEFAULT_RULE,
}
TARGET_RECALL, TARGET_PRECISION = 0.98, 0.95


@dataclass(frozen=True)
class Item:
    spec: PictureSpec
    large: bool

    @property
    def label(self) -> str:
        busy = "busy" if self.spec.busy else "plain"
        return f"{self.spec.text}/{'large' if self.large else 'small'}/{busy}"


@dataclass
class EngineRun:
    engine: str
    load_s: float
    reads: list[list[ct.TextBlock]]
    ms: list[float]
    cpu_ms: list[float]  # this process and its children (tesseract runs as a child)


def labelled_set(count: int, prefix: str = "gate") -> list[Item]:
    """`count` pictures (rounded up to a multiple of 16), cycling over kind × text size × background."""
    cells = [(kind, large, busy) for kind in TEXT_KINDS for large in (False, True) for busy in (False, True)]
    items = []
    for i in range(math.ceil(count / len(cells)) * len(cells)):
        kind, large, busy = cells[i % len(cells)]
        low, high = (MEDIUM_TEXT, LARGE_TEXT) if large else (SMALL_TEXT, MEDIUM_TEXT)
        scale = math.exp(random.Random(f"scale/{i}").uniform(math.log(low), math.log(high)))
        items.append(Item(PictureSpec(f"{prefix}-{i}", kind, text_scale=round(scale, 4), busy=busy), large))
    return items


def measure(engine: str, images: list[bytes]) -> EngineRun:
    detector = _detector_class(engine)()
    load_s = detector.load()
    reads, ms, cpu_ms = [], [], []
    for n, image in enumerate(images, 1):
        started, cpu = time.perf_counter(), _cpu_s()
        reads.append(detector.read(image))
        ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((_cpu_s() - cpu) * 1000)
        if n % 40 == 0:
            print(
                f"  {engine}: {n}/{len(images)} pictures, median {statistics.median(ms):.0f} ms", flush=True
            )
    return EngineRun(engine, load_s, reads, ms, cpu_ms)


def _detector_class(engine: str) -> type[ct.RapidOcrDetector] | type[ct.TesseractDetector]:
    return {"rapidocr": ct.RapidOcrDetector, "tesseract": ct.TesseractDetector}[engine]


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@dataclass
class Scores:
    precision: float
    recall: float
    false_pos: dict[str, int]
    misses: list[str]  # labels and reads of the Chinese pictures it missed
    wrong: list[str]  # labels and reads of the false positives


def score(items: list[Item], run: EngineRun, rule: ct.Rule) -> Scores:
    tp = fp = fn = 0
    false_pos = dict.fromkeys(("ko", "en", "none"), 0)
    misses, wrong = [], []
    for item, blocks in zip(items, run.reads, strict=True):
        said, _ = ct.decide(blocks, rule)
        shown = "; ".join(f"{b.text}@{b.confidence:.2f}" for b in blocks)[:120]
        if item.spec.text == "zh":
            tp, fn = tp + said, fn + (not said)
            if not said:
                misses.append(f"{item.spec.seed} {item.label}: [{shown}]")
        elif said:
            fp += 1
            false_pos[item.spec.text] += 1
            wrong.append(f"{item.spec.seed} {item.label}: [{shown}]")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    return Scores(precision, tp / (tp + fn) if tp + fn else float("nan"), false_pos, misses, wrong)


# --------------------------------------------------------------------------------------- install size


def _closure(names: list[str]) -> set[str]:
    """The installed distributions `names` need, recursively (extras and markers not for us skipped)."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        req = Requirement(todo.pop())
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        if key in seen or (req.marker and not req.marker.evaluate({"extra": ""})):
            continue
        try:
            dist = metadata.distribution(key)
        except metadata.PackageNotFoundError:
            continue
        seen.add(key)
        todo += dist.requires or []
    return seen


def _dist_bytes(name: str) -> int:
    files = metadata.distribution(name).files or []
    return sum(p.stat().st_size for f in files if (p := Path(f.locate())).is_file())


def python_added_mb(packages: tuple[str, ...]) -> tuple[float, list[str]]:
    """MB of the distributions `packages` add to a default install of stepbatch (pyproject dependencies)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    added = sorted(_closure(list(packages)) - _closure(project["dependencies"]))
    return sum(_dist_bytes(n) for n in added) / 1e6, added


def debian_mb(roots: tuple[str, ...]) -> tuple[float, list[str]]:
    """Installed-Size of the Debian packages `roots` and their tesseract/leptonica dependencies."""
    seen: dict[str, int] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Installed-Size}\t${Depends}", name], capture_output=True, text=True
        )
        if out.returncode != 0:
            continue
        size, _, depends = out.stdout.partition("\t")
        seen[name] = int(size or 0)
        deps = [d.strip().split(" ")[0] for d in depends.replace("|", ",").split(",") if d.strip()]
        todo += [d for d in deps if "tesseract" in d or "lept" in d]
    return sum(seen.values()) * 1024 / 1e6, sorted(seen)


def installed_mb(engine: str) -> tuple[str, str]:
    """(total for the table, the breakdown for the note under it)."""
    py_mb, added = python_added_mb(_detector_class(engine).packages)
    pip = ", ".join(f"{n} {_dist_bytes(n) / 1e6:.1f}" for n in added)
    if engine == "rapidocr":
        return f"{py_mb:.0f} MB", f"rapidocr adds (pip, MB): {pip}."
    if platform.system() != "Linux":
        return f"{py_mb:.1f} MB + tesseract", f"tesseract adds (pip, MB): {pip}, plus the tesseract program."
    deb, packages = debian_mb(ct.TesseractDetector.debian_packages)
    return f"{py_mb + deb:.0f} MB", (
        f"tesseract adds (pip, MB): {pip}; Debian Installed-Size {deb:.0f} MB: {', '.join(packages)}."
    )


# ------------------------------------------------------------------------------------------- report


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def rows_for(items: list[Item], run: EngineRun, size: str) -> list[list[str]]:
    rows = []
    for rule_name, rule in RULES.items():
        s = score(items, run, rule)
        fps = " / ".join(str(s.false_pos[k]) for k in ("ko", "en", "none"))
        rows.append(
            [
                run.engine,
                rule_name,
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                fps,
                f"{statistics.median(run.ms):.0f}",
                f"{p95(run.ms):.0f}",
                f"{statistics.median(run.cpu_ms):.0f}",
                f"{run.load_s:.2f}",
                size,
            ]
        )
        print(f"{run.engine} / {rule_name}: precision {s.precision:.3f}, recall {s.recall:.3f}, FP {fps}")
        for line in (s.misses[:6] + s.wrong[:6]) if rule is ct.DEFAULT_RULE else []:
            print("   ", line)
    return rows


def target_verdict(s: Scores) -> str:
    ok = s.recall >= TARGET_RECALL and s.precision >= TARGET_PRECISION
    return (
        f"Target for the default ({ct.DEFAULT_ENGINE}, stepbatch rule): recall >= {TARGET_RECALL} and "
        f"precision >= {TARGET_PRECISION}: {'met' if ok else 'NOT met'} ({s.recall:.3f} / {s.precision:.3f}; "
        f"{len(s.misses)} Chinese pictures missed, {len(s.wrong)} false positives)."
    )


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


def render(items: list[Item], rows: list[list[str]], notes: list[str], command: str, verdict: str) -> str:
    kinds = ", ".join(f"{sum(i.spec.text == k for i in items)} {k}" for k in TEXT_KINDS)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    headers = ["engine", "rule", "precision", "recall", "false positives ko / en / none", "ms median",
               "ms p95", "CPU ms median", "model load (s)", "installed size added"]  # fmt: skip
    rule = ct.DEFAULT_RULE
    paragraphs = [
        SECTION,
        f"Command: `{command}` (one run; each engine reads every picture once, and every rule scores the "
        "same reads).",
        f"Set: {len(items)} generated 640 px product pictures ({kinds}; half small text ≈14–32 px, half "
        "large ≈32–100 px; half plain, half busy backgrounds; `stepbatch.simulator.textimages`). "
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, load "
        f"average {load:.1f} at the end (shared machine). ms: wall time of decode + OCR of one picture, "
        "model load excluded; CPU ms counts every core (onnxruntime uses both), so it can exceed it.",
        table(headers, rows),
        "“has Chinese text” is the positive class. Real tool's rule: a text block with confidence >= 0.3 "
        "and a Han character (U+4E00..U+9FFF). stepbatch rule (`DEFAULT_RULE`, used by the gate): a block "
        f"with confidence >= {rule.min_confidence} and at least {rule.min_han} Han characters; why: the "
        "comment above `DEFAULT_RULE` in `src/stepbatch/vision/chinese_text.py`. " + verdict,
        " ".join(notes) + " Sizes: the installed files of the distributions that a default install of "
        "stepbatch (pyproject `dependencies`) does not already have, on this platform.",
    ]
    return "\n\n".join(paragraphs) + "\n"


def write_section(text: str) -> None:
    """Replace (or append) our section only; other engineers own the other sections."""
    replace_section(SECTION, text, DOC, tmp_tag="ocr-gate")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=320)
    parser.add_argument("--engines", default="rapidocr,tesseract")
    parser.add_argument("--write-doc", action="store_true", help=f"write {SECTION!r} in docs/benchmarks.md")
    args = parser.parse_args()
    items = labelled_set(args.images)
    started = time.perf_counter()
    images = [cached_png(item.spec) for item in items]
    print(f"{len(images)} pictures ready in {time.perf_counter() - started:.1f} s", flush=True)
    rows, notes, verdict = [], [], f"{ct.DEFAULT_ENGINE} not measured."
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if not ct.engine_available(engine):
            print(f"{engine}: not installed, skipped")
            continue
        run = measure(engine, images)
        size, note = installed_mb(engine)
        rows += rows_for(items, run, size)
        notes.append(note)
        if engine == ct.DEFAULT_ENGINE:
            verdict = target_verdict(score(items, run, ct.DEFAULT_RULE))
    text = render(items, rows, notes, "python bench/ocr_gate.py " + " ".join(sys.argv[1:]), verdict)
    print(text)
    if args.write_doc:
        write_section(text)
        print(f"wrote the {SECTION!r} section of {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
