"""A runner process for the engine's subprocess tests (signals, SIGKILL crashes, the lock).

usage: python engine_worker.py STATE_DIR SITE_DB UNITS BATCH_SIZE [--compact-every N] [--slow]
                                [--kill-at N [--torn]]
`--kill-at N` makes the process SIGKILL itself right after its N-th durable action (a site edit or move,
a progress commit, a snapshot write or rename), or with `--torn`, in the middle of writing the N-th
journal line. Prints the stop event's resume hint and a final `SUMMARY {json}` line; exits with the
run's exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from engine_fakes import FakeFactory, SiteProcessor, make_account, make_units

from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import run_account
from stepbatch.errors import UserError


def install_kill_point(kill_at: int, torn: bool) -> None:
    import os
    import signal

    import engine_fakes

    from stepbatch.state import file_store, progress, recovery, snapshot

    count = {"n": 0}

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def counted(fn):
        def wrapper(*a, **kw):
            result = fn(*a, **kw)
            count["n"] += 1
            if count["n"] >= kill_at:
                die()
            return result

        return wrapper

    original_commit = progress.ProgressStore._commit

    def commit(self, rec):
        if torn and count["n"] + 1 >= kill_at:
            with open(self.paths.journal, "ab") as fh:
                fh.write(b'{"g":' + str(self.state["generation"]).encode() + b',"ts":"2024-01-01T00:00:0')
                fh.flush()
            die()
        return original_commit(self, rec)

    progress.ProgressStore._commit = counted(commit)
    for module in (snapshot, file_store, recovery):  # the modules that make the durable renames
        module.replace = counted(module.replace)
    snapshot.atomic_write_text = counted(snapshot.atomic_write_text)
    engine_fakes.Site.apply = counted(engine_fakes.Site.apply)
    engine_fakes.Site.move = counted(engine_fakes.Site.move)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("site_db", type=Path)
    parser.add_argument("units", type=int)
    parser.add_argument("batch_size", type=int)
    parser.add_argument("--compact-every", type=int, default=None)
    parser.add_argument("--slow", action="store_true")
    parser.add_argument("--kill-at", type=int, default=None)
    parser.add_argument("--torn", action="store_true")
    args = parser.parse_args()
    if args.kill_at is not None:
        install_kill_point(args.kill_at, args.torn)

    from engine_fakes import Site

    site = Site(args.site_db)
    processor = SiteProcessor(site, work=threading.Event() if args.slow else None)

    def on_event(event: dict) -> None:
        if event["event"] == "stop":
            print(f"stopped ({event['reason']}); resume with: {event['resume']}", flush=True)

    try:
        summary = run_account(
            state_dir=args.state_dir,
            account=make_account(),
            step="step3",
            server="서버2-1",
            units=make_units(args.units),
            processor=processor,
            browser_factory=FakeFactory(),
            options=RunOptions(batch_size=args.batch_size, item_timeout=60, backoff_base=0.01),
            listeners=[on_event],
            compact_every=args.compact_every,
        )
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code
    print("SUMMARY " + json.dumps(summary.to_dict(), ensure_ascii=False), flush=True)
    return summary.exit_code


if __name__ == "__main__":
    sys.exit(main())
