"""No secret is ever shown: a database URL's password is masked whatever it holds and wherever the
URL is shown, and opening a ledger at such a URL never quotes it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.ledger import open_ledger, shown
from eduadvocate.ledger.base import LedgerError
from tests.conftest import Make
from tests.test_cli import run

UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1: a connection is refused at once


def _userinfo_url(password: str, host: str = UNREACHABLE) -> str:
    return f"postgresql://campaigner:{password}@{host}/campaign?sslmode=disable"


def _query_url(password: str, host: str = UNREACHABLE) -> str:
    return f"postgresql://campaigner@{host}/campaign?sslmode=disable&password={password}"


def _opening(url: str, tmp_path: Path) -> str:
    """The message of opening a ledger at ``url`` (it must fail)."""
    with pytest.raises(LedgerError) as caught:
        open_ledger(url, tmp_path).close()
    return caught.value.one_line()


# -- the database URL ----------------------------------------------------------------------------
SPECIAL = ["Sekret1#Sekret2", "Sekret1?Sekret2", "Sekret1/Sekret2", "Sekret1%Sekret2",
           "Sekret1@Sekret2", "Sekret1:Sekret2", "Sekret1&Sekret2", "Sekret1%zzSekret2"]  # fmt: skip


@pytest.mark.parametrize("password", SPECIAL)
@pytest.mark.parametrize("form", [_userinfo_url, _query_url])
@pytest.mark.parametrize("encode", [True, False], ids=["encoded", "as-typed"])
def test_a_database_url_is_masked_whatever_its_password_holds(
    password: str, form: object, encode: bool
) -> None:
    assert callable(form)
    url = form(quote(password, safe="") if encode else password)
    masked = shown(url)
    assert "Sekret1" not in masked and "Sekret2" not in masked, masked
    assert "***" in masked


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://campaigner:S%23k%2Fr%40t@db.example.org:5432/campaign?sslmode=require",
            "postgresql://campaigner:***@db.example.org:5432/campaign?sslmode=require",
        ),
        (
            "postgres://db.example.org/campaign?password=S%26kr&sslmode=verify-full",
            "postgres://db.example.org/campaign?password=***&sslmode=verify-full",
        ),
        (
            "postgresql://campaigner@db.example.org/campaign?sslmode=require",
            "postgresql://campaigner@db.example.org/campaign?sslmode=require",
        ),
        ("ledger.sqlite3", "ledger.sqlite3"),
    ],
)
def test_a_well_formed_url_keeps_everything_but_its_password(url: str, expected: str) -> None:
    assert shown(url) == expected


@pytest.mark.parametrize("password", SPECIAL)
def test_opening_a_ledger_at_a_malformed_or_unreachable_url_never_quotes_the_password(
    password: str, tmp_path: Path
) -> None:
    for url in (_userinfo_url(password), _query_url(password)):
        message = _opening(url, tmp_path)
        assert "Sekret1" not in message and "Sekret2" not in message, message


def test_a_malformed_url_says_what_to_do_through_the_command(make_campaign: Make) -> None:
    make_campaign("posts: []\n", config="accounts: {o: {platform: outbox}}\n")
    url = _userinfo_url("Sekret1/Sekret2%zz")
    result = run("status", env={"EDUADVOCATE_LEDGER": url})
    assert result.returncode == 3
    assert "Sekret" not in result.stdout + result.stderr
    assert result.stderr == (
        f"eduadvocate: error: the ledger URL {shown(url)} (chosen by EDUADVOCATE_LEDGER) cannot be"
        " read: percent-encode the password's special characters (@ as %40, / as %2F, # as %23,"
        " ? as %3F, % as %25, & as %26)\n"
    )


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(password=st.text(min_size=1))
def test_no_password_is_ever_shown_or_quoted(password: str, tmp_path: Path) -> None:
    """Any password, percent-encoded as a user would: ``shown`` tells nothing about it (it is the
    same as for any other password), and opening the ledger (refused: nothing listens there; or
    malformed) never quotes it, raw or encoded, beyond what the message says for any password."""
    encoded = quote(password, safe="")
    for form in (_userinfo_url, _query_url):
        url = form(encoded)
        assert shown(url) == shown(form("other"))
        message = _opening(url, tmp_path)
        reference = _opening(form("other"), tmp_path) + _opening(form("%zz"), tmp_path)
        for secret in (password, encoded):
            assert secret not in message or secret in reference, message
