"""``eduadvocate inbox pull``: replies, mentions, quotes and comments from each account's
platform into the ledger, each tied to the campaign post it answers when it answers one.

- Pages are read newest first. Each page is stored in one transaction together with the cursor of
  the next page, so a pull cut off half-way resumes from there: first the older pages it had not
  reached, then the newest again. Items are inserted once (per platform, account and remote id),
  so pulling twice adds nothing.
- A walk stops at the end of the list or at the first page holding an item already stored:
  beyond it, an earlier walk stored everything.
- Then the replies under each post published within the window (default the last 30 days:
  replies come in the days after a post, and each post costs a request a pull), newest post
  first, each walked to its end. A pull that stops among the posts (a rate limit, say) is
  marked with the post it stopped at, and the next one starts there: with more posts than a
  rate-limit window allows, every post is still read in turn. Mentions and notifications are
  read whatever the window.
- An account whose platform cannot read its inbox yet is reported, not asked, and is no error;
  one the platform refuses to read for (its API tier, a missing permission) is reported with the
  reason and is no error either, as ``metrics pull``'s refusals are (asked again next pull);
  a rate limit or a network error stops that account for this pull (the next one resumes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from eduadvocate.ledger.base import InboxItem, Ledger, State
from eduadvocate.platforms.publishing import (
    InboxPage,
    InboxRefused,
    InboxUnsupported,
    Incoming,
    Publisher,
    PublishError,
    RateLimited,
)

PAGE = 50  # items asked for per page (Bluesky allows up to 100, Mastodon 80)
MAX_PAGES = 10_000  # a platform that never ends its list must not hold a pull forever
REPLIES = "replies"  # the cursor source naming the post a pull stopped at among the posts
REPLIES_WINDOW = timedelta(days=30)  # whose replies a pull reads, unless told: posts this recent


@dataclass(slots=True)
class AccountInbox:
    """What one account's pull did."""

    account: str
    platform: str
    new: list[InboxItem] = field(default_factory=list)
    unsupported: bool = False  # its platform's inbox cannot be read yet: not asked
    refused: str | None = None  # the platform would not let it read (tier, permission): why
    failed: str | None = None  # why it stopped (the next pull resumes)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.new:
            counts[item.kind] = counts.get(item.kind, 0) + 1
        return counts


def pull_inbox(
    ledger: Ledger,
    connect: Callable[[str], Publisher],
    accounts: Mapping[str, tuple[str, bool]],
    now: datetime,
    *,
    page_size: int = PAGE,
    clock: Callable[[], datetime] | None = None,
    posts_since: datetime | None = None,
) -> list[AccountInbox]:
    """Pull every account of ``accounts`` (name → (platform, whether it reads an inbox)), in
    name order, one after the other; the replies are read under the posts published since
    ``posts_since`` (None: every post)."""
    taken = clock or (lambda: now)
    report = []
    for name in sorted(accounts):
        platform, readable = accounts[name]
        result = AccountInbox(name, platform)
        report.append(result)
        if not readable:
            result.unsupported = True
            continue
        try:
            publisher = connect(name)
        except PublishError as exc:
            result.failed = _why(exc)
            continue
        try:
            _pull_account(ledger, publisher, result, page_size, taken, posts_since)
        except InboxRefused as exc:
            result.refused = str(exc)
        except PublishError as exc:
            result.failed = _why(exc)
        finally:
            publisher.close()
    return report


def _pull_account(
    ledger: Ledger,
    publisher: Publisher,
    result: AccountInbox,
    page_size: int,
    taken: Callable[[], datetime],
    posts_since: datetime | None,
) -> None:
    """The account's notifications, then the replies under each of its posts published since
    ``posts_since``."""
    ours, roots = _ours(ledger, result.account, posts_since)
    walk = _Walk(ledger, result, ours, page_size, taken)
    try:
        walk.pages(publisher.inbox_source, publisher.inbox, stop_at_known=True)
    except InboxUnsupported:
        if not publisher.reads_replies:
            result.unsupported = True
            return
    if not publisher.reads_replies:
        return
    # One request (at least) a post: with more posts than a rate-limit window allows, a pull
    # stops among them, and the next one goes on from that post (then the rest, wrapping
    # round), so the older posts' replies are read too. A whole round clears the mark.
    stopped = ledger.inbox_cursor(result.account, REPLIES)
    start = roots.index(stopped) if stopped in roots else 0
    for target in roots[start:] + roots[:start]:
        try:
            # A thread or a comment list is walked to its end every time: an item already
            # stored (say, through a notification) says nothing about the ones after it.
            walk.pages(f"replies:{target}", partial(publisher.replies, target), stop_at_known=False)
        except PublishError:
            if target != stopped:
                ledger.add_inbox_page(
                    [], taken(), account=result.account, source=REPLIES, cursor=target
                )
            raise
    if stopped is not None:
        ledger.add_inbox_page([], taken(), account=result.account, source=REPLIES, cursor=None)


@dataclass(slots=True)
class _Walk:
    ledger: Ledger
    result: AccountInbox
    ours: dict[str, tuple[int, int]]
    page_size: int
    taken: Callable[[], datetime]

    def pages(
        self,
        source: str,
        read: Callable[[str | None, int], InboxPage],
        *,
        stop_at_known: bool,
    ) -> None:
        """Read ``source`` page by page into the ledger, each page stored with the cursor of
        the next so that a pull cut off half-way resumes there."""
        ledger, result = self.ledger, self.result
        resume = ledger.inbox_cursor(result.account, source)
        walks = [resume, None] if resume else [None]
        for start in walks:
            cursor = start
            for _ in range(MAX_PAGES):
                page = read(cursor, self.page_size)
                items = [_item(result, i, self.ours) for i in page.items]
                items = [i for i in items if i.remote_id not in self.ours]
                new = ledger.add_inbox_page(
                    items, self.taken(), account=result.account, source=source, cursor=page.cursor
                )
                result.new += new
                reached_known = stop_at_known and len(new) < len(items)
                if page.cursor is None or reached_known:
                    if page.cursor is not None:  # complete: start from the top next time
                        ledger.add_inbox_page(
                            [], self.taken(), account=result.account, source=source, cursor=None
                        )
                    break
                cursor = page.cursor


def _ours(
    ledger: Ledger, account: str, since: datetime | None
) -> tuple[dict[str, tuple[int, int]], list[str]]:
    """The remote ids of the account's published parts → (delivery id, part index) (every
    one: an item found anywhere is tied to the post it answers), and the first part of each
    delivery published since ``since``, newest first (the posts whose replies are read)."""
    published = ledger.deliveries(state=State.PUBLISHED, account=account)
    ours = {p.remote_id: (d.id, p.index) for d in published for p in d.parts if p.remote_id}
    firsts = sorted(
        (
            (d.id, p.remote_id)
            for d in published
            for p in d.parts
            if p.index == 0 and p.remote_id and (since is None or p.published_at >= since)
        ),
        reverse=True,
    )
    return ours, [remote for _, remote in firsts]


def _item(result: AccountInbox, got: Incoming, ours: dict[str, tuple[int, int]]) -> InboxItem:
    """The item as stored: the campaign part it answers (its parent first, else its thread's
    root), if it answers one of ours."""
    match = ours.get(got.answers or "") or ours.get(got.root or "")
    return InboxItem(
        platform=result.platform,
        account=result.account,
        remote_id=got.remote_id,
        kind=got.kind,
        author_handle=got.author_handle,
        author_name=got.author_name,
        author_url=got.author_url,
        text=got.text,
        url=got.url,
        created_at=got.created_at,
        answers_remote_id=got.answers,
        delivery_id=match[0] if match else None,
        part_index=match[1] if match else None,
    )


def _why(error: PublishError) -> str:
    if isinstance(error, RateLimited) and error.retry_at is not None:
        return f"rate-limited until {error.retry_at:%Y-%m-%d %H:%M} UTC: {error}"
    return f"{error.kind}: {str(error).replace('refused the post', 'refused the read')}"
