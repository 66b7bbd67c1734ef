"""Choosing the processor: built-in Percenty steps, or a plugin `package.module:Class`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from stepbatch.app.processors import build_processor
from stepbatch.errors import UserError
from stepbatch.sites.percenty import Step2Processor, Step3Processor

PLUGIN = """
class LegacyStep3:
    step = "step3"

    def __init__(self, base_url):
        self.base_url = base_url

    def open(self, browser, account):
        pass

    def process(self, unit, ctx):
        pass


class WrongStep(LegacyStep3):
    step = "step2"


class NotAProcessor:
    def __init__(self):
        pass
"""


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "operator_steps.py").write_text(PLUGIN, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "operator_steps"
    sys.modules.pop("operator_steps", None)


def test_builtin_processors_per_step():
    assert isinstance(build_processor("step3", "http://x", max_products_per_code=7), Step3Processor)
    assert build_processor("step3", "http://x", max_products_per_code=7).max_products_per_code == 7
    assert isinstance(build_processor("step2", "http://x"), Step2Processor)


def test_plugin_gets_the_base_url(plugin_module: str):
    processor = build_processor("step3", "http://127.0.0.1:9", plugin=f"{plugin_module}:LegacyStep3")
    assert type(processor).__name__ == "LegacyStep3" and processor.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("operator_steps:WrongStep", "is for 'step2', not 'step3'"),
        ("operator_steps:NotAProcessor", "needs a `step` attribute"),
        ("operator_steps:Missing", "has no class 'Missing'"),
        ("operator_steps", "expected package.module:Class"),
    ],
)
def test_bad_plugins_are_user_errors(plugin_module: str, spec: str, message: str):
    with pytest.raises(UserError, match="--processor") as info:
        build_processor("step3", "http://x", plugin=spec)
    assert message in str(info.value)
