"""`stepbatch.toml`: run defaults per step and notification settings.

Every `stepbatch run` option may come from the file; the command line wins. Layout:

    [run]            # defaults for every step
    batch_size = 5
    state_dir = "stepbatch-state"
    [step3]          # overrides for one step
    batch_size = 2
    restart_above_mb = 1500
    skip_invalid = true   # --skip-invalid; translate_all (--translate-all) belongs here too, step3 only
    [notify]
    urls = ["tgram://${TELEGRAM_BOT_TOKEN}/123456"]

Relative paths are resolved against the folder of the file. `${NAME}` in notify URLs is replaced by the
environment variable NAME, so tokens stay out of committed files. Optional numbers accept `"off"`.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stepbatch.engine.options import Bound, RunOptions, greater_than, option_specs
from stepbatch.errors import UserError

CONFIG_NAME = "stepbatch.toml"
STEPS: tuple[str, ...] = ("step2", "step3")
OFF = "off"

# Keys of `stepbatch run` that are not RunOptions fields: value kind for each.
CLI_KEYS: dict[str, str] = {
    "workbook": "path",
    "account": "str",
    "server": "str",
    "state_dir": "path",
    "base_url": "str",
    "headed": "bool",
    "browser": "str",
    "chrome_binary": "path",
}

NOTIFY_KEYS: dict[str, str] = {
    "urls": "list of str",
    "rate_limit_minutes": "float",
    "max_per_minute": "int",
    "repeated_failures": "int",
    "timeout_s": "float",
}
NOTIFY_BOUND = greater_than(0)

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class ConfigKey:
    """How one key of [run] / [stepN] is checked: its kind (`int`, `path`, … with `?` when "off" is
    allowed) and the bound a number must satisfy."""

    kind: str
    bound: Bound | None = None


def run_keys(options_type: type[RunOptions] = RunOptions) -> dict[str, ConfigKey]:
    """The keys of [run] / [stepN]: the options' stepbatch.toml keys, then CLI_KEYS."""
    keys = {
        spec.name: ConfigKey(spec.kind.__name__ + ("?" if spec.optional else ""), spec.bound)
        for spec in option_specs(options_type)
        if spec.config
    }
    return {**keys, **{key: ConfigKey(kind) for key, kind in CLI_KEYS.items()}}


@dataclass
class NotifyConfig:
    urls: list[str] = field(default_factory=list)
    rate_limit_minutes: float = 10.0  # one message per kind per code per this many minutes
    max_per_minute: int = 6  # global cap; more are dropped with a log line
    repeated_failures: int = 3  # notify when one code has failed this many attempts
    timeout_s: float = 10.0  # per send


@dataclass
class StepbatchConfig:
    path: Path | None = None  # None when no file was found
    run: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    options_type: type[RunOptions] = RunOptions  # whose options [run] / [stepN] hold

    def run_defaults(self, step: str) -> dict[str, Any]:
        """`[run]` overlaid by `[<step>]`: keys are RunOptions field names plus CLI_KEYS."""
        return {**self.run, **self.steps.get(step, {})}

    def resolve(self, step: str, cli: dict[str, Any]) -> tuple[RunOptions, dict[str, Any]]:
        """Merge file defaults with command-line values (None = not given on the command line).

        Returns the RunOptions and the CLI-only settings (workbook, state_dir, ...).
        """
        merged = self.run_defaults(step)
        merged.update({k: v for k, v in cli.items() if v is not None})
        option_names = {spec.name for spec in option_specs(self.options_type)}
        options = self.options_type(step=step, **{k: v for k, v in merged.items() if k in option_names})
        extras = {k: v for k, v in merged.items() if k not in option_names}
        return options, extras


def load_config(
    path: Path | None = None, cwd: Path | None = None, *, options_type: type[RunOptions] = RunOptions
) -> StepbatchConfig:
    """Read `path` (must exist) or `<cwd>/stepbatch.toml` (optional). Raises UserError on any problem."""
    if path is None:
        candidate = Path(cwd or Path.cwd()) / CONFIG_NAME
        if not candidate.is_file():
            return StepbatchConfig(options_type=options_type)
        path = candidate
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    return _parse(path, data, options_type)


def _parse(path: Path, data: dict[str, Any], options_type: type[RunOptions]) -> StepbatchConfig:
    config = StepbatchConfig(path=path, options_type=options_type)
    keys = run_keys(options_type)
    for table, value in data.items():
        if table not in ("run", "notify", *STEPS):
            raise UserError(_unknown(path, None, table, ["run", "notify", *STEPS], what="table"))
        if not isinstance(value, dict):
            raise UserError(f"{path}: [{table}] must be a table, e.g. `[{table}]` on its own line")
        if table == "notify":
            config.notify = _parse_notify(path, value)
        elif table == "run":
            config.run = _parse_run_table(path, table, value, keys)
        else:
            config.steps[table] = _parse_run_table(path, table, value, keys)
    return config


def _parse_run_table(
    path: Path, table: str, values: dict[str, Any], keys: dict[str, ConfigKey]
) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if key not in keys:
            raise UserError(_unknown(path, table, key, list(keys)))
        parsed[key] = _check_value(path, table, key, value, keys[key].kind, keys[key].bound)
    return parsed


def _parse_notify(path: Path, values: dict[str, Any]) -> NotifyConfig:
    notify = NotifyConfig()
    for key, value in values.items():
        if key not in NOTIFY_KEYS:
            raise UserError(_unknown(path, "notify", key, list(NOTIFY_KEYS)))
        if key == "urls":
            urls = [value] if isinstance(value, str) else value
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise UserError(_expected(path, "notify", key, "a list of strings", value))
            notify.urls = [_expand_env(path, u) for u in urls]
        else:
            checked = _check_value(path, "notify", key, value, NOTIFY_KEYS[key], NOTIFY_BOUND)
            setattr(notify, key, checked)
    return notify


def _check_value(path: Path, table: str, key: str, value: Any, kind: str, bound: Bound | None) -> Any:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if optional and isinstance(value, str) and value.strip().lower() == OFF:
        return None
    if kind == "bool":
        if not isinstance(value, bool):
            raise UserError(_expected(path, table, key, "true or false", value))
        return value
    if kind in ("str", "path"):
        if not isinstance(value, str) or not value.strip():
            raise UserError(_expected(path, table, key, "a non-empty string", value))
        return (path.parent / value).resolve() if kind == "path" else value
    number_types = (int,) if kind == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, number_types):
        expected = "an integer" if kind == "int" else "a number"
        raise UserError(_expected(path, table, key, expected + (' or "off"' if optional else ""), value))
    if bound is not None and not bound.allows(value):
        raise UserError(f"{path}: [{table}] {key} must be {bound.symbol}, got {value}")
    return float(value) if kind == "float" else value


def _expand_env(path: Path, url: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise UserError(
                f"{path}: [notify] urls refers to ${{{name}}}, but that environment variable is not set"
            )
        return os.environ[name]

    return _ENV_REF.sub(repl, url)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, dict):
        return "a table"
    return f"{type(value).__name__} {value!r}"


def _expected(path: Path, table: str, key: str, expected: str, value: Any) -> str:
    return f"{path}: [{table}] {key} must be {expected}, got {_describe(value)}"


def _unknown(path: Path, table: str | None, key: str, known: list[str], what: str = "key") -> str:
    where = f"[{table}] " if table else ""
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(sorted(known))
    return f"{path}: {where}unknown {what} {key!r} ({hint})"
