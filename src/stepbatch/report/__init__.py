"""Run reports (HTML + Markdown summary) and notifications."""

from stepbatch.report.events import RunData, load_run
from stepbatch.report.html import render_summary_md, write_report, write_report_quietly
from stepbatch.report.notify import Notifier, RateLimit, send_test
from stepbatch.report.runs import find_run, list_runs

__all__ = [
    "Notifier",
    "RateLimit",
    "RunData",
    "find_run",
    "list_runs",
    "load_run",
    "render_summary_md",
    "send_test",
    "write_report",
    "write_report_quietly",
]
