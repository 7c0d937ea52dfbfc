"""Ledger rows made by hand, for tests of what reads them (reports)."""

from __future__ import annotations

from datetime import datetime

from eduadvocate.ledger.base import Delivery, PartRow, State


def published(
    id_: int,
    post_id: str,
    account: str,
    platform: str,
    at: datetime,
    urls: list[str | None] | None = None,
) -> Delivery:
    """A delivery published at ``at``, one part per URL (default: one part with a link)."""
    links = urls if urls is not None else [f"https://example.org/{id_}/0"]
    return Delivery(
        id=id_,
        key=f"{post_id}|{account}",
        post_id=post_id,
        account=account,
        platform=platform,
        due_at=at,
        state=State.PUBLISHED,
        content_hash="h",
        published_hash="h",
        lease_owner=None,
        lease_expires=None,
        attempts=1,
        next_attempt_at=None,
        last_error=None,
        error_kind=None,
        updated_at=at,
        parts=tuple(PartRow(n, f"r{id_}-{n}", url, at) for n, url in enumerate(links)),
    )
