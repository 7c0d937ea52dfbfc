"""``ErrorKind``: the reasons a delivery is not (yet) published, as the ledger's ``error_kind`` and
the status JSON show them. Ledgers written before the enum hold the same strings, so the values
are pinned: changing one would need a migration."""

from __future__ import annotations

from eduadvocate.core.errors import ErrorKind
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    MetricsRefused,
    PublishError,
    RateLimited,
    Rejected,
    Transient,
)
from tests.conftest import REPO

STORED = (
    "error rate-limited auth rejected transient in-doubt refused waiting stopped ledger internal"
    " invalid unreadable removed already-out cancelled"
)


def test_error_kinds_are_the_strings_ledgers_already_hold() -> None:
    assert sorted(ErrorKind) == sorted(STORED.split())


def test_each_adapter_error_records_its_kind() -> None:
    kinds = {
        cls: cls.kind
        for cls in (
            PublishError,
            RateLimited,
            AuthFailed,
            Rejected,
            Transient,
            InDoubt,
            MetricsRefused,
        )
    }
    assert all(isinstance(kind, ErrorKind) for kind in kinds.values())
    assert (kinds[RateLimited], kinds[InDoubt]) == ("rate-limited", "in-doubt")


def test_the_architecture_lists_every_kind_a_delivery_or_run_outcome_shows() -> None:
    """``error`` (no adapter raises the base class) and ``refused`` (metrics only) are not
    delivery reasons."""
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    shown = set(ErrorKind) - {ErrorKind.ERROR, ErrorKind.REFUSED}
    assert [kind.value for kind in sorted(shown) if f"`{kind}`" not in text] == []
