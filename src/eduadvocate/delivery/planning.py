"""Planning: which deliveries the files ask for, and bringing the ledger in line with them.

This is the one place that decides what is due; ``publish``, ``schedule``, ``calendar`` and
``status`` all ask it. :func:`plan` is pure (but for fixing the instant of ``at: now`` posts) and
:func:`record` writes the plan into the ledger.

Files that fail to load change nothing:

- A posts file with any load error (YAML, validation, an empty file, one an editor or
  ``git checkout`` is half-way through writing) is *unreadable*: its posts are frozen. Nothing is
  planned from it and nothing of it is cancelled or sent; what the ledger holds of it waits,
  reported as held, until the file loads cleanly again. An unreadable ``people.yaml`` or a missing
  posts folder freezes every post.
- While any file is unreadable, a post missing from the files may live in that file, so it is not
  cancelled either, and its pending deliveries are not sent (:attr:`Recorded.hold_posts`).
- A post with errors (``check``) is frozen the same way: held, not cancelled.
- Only a post removed from files that all loaded cleanly is cancelled, and that cancellation is
  undone if the post comes back (a truncated save followed by the full one loses nothing).
- A post waiting in a platform's own scheduler (a Facebook Page's) that was moved, edited or
  removed is deleted there first, then handed over again or cancelled: exactly once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from eduadvocate.campaign.workspace import Workspace
from eduadvocate.compose.check import Analysis
from eduadvocate.compose.render import Rendering
from eduadvocate.config.model import Config
from eduadvocate.core.errors import ErrorKind, Problem
from eduadvocate.core.words import plural
from eduadvocate.ledger.base import Delivery, Desired, Ledger, State, delivery_key
from eduadvocate.platforms.publishing import Publisher
from eduadvocate.platforms.registry import spec_class

NATIVE_MIN_AHEAD = timedelta(minutes=15)  # Facebook takes 10 minutes to 30 days ahead; keep margins
NATIVE_MAX_AHEAD = timedelta(days=29)


@dataclass(slots=True)
class Outcome:
    """What happened to one delivery in this run (or why it was not attempted)."""

    key: str
    post: str
    account: str
    platform: str
    at: datetime
    state: str  # a ledger state, or "held" (not attempted) / "would-publish" (dry run)
    parts: list[tuple[str, str | None]] = field(default_factory=list)
    error: str | None = None
    error_kind: str | None = None
    next_attempt: datetime | None = None
    warning: str | None = None  # went out with something left out

    @classmethod
    def of(cls, delivery: Delivery, state: str) -> Outcome:
        return cls(
            delivery.key,
            delivery.post_id,
            delivery.account,
            delivery.platform,
            delivery.due_at,
            state,
            [(p.remote_id, p.url) for p in delivery.parts],
        )


UNTIMED = "untimed"


def untimed_key(post_id: str, account: str) -> str:
    """The key a post held for a time that cannot be read is reported under (it has no due
    time, so no delivery key; stable from run to run, so schedule says it once)."""
    return f"{post_id}|{account}|{UNTIMED}"


def is_untimed(key: str) -> bool:
    return key.endswith(f"|{UNTIMED}")


def content_hash(rendering: Rendering) -> str:
    """A fingerprint of exactly what would be sent, to notice edits after publishing."""
    # The link is in the text already (render appends it), so it needs no field of its own:
    # ledgers from before keep their hashes.
    payload = {
        "cw": rendering.content_warning,
        "parts": [[p.text, [[m.path, m.alt] for m in p.media]] for p in rendering.parts],
    }
    shares = rendering.post.shares
    if shares is not None:  # only then, so the hashes of every other post stay as they were
        payload[shares[0]] = shares[1]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Planned:
    """One occurrence of a post on one account."""

    rendering: Rendering
    at: datetime
    when: str  # "once", "now" or "recurring"
    due: bool  # at or before now

    @property
    def key(self) -> str:
        return delivery_key(self.rendering.post.id, self.rendering.account.name, self.at)


@dataclass(slots=True)
class Plan:
    """What the files ask for, as of ``now``."""

    now: datetime
    until: datetime  # the window of ordinary accounts
    native_until: datetime  # the window of accounts whose platform schedules natively
    native: set[str]
    accounts: set[str] | None
    occurrences: list[Planned] = field(default_factory=list)  # held ones included
    desired: list[Desired] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)  # keys due before the grace window
    held: list[Outcome] = field(default_factory=list)  # due, not attempted
    unreadable: list[Problem] = field(default_factory=list)  # load errors, with file:line
    frozen: dict[str, tuple[str, str]] = field(default_factory=dict)  # post → (why, kind)
    posts: set[str] = field(default_factory=set)  # every post id the files hold

    @property
    def complete(self) -> bool:
        """Every file loaded cleanly: a post missing from them was removed."""
        return not self.unreadable

    def keep(self, post_id: str) -> bool:
        """Whether the ledger must leave this post's deliveries as they are."""
        return post_id in self.frozen or (not self.complete and post_id not in self.posts)

    def renderings(self) -> dict[tuple[str, str], Rendering]:
        return {
            (o.rendering.post.id, o.rendering.account.name): o.rendering for o in self.occurrences
        }


def native_accounts(config: Config) -> set[str]:
    """Accounts whose platform keeps posts in its own scheduler (``native_schedule``)."""
    return {
        name
        for name, account in config.accounts.items()
        if spec_class(account.platform)(account).native_schedule
    }


def unreadable(ws: Workspace) -> list[Problem]:
    """Load errors: files that could not be read or validated (each with file:line)."""
    return [p for p in ws.campaign.problems if p.severity == "error"]


def cannot_read(problem: Problem) -> str:
    """A load error as one line for people: where, what, that its posts wait, and the hint."""
    where = f"{problem.location}" if problem.location else "a campaign file"
    hint = f" ({problem.hint})" if problem.hint else ""
    return (
        f"cannot read {where}: {problem.message}{hint}. Its posts wait (nothing of them is sent"
        " or cancelled) until it is fixed"
    )


def plan(
    ws: Workspace,
    analysis: Analysis,
    now: datetime,
    *,
    grace: timedelta,
    horizon: timedelta = timedelta(0),
    accounts: set[str] | None = None,
    ledger: Ledger | None = None,
    native: bool = True,
) -> Plan:
    """The deliveries the files ask for: everything due by ``now`` (recurring posts within the
    ``grace`` window), the coming ``horizon`` of ordinary accounts and, with ``native``, the
    coming weeks of accounts whose platform schedules natively. With a ``ledger``, an ``at: now``
    post gets its instant fixed the first time it is seen (without one it is ``now``)."""
    natives = native_accounts(ws.config) if native else set()
    result = Plan(
        now=now,
        until=now + horizon,
        native_until=max(now + horizon, now + NATIVE_MAX_AHEAD) if natives else now + horizon,
        native=natives,
        accounts=accounts,
        unreadable=unreadable(ws),
        posts={p.id for p in ws.campaign.posts},
    )
    _freeze(ws, analysis, result)
    fixed_now: dict[str, datetime] = {}
    for r in analysis.renderings:
        name, post = r.account.name, r.post
        if accounts is not None and name not in accounts:
            continue
        schedule = analysis.schedules.get(post.id)
        if schedule is None:
            # Its time cannot be read (an error, so the post is frozen): it may be due now, so
            # it is held, and said, on every run until fixed, never passed over in silence.
            frozen = result.frozen.get(post.id)
            if frozen is not None:
                out = Outcome(untimed_key(post.id, name), post.id, name, r.platform, now, "held")
                out.error, out.error_kind = frozen
                result.held.append(out)
            continue
        end = result.native_until if name in natives else result.until
        if schedule.when == "now":
            if post.id not in fixed_now:
                fixed_now[post.id] = (
                    now
                    if ledger is None or post.id in result.frozen
                    else ledger.fix_now(post.id, now)
                )
            instants = [fixed_now[post.id]]
        elif schedule.when == "once":
            instants = [schedule.at] if schedule.at is not None and schedule.at <= end else []
        else:
            instants = list(schedule.occurrences(now - grace, end + timedelta(microseconds=1), now))
        for at in instants:
            occurrence = Planned(r, at, schedule.when, due=at <= now)
            result.occurrences.append(occurrence)
            frozen = result.frozen.get(post.id)
            if frozen is not None:
                if occurrence.due:
                    out = Outcome(occurrence.key, post.id, name, r.platform, at, "held")
                    out.error, out.error_kind = frozen
                    result.held.append(out)
                continue
            result.desired.append(
                Desired(
                    post.id,
                    name,
                    r.platform,
                    at,
                    content_hash(r),
                    repeats=schedule.when == "recurring",
                )
            )
            if at < now - grace:
                result.missed.append(occurrence.key)
    result.occurrences.sort(key=lambda o: (o.at, o.rendering.post.id, o.rendering.account.name))
    return result


def _freeze(ws: Workspace, analysis: Analysis, result: Plan) -> None:
    """Posts the ledger must leave alone: those of unreadable files, and those with errors."""
    config = ws.config
    bad_files: dict[str, Problem] = {}
    everything: Problem | None = None
    people = config.display(config.people_path)
    for problem in result.unreadable:
        where = problem.location.file if problem.location else None
        if where is None or where == people:
            everything = everything or problem
        else:
            bad_files.setdefault(where, problem)
    broken = {p.post for p in analysis.problems if p.severity == "error" and p.post}
    for post in ws.campaign.posts:
        found = everything or bad_files.get(post.loc.file)
        if found is not None:
            at = found.location or post.loc
            result.frozen[post.id] = (
                f"its file cannot be read ({at}: {found.message}): it waits until it is fixed",
                ErrorKind.UNREADABLE,
            )
        elif post.id in broken:
            result.frozen[post.id] = (
                "the post has errors: run `eduadvocate check`",
                ErrorKind.INVALID,
            )


@dataclass(slots=True)
class Recorded:
    """What :func:`record` changed, and what this run must leave alone."""

    added: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    drifted: list[str] = field(default_factory=list)
    reinstated: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)  # deleted from a platform's scheduler
    warnings: list[str] = field(default_factory=list)
    hold_posts: set[str] = field(default_factory=set)  # not to be claimed in this run
    held: list[Outcome] = field(default_factory=list)  # due deliveries in the ledger, held


def record(
    result: Plan,
    ledger: Ledger,
    *,
    grace: timedelta,
    connect: Callable[[str], Publisher] | None = None,
) -> Recorded:
    """Bring the ledger in line with the plan: add what is new, cancel what was removed (only
    when every file loaded), reinstate what came back, skip what was missed beyond ``grace``,
    and withdraw from a platform's scheduler what moved or left (``connect`` gives the account's
    publisher; without it nothing is withdrawn and those posts are held)."""
    now = result.now
    out = Recorded()
    names = result.accounts
    natives = result.native if names is None else result.native & names
    withdraw: list[int] = []

    def sync(
        desired: list[Desired],
        until: datetime,
        scope: set[str] | None,
        keep: Callable[[str, str], bool],
    ) -> None:
        report = ledger.sync(desired, now, until=until, scope=scope, keep=keep)
        out.added += report.added
        out.cancelled += report.cancelled
        out.drifted += report.drifted
        out.reinstated += report.reinstated
        withdraw.extend(report.withdraw)

    def keep(post_id: str, account: str) -> bool:
        return result.keep(post_id)

    def keep_ordinary(post_id: str, account: str) -> bool:
        return account in natives or result.keep(post_id)

    if natives:
        mine = [d for d in result.desired if d.account in natives]
        sync(mine, result.native_until, natives, keep)
    ordinary = [d for d in result.desired if d.account not in natives]
    sync(ordinary, result.until, names - natives if names is not None else None, keep_ordinary)
    out.skipped = ledger.mark_skipped(
        result.missed, now, f"missed: it was due more than {_hours(grace)} ago"
    )
    if withdraw:
        _withdraw(ledger, sorted(withdraw), {d.key for d in result.desired}, now, connect, out)
    if not result.complete or result.frozen:
        _hold_waiting(result, ledger, out)
    return out


def _withdraw(
    ledger: Ledger,
    ids: Iterable[int],
    wanted: set[str],
    now: datetime,
    connect: Callable[[str], Publisher] | None,
    out: Recorded,
) -> None:
    """Delete moved, edited or removed posts from the platform's scheduler, then record it."""
    rows = [d for d in (ledger.get(i) for i in ids) if d is not None]
    publishers: dict[str, Publisher] = {}
    try:
        for d in rows:
            remote = d.parts[0].remote_id if d.parts else None
            if connect is None or remote is None:
                out.hold_posts.add(d.post_id)
                continue
            try:
                publisher = publishers.get(d.account) or connect(d.account)
                publishers[d.account] = publisher
                there = publisher.delete(remote)
            except Exception as exc:  # any failure: keep both, hand nothing new over
                out.hold_posts.add(d.post_id)
                out.warnings.append(
                    f"{d.post_id} → {d.account}: could not take it out of the platform's scheduler"
                    f" ({_reason(exc)}); nothing new of it is handed over until that works"
                )
                continue
            cancel = d.key not in wanted
            if not ledger.unschedule(d.id, now, cancel=cancel):
                out.warnings.append(
                    f"{d.post_id} → {d.account}: it went live before it could be withdrawn"
                )
                continue
            out.withdrawn.append(d.key)
            if cancel:
                out.cancelled.append(d.key)
            if not there:
                out.warnings.append(
                    f"{d.post_id} → {d.account}: it had already been deleted in the platform's scheduler"
                )
    finally:
        for publisher in publishers.values():
            publisher.close()


def _hold_waiting(result: Plan, ledger: Ledger, out: Recorded) -> None:
    """Pending deliveries this run must not send: frozen posts, and (while a file is unreadable)
    posts missing from the files. Those due now are reported as held (once: ``plan`` reported
    the due occurrences it could still read)."""
    reported = {h.key for h in result.held}
    missing = (
        f"not in the files that could be read ({result.unreadable[0].one_line()}):"
        " it waits until they all load"
        if result.unreadable
        else ""
    )
    for d in ledger.deliveries(state=State.PENDING):
        if result.accounts is not None and d.account not in result.accounts:
            continue
        if not result.keep(d.post_id):
            continue
        out.hold_posts.add(d.post_id)
        if d.due_at > result.now or {d.key, untimed_key(d.post_id, d.account)} & reported:
            continue
        held = Outcome.of(d, "held")
        held.error, held.error_kind = result.frozen.get(d.post_id, (missing, ErrorKind.UNREADABLE))
        out.held.append(held)
    out.hold_posts |= set(result.frozen)


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return plural(hours, "hour")


def _reason(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


# How far ahead the next due post is looked for, nearest first: a plan over a year of an hourly
# post is thousands of occurrences, and the next post is usually within a day.
NEXT_DUE_HORIZONS = (timedelta(days=1), timedelta(days=8), timedelta(days=32), timedelta(days=367))


def next_due(
    ws: Workspace, analysis: Analysis, now: datetime, *, accounts: set[str] | None = None
) -> datetime | None:
    """When the next post after ``now`` is due, as :func:`plan` (and so ``calendar``) sees it:
    posts that will be attempted (not held), within a year; None when nothing is."""
    if not any(_may_come(analysis, r, now, accounts) for r in analysis.renderings):
        # All in the past (a campaign catching up, or done): no plan can find a later post, and
        # each would still hash every post's content, four times over (issue 14: CPU per run).
        return None
    for horizon in NEXT_DUE_HORIZONS:
        later = [
            d.due_at
            for d in plan(
                ws,
                analysis,
                now,
                grace=timedelta(0),
                horizon=horizon,
                accounts=accounts,
                native=False,
            ).desired
            if d.due_at > now
        ]
        if later:
            return min(later)
    return None


def _may_come(
    analysis: Analysis, rendering: Rendering, now: datetime, accounts: set[str] | None
) -> bool:
    """Whether :func:`plan` could put this rendering after ``now``: a recurring post, or a
    one-off one still to come. An ``at: now`` post is planned at ``now`` (with no ledger)."""
    if accounts is not None and rendering.account.name not in accounts:
        return False
    schedule = analysis.schedules.get(rendering.post.id)
    if schedule is None:
        return False
    if schedule.when == "recurring":
        return True
    return schedule.when == "once" and schedule.at is not None and schedule.at > now
