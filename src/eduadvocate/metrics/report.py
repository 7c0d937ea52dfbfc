"""``eduadvocate report``: what worked, from the ledger's engagement snapshots.

A delivery's engagement is its parts' latest counts added up (a thread counts as one post);
*growth* is what it gained since the snapshot before. The engagement rate divides engagement by
reach where the platform reports reach, else by impressions, and is left out where neither is
known. Deliveries to a platform that cannot report engagement (the local outbox, where a dry run
or a trial goes) are left out and only counted (``no_engagement``): as posts with zero engagement
they would drag down every average, the heat map and the weakest posts. Posts are grouped by campaign, platform, account, hashtag (as they went out), and weekday
× hour of publishing in the campaign's time zone. The amplifiers (who engaged, from the inbox)
are :mod:`eduadvocate.metrics.amplifiers`' figures, as ``people suggest`` shows them. The data
here is what every output format shows: the terminal tables, CSV, JSON and the HTML page
(:mod:`eduadvocate.metrics.html`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from eduadvocate.compose.render import Rendering
from eduadvocate.content.model import Person
from eduadvocate.core.counts import COUNT_FIELDS, Counts
from eduadvocate.core.words import plural
from eduadvocate.ledger.base import Delivery, InboxItem, Snapshot, State
from eduadvocate.metrics.amplifiers import Amplifier, amplifier_dict, amplifiers
from eduadvocate.metrics.pull import total

HASHTAG = re.compile(r"(?<![\w&])#(\w*[^\W\d_]\w*)")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP = 5
PULL_GAP = timedelta(minutes=10)
# Platforms with no audience to count: their "counts" are always zero, so they are not measured.
NO_ENGAGEMENT = frozenset({"outbox"})


@dataclass(frozen=True, slots=True)
class PostRow:
    """One published delivery with its latest counts."""

    delivery_id: int
    post: str
    account: str
    platform: str
    campaign: str
    hashtags: tuple[str, ...]
    text: str  # the first part, as it went out (or "(no longer in the files)")
    url: str | None
    published_at: datetime  # UTC
    local: datetime  # in the campaign's time zone
    counts: Counts
    growth: int | None  # engagement gained since the snapshot before (None: one snapshot)
    snapshots: int  # pulls that counted it
    last_pulled: datetime

    @property
    def engagement(self) -> int:
        return self.counts.engagement

    @property
    def rate(self) -> float | None:
        base = self.counts.reach or self.counts.impressions
        return self.engagement / base if base else None


@dataclass(frozen=True, slots=True)
class Group:
    """Posts sharing a campaign, platform, account, hashtag or day."""

    key: str
    posts: int
    engagement: int
    counts: Counts
    rate: float | None  # over the posts whose reach (or impressions) is known
    growth: int

    @property
    def per_post(self) -> float:
        return self.engagement / self.posts if self.posts else 0.0


@dataclass(frozen=True, slots=True)
class Cell:
    """One weekday × hour of the heat map."""

    weekday: int  # 0 = Monday
    hour: int
    posts: int
    engagement: int

    @property
    def per_post(self) -> float:
        return self.engagement / self.posts if self.posts else 0.0


@dataclass(slots=True)
class Report:
    generated_at: datetime
    since: datetime | None
    campaign: str | None
    timezone: str
    total: Group
    posts: list[PostRow] = field(default_factory=list)  # best first
    by_campaign: list[Group] = field(default_factory=list)
    by_platform: list[Group] = field(default_factory=list)
    by_account: list[Group] = field(default_factory=list)
    by_hashtag: list[Group] = field(default_factory=list)
    by_day: list[Group] = field(default_factory=list)  # the timeline, oldest first
    heatmap: list[Cell] = field(default_factory=list)  # only cells with posts
    snapshots: int = 0
    unmeasured: int = 0  # published deliveries in scope with no snapshot yet
    no_engagement: int = 0  # published deliveries in scope to a platform with no engagement
    # Who engaged, from the inbox (metrics.amplifiers): items since ``since``, and with a
    # ``campaign`` only those about its posts. ``inbox``: items in the ledger at all.
    amplifiers: list[Amplifier] = field(default_factory=list)
    inbox: int = 0

    @property
    def best(self) -> list[PostRow]:
        return self.posts[:TOP]

    @property
    def worst(self) -> list[PostRow]:
        return sorted(self.posts[TOP:], key=_rank)[:TOP] if len(self.posts) > TOP else []


def build(
    deliveries: Iterable[Delivery],
    snapshots: Iterable[Snapshot],
    renderings: dict[tuple[str, str], Rendering],
    now: datetime,
    *,
    timezone: str = "UTC",
    since: datetime | None = None,
    campaign: str | None = None,
    inbox: Iterable[InboxItem] = (),
    people: Mapping[str, Person] | None = None,
    servers: Mapping[str, str] | None = None,
    own: Collection[tuple[str, str]] = (),
) -> Report:
    """The report over published deliveries (published since ``since``, of ``campaign``), and
    the amplifiers among ``inbox``'s authors (``people``, ``servers`` and ``own`` as
    :func:`~eduadvocate.metrics.amplifiers.amplifiers` takes them)."""
    history: dict[int, dict[int, list[Snapshot]]] = defaultdict(lambda: defaultdict(list))
    count = 0
    for snap in snapshots:
        history[snap.delivery_id][snap.part_index].append(snap)
        count += 1
    zone = ZoneInfo(timezone)
    rows: list[PostRow] = []
    unmeasured = left_out = 0
    in_campaign: set[int] = set()
    for d in deliveries:
        rendering = renderings.get((d.post_id, d.account))
        name = _campaign(rendering)
        if campaign is not None and name != campaign:
            continue
        in_campaign.add(d.id)
        if d.state != State.PUBLISHED or not d.parts or d.shown_state(now) != State.PUBLISHED:
            continue
        published = d.parts[0].published_at
        if since is not None and published < since:
            continue
        if d.platform in NO_ENGAGEMENT:
            left_out += 1
            continue
        parts = history.get(d.id)
        if not parts:
            unmeasured += 1
            continue
        rows.append(_row(d, rendering, name, parts, published, zone))
    rows.sort(key=_rank, reverse=True)
    heard = list(inbox)
    about = [i for i in heard if campaign is None or i.delivery_id in in_campaign]
    return Report(
        generated_at=now,
        since=since,
        campaign=campaign,
        timezone=timezone,
        total=_group("all posts", rows),
        posts=rows,
        by_campaign=_groups(rows, lambda r: [r.campaign]),
        by_platform=_groups(rows, lambda r: [r.platform]),
        by_account=_groups(rows, lambda r: [r.account]),
        by_hashtag=_groups(rows, lambda r: list(r.hashtags)),
        by_day=sorted(_groups(rows, lambda r: [r.local.date().isoformat()]), key=lambda g: g.key),
        heatmap=_heatmap(rows),
        snapshots=count,
        unmeasured=unmeasured,
        no_engagement=left_out,
        amplifiers=amplifiers(about, people or {}, since=since, servers=servers, own=own),
        inbox=len(heard),
    )


def _row(
    d: Delivery,
    rendering: Rendering | None,
    campaign: str,
    parts: dict[int, list[Snapshot]],
    published: datetime,
    zone: ZoneInfo,
) -> PostRow:
    latest = [snaps[-1] for snaps in parts.values()]
    earlier = [e for snaps in parts.values() if (e := _before(snaps)) is not None]
    growth = (
        sum(s.counts.engagement for s in latest) - sum(s.counts.engagement for s in earlier)
        if earlier
        else None
    )
    text = rendering.parts[0].text if rendering and rendering.parts else "(no longer in the files)"
    tags = (
        tuple(dict.fromkeys(HASHTAG.findall(" ".join(p.text for p in rendering.parts))))
        if rendering
        else ()
    )
    return PostRow(
        delivery_id=d.id,
        post=d.post_id,
        account=d.account,
        platform=d.platform,
        campaign=campaign,
        hashtags=tuple(f"#{t}" for t in tags),
        text=text,
        url=d.parts[0].url,
        published_at=published,
        local=published.astimezone(zone),
        counts=total(s.counts for s in latest),
        growth=growth,
        snapshots=max(len(snaps) for snaps in parts.values()),
        last_pulled=max(s.taken_at for s in latest),
    )


def _before(snaps: list[Snapshot]) -> Snapshot | None:
    """The snapshot of the pull before the latest: one at least ``PULL_GAP`` older (two workers
    pulling at once leave two snapshots a moment apart; that is one pull)."""
    cutoff = snaps[-1].taken_at - PULL_GAP
    return next((s for s in reversed(snaps) if s.taken_at <= cutoff), None)


def _campaign(rendering: Rendering | None) -> str:
    if rendering is None:
        return "(removed posts)"
    return rendering.post.defaults.campaign or "(no campaign)"


def _rank(row: PostRow) -> tuple[int, float, datetime]:
    return (row.engagement, row.rate or 0.0, row.published_at)


def _group(key: str, rows: list[PostRow]) -> Group:
    counts = total(r.counts for r in rows) if rows else Counts()
    known = [r for r in rows if r.rate is not None]
    base = sum((r.counts.reach or r.counts.impressions or 0) for r in known)
    return Group(
        key=key,
        posts=len(rows),
        engagement=sum(r.engagement for r in rows),
        counts=counts,
        rate=sum(r.engagement for r in known) / base if base else None,
        growth=sum(r.growth or 0 for r in rows),
    )


def _groups(rows: list[PostRow], keys: Callable[[PostRow], list[str]]) -> list[Group]:
    members: dict[str, list[PostRow]] = defaultdict(list)
    names: dict[str, str] = {}
    for row in rows:
        for key in keys(row):
            folded = key.casefold()
            names.setdefault(folded, key)  # #FundOurSchools and #fundourschools are one tag
            members[folded].append(row)
    groups = [_group(names[k], v) for k, v in members.items()]
    return sorted(groups, key=lambda g: (-g.per_post, -g.posts, g.key))


def _heatmap(rows: list[PostRow]) -> list[Cell]:
    cells: dict[tuple[int, int], list[PostRow]] = defaultdict(list)
    for row in rows:
        cells[(row.local.weekday(), row.local.hour)].append(row)
    return [
        Cell(day, hour, len(v), sum(r.engagement for r in v))
        for (day, hour), v in sorted(cells.items())
    ]


RATE_MEANS = (
    "Engagement rate = interactions ÷ reach (people who saw the post), "
    "or ÷ impressions where the platform does not report reach."
)


def first_words(text: str, words: int = 6) -> str:
    """How a report names a post after its id: its first words, ``The levy vote is Tuesday. …``
    (empty for a post without text)."""
    first = text.split()
    return " ".join(first[:words]) + (" …" if len(first) > words else "")


def no_engagement_note(n: int) -> str:
    """What the report left out, and why."""
    return f"{plural(n, 'outbox delivery', 'outbox deliveries')} not counted: the outbox has no engagement."


def no_amplifiers_note(report: Report) -> str:
    """What the amplifiers section says when it has no one, in one line."""
    if not report.inbox:
        return (
            "None yet: `eduadvocate inbox pull` fetches who reposts, quotes, replies to and"
            " mentions the campaign's accounts."
        )
    about = " with this campaign's posts" if report.campaign else ""
    period = f" since {report.since:%Y-%m-%d %H:%M}" if report.since else ""
    return f"No account engaged{about}{period}."


def as_dict(report: Report) -> dict[str, object]:
    """The JSON form (``report --format json``): a contract, fields are only ever added."""

    def group(g: Group) -> dict[str, object]:
        return {
            "key": g.key,
            "posts": g.posts,
            "engagement": g.engagement,
            "per_post": round(g.per_post, 2),
            "rate": round(g.rate, 4) if g.rate is not None else None,
            "growth": g.growth,
            **{name: getattr(g.counts, name) for name in COUNT_FIELDS},
        }

    return {
        "version": 1,
        "generated_at": _iso(report.generated_at),
        "since": _iso(report.since) if report.since else None,
        "campaign": report.campaign,
        "timezone": report.timezone,
        "snapshots": report.snapshots,
        "unmeasured": report.unmeasured,
        "no_engagement": report.no_engagement,
        "total": group(report.total),
        "by_campaign": [group(g) for g in report.by_campaign],
        "by_platform": [group(g) for g in report.by_platform],
        "by_account": [group(g) for g in report.by_account],
        "by_hashtag": [group(g) for g in report.by_hashtag],
        "by_day": [group(g) for g in report.by_day],
        "heatmap": [
            {
                "weekday": WEEKDAYS[c.weekday],
                "hour": c.hour,
                "posts": c.posts,
                "engagement": c.engagement,
            }
            for c in report.heatmap
        ],
        "posts": [post_dict(r) for r in report.posts],
        "best": [r.delivery_id for r in report.best],
        "worst": [r.delivery_id for r in report.worst],
        "amplifiers": [amplifier_dict(a) for a in report.amplifiers],
    }


CSV_COLUMNS = (
    "delivery",
    "post",
    "account",
    "platform",
    "campaign",
    "hashtags",
    "published_at",
    "local_time",
    "url",
    *COUNT_FIELDS,
    "engagement",
    "rate",
    "growth",
    "snapshots",
    "text",
)


def post_dict(r: PostRow) -> dict[str, object]:
    return {
        "delivery": r.delivery_id,
        "post": r.post,
        "account": r.account,
        "platform": r.platform,
        "campaign": r.campaign,
        "hashtags": list(r.hashtags),
        "published_at": _iso(r.published_at),
        "local_time": r.local.strftime("%Y-%m-%d %H:%M"),
        "url": r.url,
        **{name: getattr(r.counts, name) for name in COUNT_FIELDS},
        "engagement": r.engagement,
        "rate": round(r.rate, 4) if r.rate is not None else None,
        "growth": r.growth,
        "snapshots": r.snapshots,
        "text": r.text,
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
