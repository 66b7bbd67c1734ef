"""`stepbatch run` refuses unusable arguments up front: one line naming the culprit, exit 2."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from e2e_support import stepbatch_cli

from stepbatch.app.progress import ProgressModel
from stepbatch.workbook import load_workbook, write_sample_workbook


@pytest.fixture(scope="module")
def workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_workbook(tmp_path_factory.mktemp("wb") / "tasks.xlsx", accounts=2, codes=6, seed=3)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return stepbatch_cli("run", *args, cwd=cwd)


def base_args(workbook: Path, state: Path, account: str) -> list[str]:
    return [
        "--workbook",
        str(workbook),
        "--account",
        account,
        "--state-dir",
        str(state),
        "--base-url",
        f"http://127.0.0.1:{free_port()}",
    ]


@pytest.mark.parametrize(
    ("extra", "step", "expected"),
    [
        ([], "step4", "unknown step 'step4'"),
        (["--batch-size", "0"], "step3", "--batch-size must be greater than 0"),
        (["--max-attempts", "-1"], "step3", "--max-attempts must be greater than 0"),
        ([], "step3", "--base-url http://127.0.0.1:"),  # nothing listens on that port
        (["--chrome-binary", "/nonexistent/chrome"], "step3", "--chrome-binary: no browser at"),
        (["--processor", "no_such_pkg.mod:Thing"], "step3", "--processor 'no_such_pkg.mod:Thing'"),
        (["--accounts", "some"], "step3", "--accounts 'some': only `all`"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(workbook, tmp_path, extra, step, expected):
    account = load_workbook(workbook).accounts[0].email
    state = tmp_path / "state"
    args = [step, *base_args(workbook, state, account), *extra]
    if "--accounts" in extra:
        args.remove("--account")
        args.remove(account)
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (state / "progress").exists()


def test_unknown_account_lists_the_choices(workbook, tmp_path):
    proc = run_cli("step3", *base_args(workbook, tmp_path / "state", "nobody@example.com"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "no account 'nobody@example.com'" in proc.stderr and "choose one of" in proc.stderr


def test_missing_workbook_names_the_file(tmp_path):
    proc = run_cli("step2", *base_args(tmp_path / "missing.xlsx", tmp_path / "state", "x"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "missing.xlsx" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_model_counts_from_events():
    model = ProgressModel()
    events = [
        {
            "event": "run_started",
            "t": 0,
            "units_total": 10,
            "units_remaining": 4,
            "batches": 2,
            "account": "ABC",
            "step": "step3",
            "server": None,
        },
        {"event": "batch_started", "t": 1, "batch": 1, "batches": 2},
        {"event": "unit_started", "t": 1, "unit": "X12@서버1"},
        {"event": "item", "t": 2, "status": "done"},
        {"event": "item", "t": 3, "status": "failed"},
        {"event": "memory", "t": 3, "mb": 412.4},
        {"event": "unit_finished", "t": 4, "unit": "X12@서버1", "status": "done"},
    ]
    for rec in events:
        model.apply(rec)
    assert model.units_done_total == 7
    assert (model.items_done, model.items_failed) == (1, 1)
    assert model.eta_s() == pytest.approx(12.0)  # 4 s for one unit, 3 left
    line = model.line()
    assert "codes 7/10" in line and "batch 1/2" in line and "412 MB" in line and "X12@서버1" in line
