"""The verifier: a correct end state is clean; a missed product, a repeat, an unexpected change are caught."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from stepbatch.simulator import testing
from stepbatch.simulator.faults import Faults
from stepbatch.simulator.server import SimulatorServer
from stepbatch.simulator.verify import verify
from stepbatch.workbook import load_workbook


def _run_correctly(sim, workbook: Path, step: str | None = None) -> int:
    """The ideal automation over the API, for every account and code (of one step). Returns products done."""
    wb = load_workbook(workbook)
    done = 0
    for acc in wb.accounts:
        with testing.ApiClient(sim.url, acc) as api:
            for s in (step,) if step else ("step2", "step3"):
                for unit in wb.units(acc, s, strict=False):
                    for p in api.search(unit.provider_code):
                        api.apply_unit(p["id"], unit)
                        done += 1
    return done


@pytest.fixture(scope="module")
def small_workbook(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return testing.make_workbook(tmp_path_factory.mktemp("vwb"), accounts=1, codes=6, seed=11)


@pytest.fixture(scope="module")
def done_db(tmp_path_factory: pytest.TempPathFactory, small_workbook: Path) -> tuple[Path, int]:
    """A database after a correct run of the whole workbook (made once, copied by each test)."""
    folder = tmp_path_factory.mktemp("done")
    with testing.simulator(folder, small_workbook, faults=Faults(translate_ms=0)) as sim:
        n = _run_correctly(sim, small_workbook)
    assert n > 50
    return sim.db_path, n


@pytest.fixture
def done_sim(tmp_path: Path, done_db: tuple[Path, int]):
    db, n = done_db
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", tmp_path / f"sim.db{suffix}")
    with SimulatorServer(tmp_path / "sim.db", faults=Faults(translate_ms=0)) as sim:
        yield sim, n


def test_correct_run_verifies_clean(done_sim, small_workbook: Path) -> None:
    sim, n = done_sim
    result = verify(sim.db_path, small_workbook)
    assert result.ok, [d.line() for d in result.details]
    assert result.presses > 0
    assert result.line() == (
        f"verified {n} products: 0 missing, 0 repeated, 0 unexpected; "
        f"translate presses: {result.presses}, 0 wasted"
    )
    assert result.credits_left == {
        wb.email: 10_000 - result.presses for wb in load_workbook(small_workbook).accounts
    }


def test_a_gated_press_on_a_picture_without_chinese_is_wasted_and_a_second_press_repeated(
    done_sim, small_workbook: Path
) -> None:
    sim, _ = done_sim
    wb = load_workbook(small_workbook)
    acc = wb.accounts[0]
    gated = ("specific_all", "special")
    with testing.ApiClient(sim.url, acc) as api:
        unit = next(
            u
            for u in wb.units(acc, "step3")
            if any(op.action.value == "image_translate" and op.command.kind.value in gated for op in u.ops)
            and api.search(u.provider_code, group=u.target_group)
        )
        product = api.search(unit.provider_code, group=unit.target_group)[0]["id"]
        detail = api.get(f"/api/products/{product}")["detail"]
        plain = next(im for im in detail if not im["src"].endswith(("-zh.png", "-tr.png")))
        translated = next(im for im in detail if im["src"].endswith("-tr.png"))
        api.post(f"/api/products/{product}/translate", {"list": "detail", "image": plain["id"]})
        result = verify(sim.db_path, small_workbook)
        assert result.ok and result.wasted == 1, [d.line() for d in result.details]
        api.post(f"/api/products/{product}/translate", {"list": "detail", "image": translated["id"]})
    result = verify(sim.db_path, small_workbook)
    assert {d.product for d in result.details if d.kind == "repeated"} == {product}
    assert result.wasted == 1 and result.missing == 0 and result.unexpected == 0


def test_missed_product_is_reported(tmp_path: Path, small_workbook: Path) -> None:
    with testing.simulator(tmp_path, small_workbook, faults=Faults(translate_ms=0)) as sim:
        _check_missed(sim, small_workbook)


def _check_missed(sim, small_workbook: Path) -> None:
    _run_correctly(sim, small_workbook, step="step2")
    wb = load_workbook(small_workbook)
    acc = wb.accounts[0]
    with testing.ApiClient(sim.url, acc) as api:
        unit = next(u for u in wb.units(acc, "step3") if u.ops and api.search(u.provider_code))
        products = api.search(unit.provider_code)
        for p in products[1:]:
            api.apply_unit(p["id"], unit)
        skipped = products[0]["id"]
    result = verify(sim.db_path, small_workbook, step="step3", account=acc.email)
    missing = {d.product for d in result.details if d.kind == "missing"}
    assert skipped in missing
    assert result.repeated == 0 and result.unexpected == 0
    assert verify(sim.db_path, small_workbook, step="step2").ok


def test_repeated_op_is_reported(done_sim, small_workbook: Path) -> None:
    sim, _ = done_sim
    wb = load_workbook(small_workbook)
    acc = wb.accounts[0]
    with testing.ApiClient(sim.url, acc) as api:
        unit = next(
            u
            for u in wb.units(acc, "step3")
            if any(op.action.value == "image_delete" for op in u.ops)
            and api.search(u.provider_code, group=u.target_group)
        )
        victim = api.search(unit.provider_code, group=unit.target_group)[0]["id"]
        api.apply_unit(victim, unit)  # the whole edit again, as after a failed move
    result = verify(sim.db_path, small_workbook)
    assert {d.product for d in result.details if d.kind == "repeated"} == {victim}
    assert result.repeated == 1 and result.missing == 0 and result.unexpected == 0


def test_unexpected_mutation_and_cli(done_sim, small_workbook: Path) -> None:
    sim, n = done_sim
    wb = load_workbook(small_workbook)
    acc = wb.accounts[0]
    with testing.ApiClient(sim.url, acc) as api:
        stranger = next(
            p
            for p in api.get("/api/products", group="전체", size=100)["items"]
            if p["memo"].split("-")[-1]
            not in {u.provider_code for s in ("step2", "step3") for u in wb.units(acc, s)}
        )
        detail = api.get(f"/api/products/{stranger['id']}")["detail"]
        api.post(
            f"/api/products/{stranger['id']}/images/delete", {"list": "detail", "image": detail[0]["id"]}
        )
    result = verify(sim.db_path, small_workbook)
    assert [d.product for d in result.details] == [stranger["id"]]
    assert result.unexpected == 1
    cmd = [
        sys.executable,
        "-m",
        "stepbatch",
        "simulator",
        "verify",
        "--db",
        str(sim.db_path),
        "--workbook",
        str(small_workbook),
        "-v",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert out.returncode == 1, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith(f"verified {n} products: 0 missing, 0 repeated, 1 unexpected; translate")
    assert stranger["id"] in lines[1]


def test_verify_cli_bad_input_is_one_line(tmp_path: Path, small_workbook: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "stepbatch",
        "simulator",
        "verify",
        "--db",
        str(tmp_path / "none.db"),
        "--workbook",
        str(small_workbook),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: --db {tmp_path / 'none.db'}: no such simulator database"
    ]
