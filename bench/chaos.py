"""Chaos run: step3 (and step2) over the simulator while the runner is SIGKILLed, Chromium is killed and
SIGINT is sent at random moments drawn from --seed; then the verifier must find every product processed
exactly once.

Usage: .venv/bin/python bench/chaos.py [--seed 1] [--accounts 2] [--codes 40] [--products 500]
           [--kills 20] [--browser-kills 10] [--sigints 3] [--step step3|step2|both] [--dir DIR] [--doc]

The simulator is started once (a `stepbatch simulator` subprocess, with --workbook and --seed). Each
account × step is run with `stepbatch run` subprocesses, restarted after every kill. Runner kills aim at
three kinds of moment, watched from outside: `edit` (the simulator's audit log shows an edit of a product
and its progress item is not yet `edited`: a product's edits are half done), `progress` (the progress
journal just grew or a snapshot temp file exists: a progress write), `random` (a random delay). Every
kill is recorded with the moment it actually hit (read back from the journal and the audit log).
Exit status 0 only if everything checked out. `--doc` writes the result table into docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from stepbatch.simulator.db import init_db
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.seed import seed_database, workbook_accounts
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.verify import verify
from stepbatch.state.lock import is_locked
from stepbatch.state.progress import ProgressStore
from stepbatch.workbook import load_workbook, write_sample_workbook

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "reliability.md"
EDIT_OPS = ("detail_image_delete", "thumbnail_delete", "option_image_copy", "image_translate", "html_insert")
MARK_ENV = "STEPBATCH_CHAOS_MARK"
POLL_S = 0.003  # watching files and the audit db of other processes: polling is the only way
SIGINT_EXIT_TIMEOUT_S = 180.0
JOB_TIMEOUT_S = 3 * 3600.0


# --- set-up ---------------------------------------------------------------------------------------------


def products_in_scope(workbook: Path, steps: list[str], seed: int, folder: Path) -> int:
    """How many products the simulator will seed for the codes of `steps` (seeded into a scratch db)."""
    db = folder / f"count-{uuid.uuid4().hex[:8]}.db"
    try:
        init_db(db)
        seed_database(db, workbook_accounts(workbook), seed=seed)
        return sum(verify(db, workbook, step=s).products for s in steps)
    finally:
        for extra in folder.glob(db.name + "*"):
            extra.unlink()


def make_workbook(
    folder: Path, accounts: int, codes: int, min_products: int, steps: list[str], seed: int
) -> tuple[Path, int, int]:
    """A sample workbook with at least `codes` provider codes in all (spread over the accounts' sheets) and
    at least `min_products` products in scope; codes are added until there are. Returns the workbook,
    its number of codes and of products in scope."""
    per_account = -(-codes // accounts)
    while True:
        path = write_sample_workbook(
            folder / "chaos.xlsx", accounts=accounts, codes=per_account, seed=seed, force=True
        )
        total = products_in_scope(path, steps, seed, folder)
        if total >= min_products:
            return path, per_account * accounts, total
        per_account += 1


# --- watching a runner from outside ---------------------------------------------------------------------


@dataclass
class Watch:
    """What the harness can see of one runner: its events, its progress journal, the audit log."""

    state: Path
    nickname: str
    step: str
    db: Path
    known_runs: set[str]
    run_dir: Path | None = None
    events_pos: int = 0
    items_done: int = 0
    done_items: list[str] = field(default_factory=list)
    # One "item" of work: step3 starts one product at a time; step2 records a page of products as started,
    # then moves them together. Products whose `intent` events come in one unbroken run share a group.
    start_group: dict[str, int] = field(default_factory=dict)
    group: int = 0
    last_was_intent: bool = False
    audit_id: int = 0
    working: bool = False  # a unit_started was seen: the run is under way (its signal handlers are set)

    @property
    def journal(self) -> Path:
        return self.state / "progress" / self.nickname / f"{self.step}.journal.jsonl"

    @property
    def progress_dir(self) -> Path:
        return self.state / "progress" / self.nickname

    def poll_events(self) -> list[dict]:
        if self.run_dir is None:
            runs = self.state / "runs"
            pattern = f"*-{self.nickname}-{self.step}*"
            fresh = [p for p in runs.glob(pattern) if p.name not in self.known_runs] if runs.exists() else []
            if not fresh:
                return []
            self.run_dir = max(fresh, key=lambda p: p.name)
        path = self.run_dir / "events.jsonl"
        if not path.exists():
            return []
        with path.open("rb") as fh:
            fh.seek(self.events_pos)
            data = fh.read()
        end = data.rfind(b"\n") + 1
        self.events_pos += end
        out = []
        for line in data[:end].splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("event") == "item":
                self.track_item(str(rec.get("item")), str(rec.get("status")))
            elif rec.get("event") == "unit_started":
                self.working = True
            out.append(rec)
        return out

    def track_item(self, item: str, status: str) -> None:
        if status == "intent":
            if not self.last_was_intent:
                self.group += 1
            self.start_group[item] = self.group
        self.last_was_intent = status == "intent"
        if status == "done":
            self.items_done += 1
            self.done_items.append(item)

    def journal_size(self) -> int:
        try:
            return self.journal.stat().st_size
        except FileNotFoundError:
            return 0

    def snapshot_tmp(self) -> bool:
        try:
            return any(p.name.endswith(".tmp") for p in self.progress_dir.iterdir())
        except FileNotFoundError:
            return False

    def new_edit_ops(self) -> list[tuple[str, str]]:
        rows = audit_since(self.db, self.audit_id)
        if rows:
            self.audit_id = rows[-1][0]
        return [(product, op) for _, product, op in rows if op in EDIT_OPS]

    def item_status(self, product: str) -> str | None:
        """The last status the journal (or snapshot) recorded for a product, or None."""
        status = None
        try:
            for line in self.journal.read_bytes().splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # a line torn by the kill
                if rec.get("op") == "item" and rec.get("i") == product:
                    status = rec.get("set", {}).get("status", status or "intent")
        except FileNotFoundError:
            pass
        return status

    def last_item(self) -> tuple[str | None, str | None]:
        """The product and status of the last item line in the journal."""
        try:
            lines = self.journal.read_bytes().splitlines()
        except FileNotFoundError:
            return None, None
        for line in reversed(lines):
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("op") == "item":
                return rec.get("i"), rec.get("set", {}).get("status", "checkpoint")
        return None, None


def audit_since(db: Path, after: int) -> list[tuple[int, str, str]]:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            sql = "SELECT id, product, op FROM audit WHERE id > ? ORDER BY id"
            return conn.execute(sql, (after,)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def audit_max(db: Path) -> int:
    rows = audit_since(db, 0)
    return rows[-1][0] if rows else 0


def browser_procs(runner: psutil.Process) -> list[psutil.Process]:
    """The Chromium processes in this runner's process tree (found by parentage, then by name)."""
    try:
        children = runner.children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for proc in children:
        try:
            if "chrom" in proc.name().lower():
                out.append(proc)
        except psutil.NoSuchProcess:
            continue
    return out


def code_version() -> str:
    """The commit the measured code is at (and whether src/ or bench/ differ from it), for the doc."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        except OSError:
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "code version unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--", "src", "bench")
    return f"code at commit `{commit}`" + (" with uncommitted changes in src/ or bench/" if dirty else "")


def runner_command(
    step: str, workbook: Path, email: str, url: str, state: Path, batch_size: int, *extra: str
) -> list[str]:
    """`stepbatch run` for one account on the simulator, as a separate Python process."""
    options = {"--workbook": workbook, "--account": email, "--base-url": url, "--state-dir": state}
    pairs = [part for name, value in options.items() for part in (name, str(value))]
    return [sys.executable, "-m", "stepbatch", "run", step, *pairs, "--batch-size", str(batch_size), *extra]


def marked_browsers(mark: str) -> list[int]:
    """Chromium/chromedriver processes that inherited our marker (leftovers of any runner we started)."""
    pids = []
    for proc in psutil.process_iter(["pid", "name"]):
        if "chrom" not in (proc.info["name"] or "").lower():
            continue
        try:
            if proc.environ().get(MARK_ENV) == mark and proc.status() != psutil.STATUS_ZOMBIE:
                pids.append(proc.info["pid"])
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return pids


# --- the chaos itself -----------------------------------------------------------------------------------


@dataclass
class Action:
    kind: str  # kill:edit | kill:progress | kill:random | browser:edit | browser:between | sigint
    after_items: int  # let this many more products finish first


@dataclass
class Record:
    n: int
    job: str
    action: str
    moment: str = ""
    item: str = ""
    items_before: int = 0
    ok: bool = True
    note: str = ""


@dataclass
class Job:
    email: str
    nickname: str
    step: str
    products: int
    runners: int = 0
    exits: Counter = field(default_factory=Counter)
    complete: bool = False
    unexpected: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.nickname} {self.step}"


class Chaos:
    def __init__(
        self,
        args: argparse.Namespace,
        folder: Path,
        workbook: Path,
        sim: SimulatorServer,
        actions: dict[str, list[Action]],
    ) -> None:
        self.args = args
        self.folder = folder
        self.workbook = workbook
        self.sim = sim
        self.state = folder / "state"
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.actions = actions  # per job label, in order
        self.carried = 0  # actions a job finished too early for, handed to the next job
        self.records: list[Record] = []
        self.rng = random.Random(f"chaos-{args.seed}")
        self.mark = uuid.uuid4().hex
        self.failures: list[str] = []

    # runner processes

    def start_runner(self, job: Job) -> tuple[subprocess.Popen[bytes], Path]:
        job.runners += 1
        log = self.logs / f"{job.nickname}-{job.step}-{job.runners:03d}.log"
        cmd = runner_command(
            job.step,
            self.workbook,
            job.email,
            self.sim.url,
            self.state,
            self.args.batch_size,
            "--max-attempts",
            str(self.args.max_attempts),
        )
        env = {**os.environ, MARK_ENV: self.mark, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        with log.open("wb") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        return proc, log

    def run_job(self, job: Job) -> None:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while not job.complete and time.monotonic() < deadline:
            runs = self.state / "runs"
            watch = Watch(
                self.state,
                job.nickname,
                job.step,
                self.sim.db_path,
                {p.name for p in runs.iterdir()} if runs.exists() else set(),
                audit_id=audit_max(self.sim.db_path),
            )
            proc, log = self.start_runner(job)
            ended = self.drive(job, proc, watch)
            code = proc.wait() if ended is None else ended
            job.exits[code] += 1
            if code == 0:
                job.complete = True
            elif code not in (-signal.SIGKILL, 130):
                tail = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-3:]
                job.unexpected.append(f"exit {code}: {' | '.join(tail)}")
                if len(job.unexpected) > 5:
                    self.failures.append(f"{job.label}: runner keeps failing ({job.unexpected[-1]})")
                    return
        if not job.complete:
            self.failures.append(f"{job.label}: not complete within {JOB_TIMEOUT_S / 60:.0f} min")

    def carry_over(self, job: Job, following: Job | None) -> None:
        """Actions a job finished too early for go to the front of the next job's list."""
        left = self.actions.get(job.label, [])
        if left and following is not None:
            self.carried += len(left)
            self.actions[following.label] = left + self.actions.get(following.label, [])
            self.actions[job.label] = []

    def drive(self, job: Job, proc: subprocess.Popen[bytes], watch: Watch) -> int | None:
        """Apply the next actions to this runner; returns its exit code if we ended it, else None."""
        runner = psutil.Process(proc.pid)
        actions = self.actions.setdefault(job.label, [])
        while actions:
            action = actions[0]
            target = watch.items_done + action.after_items
            while watch.items_done < target:
                watch.poll_events()
                if proc.poll() is not None:
                    return None
                time.sleep(0.02)
            actions.pop(0)
            if action.kind == "kill:edit" and job.step == "step2":  # step2 moves only: no edits to hit
                action.kind = "kill:progress"
            if action.kind.startswith("browser"):
                self.kill_browser(job, runner, proc, watch, action.kind)
                continue
            if action.kind == "sigint":
                return self.interrupt(job, proc, watch)
            return self.kill_runner(job, proc, watch, action.kind)
        return None

    def kill_runner(self, job: Job, proc: subprocess.Popen[bytes], watch: Watch, kind: str) -> int | None:
        actions = self.actions[job.label]
        rec = Record(len(self.records) + 1, job.label, kind, items_before=watch.items_done)
        size = watch.journal_size()
        watch.new_edit_ops()
        deadline = time.monotonic() + (self.rng.uniform(0.0, 3.0) if kind == "kill:random" else 120.0)
        product = None
        tmp = False
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                actions.insert(0, Action(kind, 0))  # the runner finished first: try on the next one
                return None
            if kind == "kill:edit":
                edits = watch.new_edit_ops()
                if edits:
                    product = edits[-1][0]
                    break
            elif kind == "kill:progress":
                tmp = watch.snapshot_tmp()
                if tmp or watch.journal_size() != size:
                    break
            time.sleep(POLL_S)
        os.kill(proc.pid, signal.SIGKILL)
        code = proc.wait()
        watch.poll_events()
        last_product, last_status = watch.last_item()
        if kind == "kill:edit" and product:
            status = watch.item_status(product)
            rec.moment = (
                "during a product's edits"
                if status in ("intent", "checkpoint", None)
                else f"after a product's edits (item {status})"
            )
            rec.item = f"{product[-6:]} {status or '-'}"
        elif kind == "kill:progress":
            rec.moment = (
                "during a snapshot write (temp file present)"
                if tmp
                else "right after a progress journal write"
            )
            rec.item = f"{(last_product or '-')[-6:]} {last_status or '-'}"
        else:
            rec.moment = f"random ({describe(last_status)})"
            rec.item = f"{(last_product or '-')[-6:]} {last_status or '-'}"
        self.records.append(rec)
        return code

    def kill_browser(
        self, job: Job, runner: psutil.Process, proc: subprocess.Popen[bytes], watch: Watch, kind: str
    ) -> None:
        """`browser:edit` waits for an edit of a product to reach the site (step3), `browser:between`
        strikes as soon as a product is done."""
        rec = Record(len(self.records) + 1, job.label, "browser", items_before=watch.items_done)
        deadline = time.monotonic() + 120
        procs: list[psutil.Process] = []
        watch.new_edit_ops()
        mid_edit = kind == "browser:edit" and job.step == "step3"
        while time.monotonic() < deadline and proc.poll() is None:
            if mid_edit and not watch.new_edit_ops():
                time.sleep(POLL_S)
                continue
            procs = browser_procs(runner)
            if procs:
                break
            time.sleep(0.05)
        if not procs:
            self.actions[job.label].insert(0, Action(kind, 0))
            return
        for p in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                p.kill()
        psutil.wait_procs(procs, timeout=10)
        last_product, last_status = watch.last_item()
        rec.moment = f"Chromium tree killed ({len(procs)} processes; {describe(last_status)})"
        rec.item = f"{(last_product or '-')[-6:]} {last_status or '-'}"
        # recovery: the runner must start a new browser (or finish) on its own
        before = watch.items_done
        while proc.poll() is None and watch.items_done == before and time.monotonic() < deadline + 300:
            watch.poll_events()
            time.sleep(0.05)
        rec.ok = proc.poll() is None or proc.returncode == 0
        rec.note = "runner went on" if rec.ok else f"runner exited {proc.returncode}"
        self.records.append(rec)

    def interrupt(self, job: Job, proc: subprocess.Popen[bytes], watch: Watch) -> int | None:
        # A Ctrl+C before the run is under way (interpreter start-up, workbook checks) has nothing to
        # resume: it is not the case under test. Wait for the first unit.
        while not watch.working and proc.poll() is None:
            watch.poll_events()
            time.sleep(0.02)
        if proc.poll() is not None:
            self.actions[job.label].insert(0, Action("sigint", 0))
            return None
        rec = Record(len(self.records) + 1, job.label, "sigint", items_before=watch.items_done)
        watch.poll_events()
        done_at_signal = len(watch.done_items)
        started = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(timeout=SIGINT_EXIT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            code = proc.wait()
            rec.ok, rec.note = False, f"did not stop within {SIGINT_EXIT_TIMEOUT_S:.0f} s"
        took = time.monotonic() - started
        watch.poll_events()
        finished = watch.done_items[done_at_signal:]
        groups = {watch.start_group.get(item) for item in finished}
        log = sorted(self.logs.glob(f"{job.nickname}-{job.step}-*.log"))[-1].read_text(
            encoding="utf-8", errors="replace"
        )
        says_resume = "resume with: stepbatch run" in log
        if code == 0:
            rec.moment, rec.note = "run had just completed", f"exit 0 after {took:.1f} s"
        else:
            rec.ok = rec.ok and code == 130 and len(groups) <= 1 and says_resume
            rec.moment = (
                f"stopped in {took:.1f} s, {len(finished)} product(s) finished after the signal"
                + (" (one page move)" if len(finished) > 1 and len(groups) == 1 else "")
                + (f" (in {len(groups)} separate items)" if len(groups) > 1 else "")
            )
            rec.note = f"exit {code}" + ("" if says_resume else "; no resume hint printed")
        rec.item = ""
        self.records.append(rec)
        return code


def describe(status: str | None) -> str:
    return {
        None: "no product started yet",
        "intent": "mid-edits",
        "checkpoint": "mid-edits",
        "edited": "edits done, move pending",
        "done": "between products",
        "failed": "after a failed product",
    }.get(status, status or "")


# --- the plan and the end checks ------------------------------------------------------------------------


def plan_actions(args: argparse.Namespace, jobs: list[Job], rng: random.Random) -> dict[str, list[Action]]:
    """The actions, shuffled, dealt to the jobs in proportion to their products, and spread over the first
    ~70% of each job's products. Chromium kills alternate between mid-edits and between products."""
    kills = ["kill:edit"] * max(args.kills * 2 // 5, 1) + ["kill:progress"] * max(args.kills * 2 // 5, 1)
    kills += ["kill:random"] * max(args.kills - len(kills), 0)
    browsers = [("browser:edit", "browser:between")[i % 2] for i in range(args.browser_kills)]
    kinds = kills + browsers + ["sigint"] * args.sigints
    rng.shuffle(kinds)
    dealt: dict[str, list[str]] = {job.label: [] for job in jobs}
    weights = [max(job.products, 1) for job in jobs]
    for kind in kinds:
        dealt[rng.choices(jobs, weights)[0].label].append(kind)
    plan = {}
    for job in jobs:
        mine = dealt[job.label]
        # step2 moves a page of products in about a second: wait for products and the job is over first
        gap = 1 if job.step == "step2" else max(int(job.products * 0.7 / max(len(mine), 1)), 1)
        plan[job.label] = [Action(kind, rng.randint(gap // 2, gap)) for kind in mine]
    return plan


def end_checks(chaos: Chaos, jobs: list[Job], steps: list[str]) -> list[tuple[str, str, bool]]:
    out = []
    for step in steps:
        result = verify(chaos.sim.db_path, chaos.workbook, step=step)
        out.append((f"verifier {step}", result.line(), result.ok))
    bad = []
    files = sorted((chaos.state / "progress").glob("*/*.json"))
    for path in files:
        try:
            ProgressStore.open_path(path, readonly=True)
        except Exception as exc:  # any failure to load is what this check reports
            bad.append(f"{path.name}: {exc}")
    out.append(
        (
            "progress files parse",
            f"{len(files) - len(bad)}/{len(files)} ok" + (f" ({'; '.join(bad)})" if bad else ""),
            not bad and bool(files),
        )
    )
    warnings = Counter()
    for events in (chaos.state / "runs").glob("*/events.jsonl"):
        for line in events.read_bytes().splitlines():
            if b'"warning"' in line:
                message = json.loads(line).get("message", "")
                warnings["torn journal line cut off" if "torn" in message else "other"] += 1
    out.append(
        (
            "warnings on resume (informational)",
            ", ".join(f"{k}: {v}" for k, v in sorted(warnings.items())) or "none",
            True,
        )
    )
    held = [j.nickname for j in jobs if is_locked(chaos.state, j.nickname)]
    out.append(("locks held", ", ".join(sorted(set(held))) or "none", not held))
    left = marked_browsers(chaos.mark)
    out.append(("chromium/chromedriver left", ", ".join(map(str, left)) or "none", not left))
    return out


# --- output ---------------------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    jobs: list[Job],
    chaos: Chaos,
    checks: list[tuple[str, str, bool]],
    meta: dict[str, object],
) -> str:
    lines = [
        f"Command: `{meta['command']}` ({code_version()})",
        "",
        f"Workbook: {args.accounts} accounts, {meta['codes']} codes (seed {args.seed}), "
        f"{meta['products']} products in scope; simulator seed {args.seed}; "
        f"wall time {meta['wall_min']:.1f} min; finished {meta['finished']}.",
        "",
        "| job | products | actions applied | runner starts | exits (code: count) | unexpected exits |",
        "|---|---|---|---|---|---|",
    ]
    for j in jobs:
        exits = ", ".join(f"{k}: {v}" for k, v in sorted(j.exits.items()))
        applied = sum(1 for r in chaos.records if r.job == j.label)
        lines.append(
            f"| {j.label} | {j.products} | {applied} | {j.runners} | {exits} | {len(j.unexpected)} |"
        )
    if chaos.carried:
        lines.append(f"\n{chaos.carried} action(s) went to the next job: their job finished first.")
    counts = Counter(r.action for r in chaos.records)
    lines += ["", "| what was done | count |", "|---|---|"]
    for kind in ("kill:edit", "kill:progress", "kill:random", "browser", "sigint"):
        lines.append(f"| {kind} | {counts.get(kind, 0)} |")
    moments = Counter(
        r.moment.split(" (")[0] if r.action.startswith("kill") else r.action for r in chaos.records
    )
    lines += ["", "| moment the runner kill hit | count |", "|---|---|"]
    for moment, n in sorted(moments.items()):
        if moment not in ("browser", "sigint"):
            lines.append(f"| {moment} | {n} |")
    lines += [
        "",
        "| # | job | action | moment | item (id tail, status) | products this runner did before "
        "| ok | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in chaos.records:
        lines.append(
            f"| {r.n} | {r.job} | {r.action} | {r.moment} | {r.item} | {r.items_before} | "
            f"{'yes' if r.ok else 'NO'} | {r.note} |"
        )
    lines += ["", "| end check | result | ok |", "|---|---|---|"]
    for name, value, ok in checks:
        lines.append(f"| {name} | {value} | {'yes' if ok else 'NO'} |")
    for failure in chaos.failures:
        lines.append(f"\nFAILURE: {failure}")
    return "\n".join(lines)


def write_doc(section: str, body: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Reliability\n"
    start = text.find(section)
    block = f"{section}\n\n{body}\n"
    if start < 0:
        text = text.rstrip() + "\n\n" + block
    else:
        nxt = text.find("\n## ", start + len(section))
        text = text[:start] + block + (text[nxt:] if nxt >= 0 else "")
    DOC.write_text(text, encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--accounts", type=int, default=2)
    ap.add_argument("--codes", type=int, default=40, help="provider codes in the workbook (all accounts)")
    ap.add_argument("--products", type=int, default=500, help="at least this many products in scope")
    ap.add_argument("--kills", type=int, default=20, help="SIGKILLs of the runner")
    ap.add_argument("--browser-kills", type=int, default=10)
    ap.add_argument("--sigints", type=int, default=3)
    ap.add_argument("--step", choices=("step3", "step2", "both"), default="both")
    ap.add_argument("--batch-size", type=int, default=5)
    ap.add_argument(
        "--max-attempts",
        type=int,
        default=5,
        help="per code; browser kills count as attempts, so allow a few",
    )
    ap.add_argument("--translate-ms", type=int, default=60, help="simulator: translation busy time")
    ap.add_argument("--dir", type=Path, default=None, help="keep the files here (default: a temp folder)")
    ap.add_argument("--doc", action="store_true", help="write the result into docs/reliability.md")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    # step2 first: it is quick, and what it finishes too early for carries over to step3
    steps = ["step2", "step3"] if args.step == "both" else [args.step]
    folder = args.dir or Path(tempfile.mkdtemp(prefix="stepbatch-chaos-"))
    if folder.exists() and any(folder.iterdir()):  # an old simulator db or progress would taint the result
        sys.exit(f"chaos: --dir {folder} is not empty; give a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    workbook, codes, products = make_workbook(
        folder, args.accounts, args.codes, args.products, steps, args.seed
    )
    print(
        f"chaos: {folder}; workbook {args.accounts} accounts, {codes} codes, {products} products", flush=True
    )
    book = load_workbook(workbook)
    rng = random.Random(args.seed)
    sim = SimulatorServer(
        folder / "sim.db",
        workbook,
        seed=args.seed,
        mode="subprocess",
        faults=Faults(translate_ms=args.translate_ms),
    )
    with sim:
        jobs = [
            Job(a.email, a.nickname, s, verify(sim.db_path, workbook, step=s, account=a.email).products)
            for s in steps
            for a in book.accounts
        ]
        chaos = Chaos(args, folder, workbook, sim, plan_actions(args, jobs, rng))
        for i, job in enumerate(jobs):
            planned = len(chaos.actions[job.label])
            print(f"chaos: running {job.label} ({job.products} products, {planned} actions)", flush=True)
            chaos.run_job(job)
            chaos.carry_over(job, jobs[i + 1] if i + 1 < len(jobs) else None)
        left = sum(len(a) for a in chaos.actions.values())
        if left:
            chaos.failures.append(f"{left} planned action(s) never happened (the work ran out)")
        checks = end_checks(chaos, jobs, steps)
    wanted = {"kill": args.kills, "browser": args.browser_kills, "sigint": args.sigints}
    done = Counter(r.action.split(":")[0] for r in chaos.records)
    for kind, n in wanted.items():
        if done[kind] < n:
            chaos.failures.append(f"only {done[kind]} of {n} {kind} actions happened")
    chaos.failures += [f"{r.job}: {r.action} #{r.n}: {r.note}" for r in chaos.records if not r.ok]
    ok = all(c[2] for c in checks) and not chaos.failures
    meta = {
        "command": "python bench/chaos.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "codes": codes,
        "products": products,
        "wall_min": (time.monotonic() - started) / 60,
        "finished": time.strftime("%Y-%m-%d %H:%M"),
    }
    text = report(args, jobs, chaos, checks, meta)
    print(text)
    print(f"\nchaos: {'PASS' if ok else 'FAIL'}")
    if args.doc:
        write_doc("## Chaos run (latest)", text + f"\n\nResult: **{'PASS' if ok else 'FAIL'}**")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
