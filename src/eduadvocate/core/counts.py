"""Engagement counts in common names, as adapters read them and the ledger keeps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Counts:
    """One post's engagement as a platform reports it, in common names (None: not reported).

    likes: X likes, Facebook reactions, Instagram likes, Bluesky likes, Mastodon favourites.
    reposts: X reposts, Facebook and Instagram shares, Bluesky reposts, Mastodon boosts.
    replies: replies or comments. quotes: X and Bluesky quote posts. saves: Instagram saves,
    X bookmarks. impressions: times shown (X where the tier allows, Facebook). reach: people who
    saw it (Instagram, Facebook unique impressions)."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    saves: int | None = None
    impressions: int | None = None
    reach: int | None = None

    @property
    def engagement(self) -> int:
        return sum(
            v or 0 for v in (self.likes, self.reposts, self.replies, self.quotes, self.saves)
        )


COUNT_FIELDS = ("likes", "reposts", "replies", "quotes", "saves", "impressions", "reach")
