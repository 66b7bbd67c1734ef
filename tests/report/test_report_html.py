"""The run report and summary.md rendered from generated run folders."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from report_eventgen import generate_run

from stepbatch.errors import UserError
from stepbatch.report.chart import downsample
from stepbatch.report.events import load_run, normalise_message
from stepbatch.report.html import write_report


class _Collector(HTMLParser):
    """Rows of the #codes table, hrefs, and every external resource reference."""

    def __init__(self) -> None:
        super().__init__()
        self.table: str | None = None
        self.rows: dict[str, list[str]] = {}
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.hrefs: list[str] = []
        self.external: list[str] = []
        self.restart_markers = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
        if tag == "tr" and self.table:
            self.row = []
        if tag == "td" and self.row is not None:
            self.cell = []
        if tag == "a" and a.get("href"):
            self.hrefs.append(unquote(a["href"] or ""))
        if tag in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href")):
            self.external.append(f"{tag} {a.get('src') or a.get('href')}")
        if tag == "g" and "restart-marker" in (a.get("class") or ""):
            self.restart_markers += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self.cell is not None and self.row is not None:
            self.row.append("".join(self.cell).strip())
            self.cell = None
        if tag == "tr" and self.row:
            self.rows.setdefault(self.table or "", []).append(self.row)  # type: ignore[arg-type]
            self.row = None
        if tag == "table":
            self.table = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def test_report_shows_codes_restarts_errors_and_outcome(runs_root: Path) -> None:
    run_dir, exp = generate_run(runs_root, codes=12, batch_size=4)
    html_path = write_report(run_dir)
    assert html_path == run_dir / "report.html"
    html = html_path.read_text(encoding="utf-8")
    page = _parse(html)

    codes = {row[0]: row for row in page.rows["codes"]}
    assert {k: row[1] for k, row in codes.items()} == exp.statuses
    assert codes["B11@서버2-1"][5] == "3"  # two Transient retries, then success: 3 attempts
    assert "상세페이지 이미지가 3개뿐인데" in codes["C12@서버2-1"][7]  # after the warnings column
    assert page.restart_markers == len(exp.restarts) >= 3
    assert re.search(r'id="restart-count">(\d+)<', html).group(1) == str(len(exp.restarts))
    assert 'id="outcome">complete<' in html
    assert "ABC · step3 · 서버2-1" in html

    errors = page.rows["errors"]
    by_class = {row[0]: row for row in errors}
    assert set(by_class) == {"Transient", "Permanent"}
    assert by_class["Transient"][3] == "2"  # both retries grouped although their messages differ by a number
    assert by_class["Permanent"][2] == "1" and by_class["Permanent"][4] == "C12@서버2-1"
    assert by_class["Permanent"][1].endswith("at ops.py:88 check_feasible")  # where it was raised
    assert "at " not in by_class["Transient"][1]  # an event that does not say shows nothing

    shots = [h for h in page.hrefs if h.endswith(".png")]
    assert shots and all((html_path.parent / h).resolve().is_file() for h in shots)
    assert {Path(h).name for h in shots} == {Path(s).name for s in exp.screenshots}
    assert page.external == []  # self-contained: no scripts, images or stylesheets fetched
    assert "<style>" in html and "<script>" in html
    assert '"Noto Sans KR", "Malgun Gothic", "Apple SD Gothic Neo"' in html
    assert '<meta charset="utf-8">' in html


def test_summary_md_lists_problem_codes_and_error_causes(runs_root: Path) -> None:
    run_dir, exp = generate_run(runs_root, stop_account=True)
    write_report(run_dir)
    md = (run_dir / "summary.md").read_text(encoding="utf-8")
    assert md.startswith("# ABC · step3 · 서버2-1 — stopped")
    assert f"browser restarts: {len(exp.restarts)}" in md
    assert "stopped: StopAccount: 번역 가능 횟수를 모두 사용했습니다" in md
    not_done = [k for k, v in exp.statuses.items() if v != "done"]
    section = md.split("## Codes not done", 1)[1].split("##", 1)[0]
    assert f"({len(not_done)})" in section
    for key in not_done:
        assert f"| {key} | {exp.statuses[key]} |" in section
    assert (
        "| Permanent | 상세페이지 이미지가 3개뿐인데 first:5 삭제를 요청했습니다 | 1 | 0 | C12@서버2-1 |"
        in md
    )
    assert "| StopAccount |" in md


def test_crashed_run_without_finish_and_with_a_torn_last_line(runs_root: Path) -> None:
    run_dir, _exp = generate_run(runs_root, finished=False)
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"ts": "2025-07-01T01:30:00Z", "t": 1700, "event": "ite')  # killed mid-write
    run = load_run(run_dir)
    assert run.outcome == "unfinished" and run.bad_lines == 1
    html = write_report(run_dir).read_text(encoding="utf-8")
    assert 'id="outcome">unfinished<' in html
    assert "1 unreadable line in events.jsonl was skipped" in html


def test_out_elsewhere_keeps_links_into_the_run_folder(runs_root: Path, tmp_path: Path) -> None:
    run_dir, _exp = generate_run(runs_root)
    out_dir = tmp_path / "share" / "reports"
    out_dir.mkdir(parents=True)
    html_path = write_report(run_dir, out_dir / "r.html")
    page = _parse(html_path.read_text(encoding="utf-8"))
    shots = [h for h in page.hrefs if h.endswith(".png")]
    assert shots and all((out_dir / h).resolve().is_file() for h in shots)
    assert (run_dir / "summary.md").is_file() and not (run_dir / "report.html").exists()


def test_long_runs_are_downsampled_but_keep_the_peak(runs_root: Path) -> None:
    run_dir, _ = generate_run(runs_root, codes=3)
    lines = []
    for i in range(6000):
        mb = 5000.0 if i == 4321 else 300 + (i % 50)
        lines.append(f'{{"ts": "2025-07-01T02:00:00Z", "t": {100 + i}, "event": "memory", "mb": {mb}}}')
    with (run_dir / "events.jsonl").open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    html = write_report(run_dir).read_text(encoding="utf-8")
    d = re.search(r'class="mem-line" d="([^"]+)"', html).group(1)
    points = d.count("L") + 1
    assert 100 < points <= 1500
    assert 'class="mem-point"' not in html  # no hover dots for thousands of samples
    assert "<b>5000</b>MB peak" in html
    kept = downsample(load_run(run_dir).memory)
    assert len(kept) <= 1500 and max(m.mb for m in kept) == 5000.0


def test_error_messages_differing_only_in_numbers_and_ids_group_together() -> None:
    a = normalise_message("timeout 30000 ms on 5f3a5f3a5f3a5f3a5f3a5f3a (attempt 1)")
    b = normalise_message("timeout 15000 ms on 0123456789abcdef01234567 (attempt 2)")
    assert a == b
    assert normalise_message("로그인 실패") != normalise_message("번역 실패")


def test_missing_events_file_is_a_one_line_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        write_report(tmp_path)
    assert str(tmp_path / "events.jsonl") in str(info.value) and "\n" not in str(info.value)
    assert not (tmp_path / "report.html").exists()
