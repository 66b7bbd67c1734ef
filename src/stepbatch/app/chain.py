"""Steps in order per account: `stepbatch run step2,step3` on one machine.

Each account runs its steps one after the other; a step starts only when the one before it ended `done`
(every code done, no product failed). A step that ended otherwise — partial, failed, stopped (e.g. by
`--max-products`), interrupted, or refused before it started (a busy account, a workbook error) — stops
that account's chain with one line, e.g.
`chain stopped: RTA step2 ended failed (StopAccount: login refused …); not run: step3`.

One account (`--account A`) runs its steps in this process, each exactly as `run_one` runs it. Every
account (`--accounts all --parallel N`) runs each account's chain in one of the N slots, each step in
its own process (`run_child`), as a single step does. The exit code is the worst of the steps that ran.
A single step is `run_one` / `run_all`, unchanged.

Step-only options (`--translate-all` is step3's) apply to their own step and are left out of the other
steps of the chain; given for a step the command does not run at all, they are refused as before.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from stepbatch.app import run as app_run
from stepbatch.app.preflight import select_run_units
from stepbatch.app.processors import check_step
from stepbatch.app.run import (
    AccountResult,
    RunRequest,
    check_all,
    check_options,
    combined_exit,
    format_account_table,
    read_workbook,
    run_child,
    run_one,
)
from stepbatch.engine.options import RunOptions, option_specs
from stepbatch.errors import UserError
from stepbatch.workbook import Workbook
from stepbatch.workbook.models import Account

DONE = "done"


def parse_steps(spec: str) -> list[str]:
    """`step2,step3` → ["step2", "step3"] in the order given (each step is checked where it runs)."""
    steps = [part.strip() for part in spec.split(",")]
    if not all(steps):
        raise UserError(f"{spec!r}: expected a step, or steps separated by commas such as step2,step3")
    repeated = sorted({s for s in steps if steps.count(s) > 1})
    if repeated:
        raise UserError(f"{spec!r}: {', '.join(repeated)} given twice")
    return steps


def step_cli(
    cli: Mapping[str, Any], step: str, steps: Sequence[str], options_type: type[RunOptions] = RunOptions
) -> dict[str, Any]:
    """The command-line values for `step` of a chain: the step-only flags of its other steps left out."""
    values = dict(cli)
    for spec in option_specs(options_type):
        if spec.step_only and spec.step_only != step and spec.step_only in steps:
            values[spec.name] = None
    return values


def step_outcome(summary: Mapping[str, Any] | None) -> str:
    """done | partial | failed | stopped | interrupted (| refused: no summary, the run did not start)."""
    if not summary:
        return "refused"
    outcome = summary.get("outcome")
    if outcome == "interrupted":
        return "interrupted"
    if str(summary.get("stop_reason") or "").startswith("StopAccount"):
        return "failed"
    if outcome == "stopped":
        return "stopped"
    if outcome == "complete" and summary.get("exit_code") == 0:
        return DONE
    cumulative = summary.get("cumulative") or {}
    counts = ("units_done", "items_done")
    some_done = any(summary.get(k) or cumulative.get(k) for k in counts)
    return "partial" if some_done else "failed"


def outcome_detail(summary: Mapping[str, Any] | None, fallback: str = "") -> str:
    """Why, in a few words: the first error, the stop reason or the run's message."""
    if not summary:
        return fallback
    errors = summary.get("errors") or []
    text = errors[0] if errors else summary.get("stop_reason") or summary.get("message") or fallback
    return " ".join(str(text).split())[:160]


def stop_line(account: str, step: str, outcome: str, detail: str, rest: Sequence[str]) -> str:
    why = f" ({detail})" if detail else ""
    return f"chain stopped: {account} {step} ended {outcome}{why}; not run: {', '.join(rest)}"


def run_steps(reqs: Sequence[RunRequest], *, out: TextIO | None = None) -> int:
    """`stepbatch run` for one step (as before) or several in order; returns the exit code."""
    first = reqs[0]
    if len(reqs) == 1:  # exactly as before the chains (looked up on the module: tests replace them)
        single = app_run.run_all if first.all_accounts else app_run.run_one
        return single(first) if out is None else single(first, out=out)
    out = out or sys.stdout
    for req in reqs:
        check_step(req.step)
        check_options(req.options)
    return _chain_all(reqs, out) if first.all_accounts else _chain_one(reqs, out)


# --- one account, in this process ---------------------------------------------------------------------


def _chain_one(reqs: Sequence[RunRequest], out: TextIO) -> int:
    first = reqs[0]
    book = read_workbook(first.workbook)
    if not first.account:
        raise UserError("--account is required (or --accounts all)")
    account = book.account(first.account)
    _check_units(book, account, reqs)
    codes: list[int] = []
    with tempfile.TemporaryDirectory(prefix="stepbatch-chain-") as tmp:
        for i, req in enumerate(reqs):
            rest = [r.step for r in reqs[i + 1 :]]
            summary_path = Path(tmp) / f"{req.step}.json"
            try:
                codes.append(run_one(replace(req, summary_json=summary_path), out=out))
            except UserError as exc:
                if rest:
                    out.write(stop_line(account.nickname, req.step, "refused", str(exc), rest) + "\n")
                raise
            summary = _read_summary(summary_path)
            if req.summary_json is not None and summary is not None:
                Path(req.summary_json).write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
            outcome = step_outcome(summary)
            if outcome != DONE and rest:
                out.write(
                    stop_line(account.nickname, req.step, outcome, outcome_detail(summary), rest) + "\n"
                )
                break
    return combined_exit(codes)


def _check_units(book: Workbook, account: Account, reqs: Sequence[RunRequest]) -> None:
    """Every step's rows of the account, before the first step starts (one-line UserError)."""
    for req in reqs:
        select_run_units(book, account, req.step, req.server, skip_invalid=req.options.skip_invalid)


def _read_summary(path: Path) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


# --- every account, a chain per slot, a process per step -------------------------------------------------


def _chain_all(reqs: Sequence[RunRequest], out: TextIO) -> int:
    book = check_all(reqs[0])
    chained = [replace(req, chained=True) for req in reqs]
    with (
        tempfile.TemporaryDirectory(prefix="stepbatch-accounts-") as tmp,
        ThreadPoolExecutor(max_workers=reqs[0].parallel) as pool,
    ):
        per_account = list(
            pool.map(lambda account: _account_chain(chained, book, account, Path(tmp), out), book.accounts)
        )
    results = [result for rows in per_account for result in rows]
    out.write(format_account_table(results) + "\n")
    return combined_exit([r.exit_code for r in results if r.ran])


def _account_chain(
    reqs: Sequence[RunRequest], book: Workbook, account: Account, folder: Path, out: TextIO
) -> list[AccountResult]:
    """One account's steps in order, each in its own process; stops at the first step not done."""
    name = account.nickname
    steps = [r.step for r in reqs]
    refused = _units_refusal(book, account, reqs)
    if refused is not None:
        step, error, code = refused
        out.write(stop_line(name, step, "refused", error, [s for s in steps if s != step]) + "\n")
        return [
            AccountResult(name, code, None, error, step=s)
            if s == step
            else _not_run(name, s, f"{step} refused")
            for s in steps
        ]
    results: list[AccountResult] = []
    for i, req in enumerate(reqs):
        result = replace(run_child(req, account, folder, out), step=req.step)
        results.append(result)
        outcome = step_outcome(result.summary)
        rest = steps[i + 1 :]
        if outcome != DONE and rest:
            detail = outcome_detail(result.summary, f"exit {result.exit_code}: {result.output_tail}")
            out.write(stop_line(name, req.step, outcome, detail, rest) + "\n")
            results += [_not_run(name, s, f"{req.step} {outcome}") for s in rest]
            break
    return results


def _units_refusal(
    book: Workbook, account: Account, reqs: Sequence[RunRequest]
) -> tuple[str, str, int] | None:
    """The first step whose rows of the account cannot run: (step, the one-line error, its exit code)."""
    for req in reqs:
        try:
            select_run_units(book, account, req.step, req.server, skip_invalid=req.options.skip_invalid)
        except UserError as exc:
            return req.step, str(exc), exc.exit_code
    return None


def _not_run(account: str, step: str, why: str) -> AccountResult:
    return AccountResult(account, 0, None, f"not run: {why}", step=step, ran=False)


__all__ = ["outcome_detail", "parse_steps", "run_steps", "step_cli", "step_outcome", "stop_line"]
