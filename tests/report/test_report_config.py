"""stepbatch.toml: per-step tables, precedence (file < command line) and one-line validation errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from stepbatch.config import load_config
from stepbatch.engine.options import RunOptions
from stepbatch.errors import UserError

GOOD = """
[run]
batch_size = 5
max_attempts = 4
state_dir = "state"
workbook = "percenty_id.xlsx"
headed = false

[step3]
batch_size = 2
restart_above_mb = 1500
item_timeout = "off"

[step2]
max_products = 300

[notify]
urls = ["json://127.0.0.1:9/x", "tgram://${SB_TEST_TG_TOKEN}/12345"]
rate_limit_minutes = 5
"""


def _write(tmp_path: Path, text: str, name: str = "stepbatch.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_per_step_tables_overlay_run_and_paths_resolve_next_to_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SB_TEST_TG_TOKEN", "123:abc")
    path = _write(tmp_path, GOOD)
    config = load_config(cwd=tmp_path)
    assert config.path == path
    step3 = config.run_defaults("step3")
    assert step3["batch_size"] == 2 and step3["max_attempts"] == 4
    assert step3["restart_above_mb"] == 1500.0 and isinstance(step3["restart_above_mb"], float)
    assert step3["item_timeout"] is None
    assert step3["state_dir"] == (tmp_path / "state").resolve()
    assert step3["workbook"] == (tmp_path / "percenty_id.xlsx").resolve()
    step2 = config.run_defaults("step2")
    assert step2["batch_size"] == 5 and step2["max_products"] == 300 and "restart_above_mb" not in step2
    assert config.notify.urls == ["json://127.0.0.1:9/x", "tgram://123:abc/12345"]
    assert config.notify.rate_limit_minutes == 5.0


def test_command_line_wins_over_the_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SB_TEST_TG_TOKEN", "123:abc")
    config = load_config(_write(tmp_path, GOOD, "other.toml"))
    options, extras = config.resolve("step3", {"batch_size": 7, "max_attempts": None, "headed": True})
    assert options == RunOptions(
        step="step3", batch_size=7, max_attempts=4, restart_above_mb=1500.0, item_timeout=None
    )
    assert extras["headed"] is True and extras["state_dir"] == (tmp_path / "state").resolve()
    defaults_only, _ = load_config(cwd=tmp_path / "nowhere").resolve("step2", {})
    assert defaults_only == RunOptions(step="step2")


def test_no_file_means_defaults_but_an_explicit_missing_file_is_an_error(tmp_path) -> None:
    config = load_config(cwd=tmp_path)
    assert config.path is None and config.run_defaults("step3") == {} and config.notify.urls == []
    with pytest.raises(UserError, match=r"nope\.toml: config file not found"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[step3]\nbatch_sise = 2\n", "[step3] unknown key 'batch_sise' (did you mean 'batch_size'?)"),
        ("[setp3]\nbatch_size = 2\n", "unknown table 'setp3' (did you mean 'step3'?)"),
        ('[run]\nbatch_size = "5"\n', "[run] batch_size must be an integer, got string '5'"),
        ("[run]\nbatch_size = 2.5\n", "[run] batch_size must be an integer, got float 2.5"),
        ("[run]\nbatch_size = true\n", "[run] batch_size must be an integer, got boolean true"),
        ("[run]\nbatch_size = 0\n", "[run] batch_size must be > 0, got 0"),
        (
            '[step2]\nmax_products = "lots"\n',
            "[step2] max_products must be an integer or \"off\", got string 'lots'",
        ),
        ("[run]\nrestart_above_mb = []\n", '[run] restart_above_mb must be a number or "off", got list []'),
        ('[run]\nheaded = "yes"\n', "[run] headed must be true or false, got string 'yes'"),
        ("[run]\nstate_dir = 3\n", "[run] state_dir must be a non-empty string, got int 3"),
        ("[run]\nbackoff_base = -1\n", "[run] backoff_base must be >= 0, got -1"),
        ("run = 3\n", "[run] must be a table"),
        ("[notify]\nurls = [1, 2]\n", "[notify] urls must be a list of strings, got list [1, 2]"),
        ('[notify]\nurl = "json://x"\n', "[notify] unknown key 'url' (did you mean 'urls'?)"),
        (
            '[notify]\nurls = ["tgram://${SB_TEST_UNSET_VAR}/1"]\n',
            "[notify] urls refers to ${SB_TEST_UNSET_VAR}, but that environment variable is not set",
        ),
        ("[run\nbatch_size = 2\n", "not valid TOML"),
    ],
)
def test_each_validation_error_is_one_line_naming_file_table_and_key(tmp_path, text, message) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(UserError) as info:
        load_config(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
    assert info.value.exit_code == 2


def test_korean_text_and_non_utf8_file(tmp_path) -> None:
    path = _write(tmp_path, '[step3]\nserver = "서버2-1"\naccount = "ABC"\n')
    assert load_config(path).run_defaults("step3")["server"] == "서버2-1"
    path.write_bytes('[step3]\nserver = "서버2-1"\n'.encode("cp949"))
    with pytest.raises(UserError, match="not UTF-8 text"):
        load_config(path)
