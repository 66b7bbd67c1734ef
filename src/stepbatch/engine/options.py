"""Options of one run, shared by the CLI, the config file and the engine.

Each option is declared once, as a `RunOptions` field made by `option(...)`: its type and default are the
field's, its metadata holds the `stepbatch run` flag, the help text, the bound it must satisfy and whether
it is a stepbatch.toml key. `option_specs()` reads them back; the CLI, `check_options`, the command line
of a `--accounts all` child process and the stepbatch.toml parser are all built from that list.
"""

from __future__ import annotations

import functools
import typing
from dataclasses import dataclass, field, fields
from typing import Any

SPEC_KEY = "stepbatch.option"


@dataclass(frozen=True)
class Bound:
    """A lower bound on a number option: `value > limit` (strict) or `value >= limit`."""

    limit: float
    strict: bool = True

    def allows(self, value: float) -> bool:
        return value > self.limit if self.strict else value >= self.limit

    @property
    def words(self) -> str:
        """For command-line errors: `--batch-size must be greater than 0, got 0`."""
        return f"{'greater than' if self.strict else 'at least'} {self.limit:g}"

    @property
    def symbol(self) -> str:
        """For stepbatch.toml errors: `[run] batch_size must be > 0, got 0`."""
        return f"{'>' if self.strict else '>='} {self.limit:g}"


def greater_than(limit: float) -> Bound:
    return Bound(limit, strict=True)


def at_least(limit: float) -> Bound:
    return Bound(limit, strict=False)


@dataclass(frozen=True)
class _Declared:
    """What `option()` stores in the field's metadata (the rest comes from the field itself)."""

    help: str
    flag: str | None
    bound: Bound | None
    config: bool
    step_only: str | None
    resume: bool


@dataclass(frozen=True)
class OptionSpec:
    """One run option, as every place that spells it needs it."""

    name: str  # the RunOptions field, and the stepbatch.toml key
    kind: type  # int, float, bool or str: the field's type without None
    optional: bool  # None allowed (`"off"` in stepbatch.toml)
    default: Any
    help: str = ""
    flag: str | None = None  # the `stepbatch run` flag; None: only in stepbatch.toml
    bound: Bound | None = None  # numbers only
    config: bool = True  # a key of [run] / [step2] / [step3]
    step_only: str | None = None  # meaningful for this step only (`put it under [step3]`)
    resume: bool = False  # kept in the "resume with:" command because it changes what runs

    @property
    def label(self) -> str:
        """How an error names the option: its flag, or its stepbatch.toml key."""
        return self.flag or f"{self.name} in stepbatch.toml"

    def command_line(self, value: Any) -> list[str]:
        """The arguments that pass `value` on: `--flag` / nothing for a switch, `--flag value` else."""
        if self.flag is None or value is None or value is False:
            return []
        return [self.flag] if self.kind is bool else [self.flag, str(value)]


def option(
    default: Any,
    *,
    help: str = "",
    flag: str | None = None,
    bound: Bound | None = None,
    config: bool = True,
    step_only: str | None = None,
    resume: bool = False,
) -> Any:
    """A RunOptions field carrying its spec; typed Any so `batch_size: int = option(5, ...)` checks."""
    declared = _Declared(help, flag, bound, config, step_only, resume)
    return field(default=default, metadata={SPEC_KEY: declared})


@dataclass
class RunOptions:
    """Every field but `step` is an option: declare a new one here, with `option(...)`, and nowhere else.
    `flag=None` keeps an option out of `stepbatch run` (stepbatch.toml only)."""

    step: str = "step3"  # not an option: the `stepbatch run STEP` argument
    batch_size: int = option(
        5, flag="--batch-size", help="provider codes per browser (5)", bound=greater_than(0)
    )
    restart_above_mb: float | None = option(
        None, flag="--restart-above-mb", help="recycle above this MB", bound=greater_than(0)
    )  # at an item boundary, when the browser's PSS is above this
    restart_every_items: int | None = option(
        None, flag="--restart-every-items", help="recycle every N items", bound=greater_than(0)
    )
    max_attempts: int = option(
        3, flag="--max-attempts", help="failed tries in a row per code (3)", bound=greater_than(0)
    )  # per unit, Transient/BrowserCrashed failures in a row without an item done
    max_products: int | None = option(
        None, flag="--max-products", help="stop after N products", bound=greater_than(0)
    )  # run-wide
    max_products_per_code: int | None = option(
        None, flag="--max-products-per-code", help="off by default", bound=greater_than(0)
    )  # the old tools capped at 20
    item_timeout: float | None = option(
        300.0, flag="--item-timeout", help="watchdog per product, seconds", bound=greater_than(0)
    )
    new_cycle: bool = option(False, flag="--new-cycle", help="start again after a completed cycle")
    skip_invalid: bool = option(
        False,
        flag="--skip-invalid",
        help="run the clean rows; list (never guess) the rows with errors",
        resume=True,
    )
    translate_all: bool = option(
        False,
        flag="--translate-all",
        help="step3: press translate on every named image (no OCR gate)",
        step_only="step3",
        resume=True,
    )
    backoff_base: float = option(2.0, help="seconds; exponential with full jitter", bound=at_least(0))
    backoff_max: float = option(60.0, help="the longest backoff, seconds", bound=at_least(0))


@functools.cache
def option_specs(options_type: type[RunOptions] = RunOptions) -> tuple[OptionSpec, ...]:
    """The options of `options_type` (RunOptions or a subclass) in field order; `step` is not one."""
    hints = typing.get_type_hints(options_type)
    specs = []
    for f in fields(options_type):
        declared = f.metadata.get(SPEC_KEY)
        if declared is None:
            continue
        kind, optional = _split_optional(hints[f.name])
        specs.append(
            OptionSpec(
                name=f.name,
                kind=kind,
                optional=optional,
                default=f.default,
                help=declared.help,
                flag=declared.flag,
                bound=declared.bound,
                config=declared.config,
                step_only=declared.step_only,
                resume=declared.resume,
            )
        )
    return tuple(specs)


def _split_optional(hint: Any) -> tuple[type, bool]:
    """`int | None` → (int, True); `float` → (float, False)."""
    args = typing.get_args(hint)
    if not args:
        return hint, False
    rest = [a for a in args if a is not type(None)]
    if len(rest) != 1:
        raise TypeError(f"a run option is one of int, float, bool, str (or None), not {hint}")
    return rest[0], len(rest) < len(args)
