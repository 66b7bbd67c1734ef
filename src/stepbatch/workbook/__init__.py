"""The operators' Excel task file: reading, validating and generating it (a leaf package)."""

from __future__ import annotations

from stepbatch.workbook.book import Workbook, load_workbook
from stepbatch.workbook.grammar import CommandError, parse_cell
from stepbatch.workbook.models import (
    Account,
    AccountNotFound,
    Action,
    Command,
    CommandKind,
    EditOp,
    Problem,
    Secret,
    Unit,
    WorkbookError,
)
from stepbatch.workbook.sample import write_sample_workbook
from stepbatch.workbook.skipped import SkippedRow

__all__ = [
    "Account",
    "AccountNotFound",
    "Action",
    "Command",
    "CommandError",
    "CommandKind",
    "EditOp",
    "Problem",
    "Secret",
    "SkippedRow",
    "Unit",
    "Workbook",
    "WorkbookError",
    "load_workbook",
    "parse_cell",
    "write_sample_workbook",
]
