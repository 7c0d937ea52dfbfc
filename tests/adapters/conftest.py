"""Fixtures the adapter tests share: the X fake and the campaign's X account on it, its
credentials in the environment as ``credentials_env`` names them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.x_api import Account, XFake, credentials_env


@pytest.fixture
def x_fake() -> Iterator[XFake]:
    with XFake() as fake:
        yield fake


@pytest.fixture
def x_account(x_fake: XFake, monkeypatch: pytest.MonkeyPatch) -> Account:
    account = x_fake.add_account("FundSpfldSchools")
    for name, value in credentials_env(account).items():
        monkeypatch.setenv(name, value)
    return account
