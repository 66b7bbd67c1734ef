"""`stepbatch probe` on the simulator: every locator found, nothing changed, no secret saved; a renamed
element is named as missing; a bad account is one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from e2e_support import Sim, simulator, stepbatch_cli

from stepbatch.simulator.faults import Faults
from stepbatch.simulator.testing import query
from stepbatch.sites.percenty.scrub import Scrubber
from stepbatch.workbook import write_sample_workbook

pytestmark = pytest.mark.browser

SCREENS = ("list", "row-select", "group-modal", "tab-options", "tab-thumbnails", "tab-detail")
EDITOR_SCREENS = ("bulk-drawer", "image-editor")


def probe(sim: Sim, cwd: Path, *extra: str, account: str | None = None) -> subprocess.CompletedProcess[str]:
    who = account or sim.book.accounts[0].email
    where = ["--workbook", str(sim.workbook), "--account", who, "--base-url", sim.url]
    return stepbatch_cli("probe", *where, *extra, cwd=cwd, timeout=180)


def audit_events(sim: Sim) -> tuple[int, int]:
    """The write events as the API lists them and as the database counts them."""
    listed = httpx.get(sim.url + "/api/audit", timeout=10).json()
    return len(listed), query(sim.db_path, "SELECT COUNT(*) FROM audit")[0][0]


def rows(folder: Path) -> dict[str, dict]:
    report = json.loads((folder / "probe.json").read_text(encoding="utf-8"))
    return {f"{c['screen']}/{c['name']}": c for c in report["checks"]}


def assert_no_secret_saved(sim: Sim, folder: Path) -> None:
    account = sim.book.accounts[0]
    secrets = [account.password.reveal().encode(), account.email.lower().encode()]
    for path in folder.iterdir():
        data = path.read_bytes().lower()
        assert not [s for s in secrets if s.lower() in data], f"{path.name} holds the password or the e-mail"


def test_probe_finds_every_locator_and_changes_nothing(tmp_path: Path):
    out = tmp_path / "probe-out"
    with simulator(tmp_path, faults=Faults(translate_ms=30), codes=2, per_code=2) as sim:
        before = audit_events(sim)
        proc = probe(sim, tmp_path, "--out", str(out))
        assert audit_events(sim) == before == (0, 0), "the probe wrote to the site"
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = rows(out)
    assert len(checks) >= 40 and all(c["status"] == "found" for c in checks.values()), checks
    lines = proc.stdout.strip().splitlines()
    assert lines[-1] == f"probe: {len(checks)} locators, all found"
    for check in checks.values():  # one table row per check, each found
        assert any(check["name"] in line and "found" in line for line in lines), check["name"]
    for word in ("missing", "ambiguous", "skipped", "error"):
        assert word not in proc.stdout
    names = {p.name for p in out.iterdir()}
    for screen in SCREENS + EDITOR_SCREENS:
        assert any(n.endswith(f"-{screen}.png") for n in names), (screen, names)
        assert any(n.endswith(f"-{screen}.html") for n in names), (screen, names)
    assert_no_secret_saved(sim, out)
    assert sim.book.accounts[0].password.reveal() not in proc.stdout + proc.stderr
    assert "<script" in (next(out.glob("*-list.html"))).read_text(encoding="utf-8")


def test_renamed_bulk_edit_button_is_missing_and_what_needs_it_skipped(tmp_path: Path):
    out = tmp_path / "probe-out"
    faults = Faults(translate_ms=30, rename_element="bulk-edit")
    with simulator(tmp_path, faults=faults, codes=2, per_code=2) as sim:
        proc = probe(sim, tmp_path, "--out", str(out))
        assert audit_events(sim) == (0, 0)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("probe: ") and "missing or ambiguous" in last and "BULK_EDIT_BUTTON" in last
    checks = rows(out)
    assert checks["tab 5 detail/BULK_EDIT_BUTTON"]["status"] == "missing"
    for name in ("BULK_DRAWER", "IMAGE_COUNT_TEXT", "CARD_EDIT"):
        assert checks[f"bulk drawer/{name}"]["status"] == "skipped"
    for name in ("TRANSLATE_BUTTON", "EDITOR_THUMB", "EDITOR_SAVE"):
        assert checks[f"image editor/{name}"]["status"] == "skipped"
    assert checks["tab 5 detail/CK_EDITABLE"]["status"] == "found"  # the walk went on
    assert any(p.name.endswith("-tab-detail.png") for p in out.iterdir())  # that screen was saved
    assert "Traceback" not in proc.stdout + proc.stderr
    assert_no_secret_saved(sim, out)


def test_renamed_editor_thumbs_are_missing_default_out_folder(tmp_path: Path):
    faults = Faults(translate_ms=30, rename_element="thumb")
    with simulator(tmp_path, faults=faults, codes=2, per_code=2) as sim:
        proc = probe(sim, tmp_path, account=sim.book.accounts[0].nickname)
        assert audit_events(sim) == (0, 0)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert "EDITOR_THUMB" in last and "BULK_EDIT_BUTTON" not in last
    [out] = (tmp_path / "stepbatch-probe").iterdir()  # ./stepbatch-probe/<timestamp>/
    checks = rows(out)
    assert checks["image editor/EDITOR_THUMB"]["status"] == "missing"
    assert checks["image editor/EDITOR_CANVAS"]["status"] == "found"
    assert any(p.name.endswith("-image-editor.png") for p in out.iterdir())
    assert_no_secret_saved(sim, out)


def test_unknown_account_is_one_line_exit_2(tmp_path: Path):
    workbook = write_sample_workbook(tmp_path / "tasks.xlsx", accounts=1, codes=2, seed=5)
    cmd = [sys.executable, "-m", "stepbatch", "probe", "--workbook", str(workbook), "--account", "nobody"]
    proc = subprocess.run(
        [*cmd, "--base-url", "http://127.0.0.1:9", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no account 'nobody'" in lines[0] and "choose one of" in lines[0], lines
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_scrubber_removes_secrets_scripts_and_tokens_but_keeps_class_names():
    jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcDEF123ghiJKL456mnoPQR789stu"
    page = (
        '<input type="password" value="hunter2-secret" id="password">'
        '<span class="ant-select-selection-search-input">Seller01@Example.com</span>'
        f'<meta name="csrf" content="{jwt}"><a href="/x?u=seller01%40example.com">me</a>'
        "<script>window.token = 'abc'; const pw = 'hunter2-secret';</script>"
    )
    clean = Scrubber("hunter2-secret", "seller01@example.com").html(page)
    assert "hunter2-secret" not in clean and "value=" not in clean
    assert "example.com" not in clean.lower() and clean.count("***@***") == 2
    assert "eyJ" not in clean and "[redacted]" in clean
    assert "<script></script>" in clean and "token" not in clean
    assert "ant-select-selection-search-input" in clean
