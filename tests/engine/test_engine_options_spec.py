"""Run options are declared once, as RunOptions fields: the CLI, check_options, the --accounts all child
command line and stepbatch.toml are all built from those declarations."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import stepbatch.app.run as app_run
from stepbatch.app.run import RunRequest, check_options, child_command, with_flags
from stepbatch.cli import app as stepbatch_app
from stepbatch.cli.run_cmds import run_command
from stepbatch.config import load_config, run_keys
from stepbatch.engine.options import (
    OptionSpec,
    RunOptions,
    at_least,
    greater_than,
    option,
    option_specs,
)
from stepbatch.errors import UserError

CONFIG_ONLY = {"backoff_base", "backoff_max"}  # deliberately not `stepbatch run` flags


@dataclass
class WithLogins(RunOptions):
    """RunOptions plus two options a later change might add, each written once."""

    login_retries: int | None = option(
        None, flag="--login-retries", help="logins to try per browser", bound=greater_than(0)
    )
    fast_mode: bool = option(False, flag="--fast-mode", help="skip the polite waits", step_only="step2")


@pytest.fixture(autouse=True)
def _no_stepbatch_toml_around(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)


def _help(app: typer.Typer) -> str:
    result = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def _app(options_type: type[RunOptions]) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command(name="run")(run_command(options_type))

    @app.callback()
    def _root() -> None: ...

    return app


def _parsed(monkeypatch, app: typer.Typer, *args: str) -> RunRequest:
    """The RunRequest `stepbatch run ARGS` hands to run_one (nothing is run)."""
    seen: list[RunRequest] = []
    monkeypatch.setattr(app_run, "run_one", lambda req: seen.append(req) or 0)
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output
    [req] = seen
    return req


def test_every_run_option_is_declared_and_reachable_from_the_cli_and_the_config() -> None:
    specs = option_specs()
    assert [s.name for s in specs] == [f.name for f in fields(RunOptions) if f.name != "step"]
    help_text = _help(stepbatch_app)
    keys = run_keys()
    for spec in specs:
        assert spec.config and spec.name in keys, spec.name
        if spec.name in CONFIG_ONLY:
            assert spec.flag is None
            continue
        assert spec.flag == "--" + spec.name.replace("_", "-")
        assert spec.flag in help_text and spec.help in help_text, spec.name
        if spec.kind in (int, float):
            assert spec.bound is not None, f"{spec.name}: every number says which values work"


def test_specs_carry_the_field_types_defaults_and_declarations() -> None:
    by_name = {s.name: s for s in option_specs()}
    assert by_name["batch_size"] == OptionSpec(
        "batch_size", int, False, 5, "provider codes per browser (5)", "--batch-size", greater_than(0)
    )
    assert (by_name["item_timeout"].kind, by_name["item_timeout"].optional) == (float, True)
    assert by_name["item_timeout"].default == 300.0
    assert by_name["backoff_base"].bound == at_least(0) and by_name["backoff_base"].label == (
        "backoff_base in stepbatch.toml"
    )
    assert by_name["translate_all"].step_only == "step3" and by_name["translate_all"].resume
    assert by_name["new_cycle"].command_line(True) == ["--new-cycle"]
    assert by_name["new_cycle"].command_line(False) == []
    assert by_name["max_products"].command_line(None) == []
    assert by_name["restart_above_mb"].command_line(1500.0) == ["--restart-above-mb", "1500.0"]
    assert (greater_than(0).words, greater_than(0).symbol) == ("greater than 0", "> 0")
    assert (at_least(1).words, at_least(1).symbol) == ("at least 1", ">= 1")


def test_an_option_of_two_types_is_refused() -> None:
    @dataclass
    class Odd(RunOptions):
        either: int | str = option(1, flag="--either")

    with pytest.raises(TypeError, match="one of int, float, bool, str"):
        option_specs(Odd)


def test_a_new_option_written_once_is_on_the_command_line(monkeypatch) -> None:
    help_text = _help(_app(WithLogins))
    assert "--login-retries" in help_text and "logins to try per browser" in help_text
    assert "--fast-mode" in help_text and "--batch-size" in help_text
    assert "--login-retries" not in _help(stepbatch_app)
    req = _parsed(
        monkeypatch, _app(WithLogins), "step2", "-w", "w.xlsx", "--login-retries", "4", "--fast-mode"
    )
    assert isinstance(req.options, WithLogins)
    assert (req.options.login_retries, req.options.fast_mode, req.options.batch_size) == (4, True, 5)
    plain = _parsed(monkeypatch, _app(WithLogins), "step2", "-w", "w.xlsx")
    assert (plain.options.login_retries, plain.options.fast_mode) == (None, False)


def test_a_new_option_written_once_is_checked() -> None:
    check_options(WithLogins(step="step2", login_retries=1, fast_mode=True))
    with pytest.raises(UserError, match=r"^--login-retries must be greater than 0, got 0$"):
        check_options(WithLogins(login_retries=0))
    expected = (
        r"^--fast-mode \(fast_mode in stepbatch.toml\) is for step2 only, not step3; put it under \[step2\]$"
    )
    with pytest.raises(UserError, match=expected):
        check_options(WithLogins(step="step3", fast_mode=True))


def test_a_new_option_written_once_reaches_the_child_process(monkeypatch) -> None:
    options = WithLogins(step="step2", login_retries=4, fast_mode=True)
    cmd = child_command(RunRequest(step="step2", workbook=Path("w.xlsx"), options=options), "a@x", Path("s"))
    assert cmd[cmd.index("--login-retries") + 1] == "4" and "--fast-mode" in cmd
    plain = child_command(
        RunRequest(step="step2", workbook=Path("w.xlsx"), options=WithLogins()), "a@x", Path("s")
    )
    assert "--login-retries" not in plain and "--fast-mode" not in plain
    back = _parsed(monkeypatch, _app(WithLogins), *cmd[4:])  # the child parses what the parent wrote
    assert back.options == options


def test_a_new_option_written_once_is_a_stepbatch_toml_key(tmp_path, monkeypatch) -> None:
    path = tmp_path / "stepbatch.toml"
    path.write_text("[run]\nlogin_retries = 2\n[step2]\nfast_mode = true\n", encoding="utf-8")
    config = load_config(path, options_type=WithLogins)
    options, _ = config.resolve("step2", {"login_retries": None})
    assert (options.login_retries, options.fast_mode) == (2, True)
    assert (
        load_config(path, options_type=WithLogins).resolve("step3", {"login_retries": 5})[0].login_retries
        == 5
    )
    req = _parsed(monkeypatch, _app(WithLogins), "step2", "-w", "w.xlsx", "--config", str(path))
    assert (req.options.login_retries, req.options.fast_mode) == (2, True)
    for text, message in [
        ("[run]\nlogin_retries = 0\n", "[run] login_retries must be > 0, got 0"),
        ('[run]\nlogin_retries = "x"\n', "[run] login_retries must be an integer or \"off\", got string 'x'"),
        ("[step2]\nfast_mode = 1\n", "[step2] fast_mode must be true or false, got int 1"),
        ("[run]\nlogin_retry = 2\n", "[run] unknown key 'login_retry' (did you mean 'login_retries'?)"),
    ]:
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UserError) as info:
            load_config(path, options_type=WithLogins)
        assert message in str(info.value)
    path.write_text('[run]\nlogin_retries = "off"\n', encoding="utf-8")
    assert load_config(path, options_type=WithLogins).run_defaults("step2") == {"login_retries": None}
    with pytest.raises(UserError, match="unknown key 'login_retries'"):
        load_config(path)  # plain RunOptions has no such key


def test_the_child_command_parses_back_to_the_same_options(monkeypatch) -> None:
    every = RunOptions(
        step="step3",
        batch_size=2,
        restart_above_mb=900.5,
        restart_every_items=7,
        max_attempts=4,
        max_products=30,
        max_products_per_code=3,
        item_timeout=45.0,
        new_cycle=True,
        skip_invalid=True,
        translate_all=True,
    )
    for options in (every, RunOptions(), replace(every, item_timeout=None, max_products=None)):
        req = RunRequest(step=options.step, workbook=Path("w.xlsx"), options=options, server="서버2-1")
        back = _parsed(monkeypatch, stepbatch_app, *child_command(req, "a@x", Path("s.json"))[4:])
        expected = options if options.item_timeout is not None else replace(options, item_timeout=300.0)
        assert back.options == expected and back.server == "서버2-1" and back.account == "a@x"


def test_the_resume_hint_keeps_every_option_marked_resume() -> None:
    resume = [s.flag for s in option_specs() if s.resume]
    assert resume == ["--skip-invalid", "--translate-all"]
    assert with_flags("stepbatch run step3", RunOptions(new_cycle=True, skip_invalid=True)) == (
        "stepbatch run step3 --skip-invalid"
    )
