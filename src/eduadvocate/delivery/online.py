"""``check --online``: each ``reply_to:``, ``repost:`` and ``quote:`` address resolved as
``publish`` will resolve it, through each account's own server (``Publisher.resolve_reply``:
Bluesky's PDS, the Mastodon instance, the Graph API; read-only), so a post that is gone or an
address that names nothing is found before the post is due. ``check`` alone never does this:
it needs every account's credentials and the network, and a pull request's check runs on
untrusted files with neither. An address goes to the account's own server only, never to the
host it names.

A post the server cannot find is an error at the field's line; a server that could not be
asked (no credentials, a network error, a rate limit) is a warning: the check is not done, and
publish resolves the address anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from eduadvocate.compose.check import SHARES
from eduadvocate.compose.render import Rendering
from eduadvocate.core.errors import Problem
from eduadvocate.platforms.publishing import Publisher, PublishError, Rejected


def resolve_addresses(
    renderings: Iterable[Rendering], connect: Callable[[str], Publisher]
) -> list[Problem]:
    """Problems of the addresses the renderings' posts share or answer, each address asked of
    each account once; one connection per account."""
    wanted: dict[tuple[str, str], Rendering] = {}
    for rendering in renderings:
        shares = rendering.post.shares
        if shares is not None:
            wanted.setdefault((rendering.account.name, shares[1]), rendering)
    problems: list[Problem] = []
    publishers: dict[str, Publisher | PublishError] = {}
    try:
        for (account, url), rendering in sorted(wanted.items()):
            publisher = publishers.get(account)
            if publisher is None:
                try:
                    publisher = publishers[account] = connect(account)
                except PublishError as exc:  # (kept, and said for each address of it)
                    publisher = publishers[account] = exc
            problem = _asked(publisher, rendering, account, url)
            if problem is not None:
                problems.append(problem)
    finally:
        for publisher in publishers.values():
            if isinstance(publisher, Publisher):
                publisher.close()
    return problems


def _asked(
    publisher: Publisher | PublishError, rendering: Rendering, account: str, url: str
) -> Problem | None:
    """What asking ``publisher`` for the post at ``url`` found wrong, if anything."""
    post = rendering.post
    field, _, loc = post.shares or ("", "", None)
    failed: PublishError
    if isinstance(publisher, PublishError):
        failed = publisher
    else:
        try:
            publisher.resolve_reply(url, SHARES[field].verb)
            return None
        except PublishError as exc:
            failed = exc
    if isinstance(failed, Rejected):
        return Problem(
            f"{SHARES[field].codes[0]}-not-found",
            "error",
            f"{field}: {failed}",
            loc or post.loc,
            "check the address: copy it again from the post's page",
            post=post.id,
            account=account,
        )
    return Problem(
        "online-unchecked",
        "warning",
        f"{field}: could not be checked on {account}'s server ({failed.kind}): {failed}",
        loc or post.loc,
        "publish resolves it anyway; run check --online again later",
        post=post.id,
        account=account,
    )
