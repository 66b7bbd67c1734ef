"""examples/selenium_plugin.py end to end: the engine runs a Selenium processor against the simulator."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from stepbatch.browser.factory import browser_factory
from stepbatch.engine.options import RunOptions
from stepbatch.engine.runner import run_account
from stepbatch.simulator.testing import make_workbook, simulator
from stepbatch.simulator.verify import verify
from stepbatch.workbook import load_workbook

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "selenium_plugin.py"


def load_example():
    spec = importlib.util.spec_from_file_location("selenium_plugin_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.browser
def test_selenium_plugin_moves_every_product_of_the_step2_codes(tmp_path: Path, state_dir: Path):
    workbook_path = make_workbook(tmp_path, accounts=1, codes=6, step2_share=0.5)
    book = load_workbook(workbook_path)
    account = book.accounts[0]
    servers = book.servers(account, "step2")
    assert servers
    processor = load_example().SeleniumMoveProcessor
    with simulator(tmp_path, workbook_path) as sim:
        for server in servers:
            units = book.units(account, "step2", server)
            summary = run_account(
                state_dir=state_dir,
                account=account,
                step="step2",
                server=server,
                units=units,
                processor=processor(sim.url),
                browser_factory=browser_factory(
                    "selenium", offline=True, state_dir=state_dir, account=account.nickname
                ),
                options=RunOptions(step="step2", batch_size=2),
                handle_signals=False,
            )
            assert summary.outcome == "complete", summary.errors
            assert summary.units_done == len(units)
        result = verify(sim.db_path, workbook_path, step="step2", account=account.nickname)
    assert result.ok, result.line()
    assert result.products > 0
