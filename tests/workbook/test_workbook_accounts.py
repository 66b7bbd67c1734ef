"""Account resolution and password handling."""

from __future__ import annotations

import logging

import pytest
from workbook_helpers import task_row

from stepbatch.workbook import AccountNotFound, Secret, WorkbookError, load_workbook
from stepbatch.workbook.models import Account

PASSWORD = "s3cret-Passw0rd!"


@pytest.fixture
def book(make_book):
    login = [
        ["seller01@example.com", PASSWORD, "김하늘", "ABC"],
        ["seller02@example.com", "other-pw", "이서준", "DEF"],
        ["seller03@example.com", "third-pw", "박지우", "GHI"],
    ]
    return load_workbook(make_book({"ABC": [task_row("X12")], "DEF": [task_row("Y34")]}, login=login))


@pytest.mark.parametrize(
    "spec", ["seller02@example.com", "SELLER02@example.com", "DEF", "def", "account_2", " DEF "]
)
def test_account_by_email_nickname_or_row(book, spec) -> None:
    account = book.account(spec)
    assert (account.email, account.nickname, account.operator, account.index) == (
        "seller02@example.com",
        "DEF",
        "이서준",
        2,
    )
    assert account.virtual_id == "account_2"


def test_account_object_is_accepted(book) -> None:
    assert book.units(book.accounts[1], "step3")[0].provider_code == "Y34"


def test_unknown_account_lists_the_choices(book) -> None:
    with pytest.raises(AccountNotFound) as info:
        book.account("account_9")
    message = str(info.value)
    assert "account_9" in message and "seller01@example.com (ABC, account_1)" in message
    assert "DEF" in message and "\n" not in message
    assert PASSWORD not in message
    assert isinstance(info.value, WorkbookError)


def test_missing_task_sheet_is_a_problem_then_an_error_when_selected(book) -> None:
    (problem,) = book.problems
    assert (problem.sheet, problem.row, problem.value) == ("login_id", 4, "GHI")
    assert book.account("GHI").email == "seller03@example.com"
    with pytest.raises(WorkbookError, match="no task sheet 'GHI'"):
        book.units("GHI", "step3")
    assert book.units("ABC", "step3")[0].provider_code == "X12"


def test_password_is_a_secret_everywhere(book, caplog) -> None:
    account = book.account("ABC")
    assert isinstance(account.password, Secret)
    assert account.password.reveal() == PASSWORD
    shown = [
        repr(account),
        str(account),
        f"{account}",
        f"{account.password}",
        f"{account.password!r}",
        f"{account.password:>20}",
        str(account.password),
        "{}".format(account.password),  # noqa: UP032 (str.format is a path of its own)
    ]
    assert all(PASSWORD not in text for text in shown)
    with caplog.at_level(logging.INFO):
        logging.getLogger("test").info("login %s with %s / %r", account.email, account.password, account)
    assert PASSWORD not in caplog.text and "seller01@example.com" in caplog.text
    try:
        raise RuntimeError(f"login failed for {account} using {account.password}")
    except RuntimeError as exc:
        assert PASSWORD not in str(exc)


def test_env_overrides_the_sheet_password(make_book, monkeypatch) -> None:
    monkeypatch.setenv("STEPBATCH_PASSWORD_ABC", "from-env")
    book = load_workbook(make_book({"ABC": [task_row("X12")]}))
    assert book.account("ABC").password.reveal() == "from-env"


def test_missing_password_is_a_problem_unless_env_is_set(make_book, monkeypatch) -> None:
    login = [["seller01@example.com", None, "김하늘", "ABC"]]
    path = make_book({"ABC": [task_row("X12")]}, login=login)
    (problem,) = load_workbook(path).problems
    assert problem.column == "B" and "STEPBATCH_PASSWORD_ABC" in problem.message
    monkeypatch.setenv("STEPBATCH_PASSWORD_ABC", "from-env")
    assert load_workbook(path).problems == []


def test_password_is_never_normalised_or_echoed(make_book) -> None:
    login = [
        ["seller01@example.com", " Ｐw ", "김하늘", "ABC"],
        ["seller01@example.com", PASSWORD, "x", "DEF"],
    ]
    book = load_workbook(make_book({"ABC": [task_row("X12")], "DEF": [task_row("X12")]}, login=login))
    assert book.account("ABC").password.reveal() == " Ｐw "
    (dup,) = book.problems
    assert "duplicate of login_id row 2" in dup.message
    assert all(PASSWORD not in (p.line() + repr(p)) for p in book.problems)


def test_secret_equality_and_truthiness() -> None:
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b") and not Secret("")
    account = Account("e@example.com", Secret("pw"), "op", "ABC", 1)
    assert "pw" not in repr(account)
