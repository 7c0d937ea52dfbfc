"""Every rule over every post × account, collected into one list of located problems.

Pure: reads the media files' headers but never the network or the ledger. ``analyse`` is the one
entry point; ``check``, ``render`` and ``calendar`` all start from its result.
"""

from __future__ import annotations

import bisect
import functools
import gc
import itertools
import os
import re
import signal
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence, Set
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eduadvocate.compose.checkmedia import check_media
from eduadvocate.compose.render import (
    Part,
    Renderer,
    Rendering,
    effective_content,
    hashtags,
    is_web_address,
)
from eduadvocate.config.model import Config
from eduadvocate.content.load import first_uses, iter_post_files, load_file, load_posts
from eduadvocate.content.model import Campaign, Person, Post
from eduadvocate.content.textsafety import identifier_warning, text_warnings, word_warns
from eduadvocate.core.errors import EduError, Findings, Location, Problem, Severity
from eduadvocate.core.suggest import did_you_mean, shown
from eduadvocate.platforms.base import Facet, FacetKind, PlatformSpec
from eduadvocate.platforms.posturl import EXAMPLES, post_address
from eduadvocate.platforms.registry import platform_names, spec_class
from eduadvocate.platforms.textcount import twitter
from eduadvocate.timing.occurrences import Schedule, schedule_of
from eduadvocate.timing.timespec import local_label

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

# Problems that do not depend on the account: reported once per post, not once per account.
_ACCOUNT_FREE = frozenset(
    {
        "unknown-variable",
        "unknown-person",
        "hashtag-case",
        "media-missing",
        "media-unreadable",
        "alt-missing",
        "alt-empty",
        "link-malformed",
        "media-outside",
        "media-invalid",
        "video-captions",
        "captions-missing",
        "captions-outside",
        "captions-invalid",
        "captions-unused",
        "thumbnail-unused",
        "thumbnail-outside",
        "thumbnail-missing",
        "thumbnail-invalid",
        "bidi-control",
        "invisible-character",
        "mixed-script",
    }
)
_MALFORMED_URL = re.compile(r"\b(?:https?:/(?!/)|https?//|htps?://|htt?p?s?:\\\\)", re.IGNORECASE)
_SAFETY_HINTS = {
    "bidi-control": "remove it: retype that part, or paste the text as plain text",
    "invisible-character": "remove it (it often comes along with text pasted from elsewhere)",
    "mixed-script": "retype it in one alphabet, or make sure it is the account or address you mean",
}
_SEVERITIES: dict[str, Severity] = {"error": "error", "warning": "warning"}
CAMEL_MIN_LOWER = 10  # an all-lowercase tag this long is almost surely several words
CAMEL_MIN_UPPER = 7  # shorter all-caps tags are usually acronyms (#NEA, #AFT, #STEM)


@dataclass(slots=True)
class Analysis:
    """What ``analyse`` found: problems, the renderings (unless the caller left them out), each
    post's parsed schedule, and how many posts and deliveries (post × account) there are."""

    problems: list[Problem] = field(default_factory=list)
    renderings: list[Rendering] = field(default_factory=list)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    posts: int = 0
    deliveries: int = 0  # counted whether or not the renderings are kept

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)


def analyse(
    config: Config,
    campaign: Campaign,
    now: datetime,
    *,
    post_ids: set[str] | None = None,
    accounts: set[str] | None = None,
    workers: int | None = 1,
    renderings: bool = True,
) -> Analysis:
    """Check (and render) every post × account; ``post_ids``/``accounts`` narrow it down.

    ``workers``: processes to spread the posts over (None: :func:`parallel_workers` decides).
    The result is the same for any number: each process renders and checks a run of posts, and
    the runs are joined in the campaign's order.

    ``renderings=False`` (``check``, which shows only problems and counts) leaves
    ``Analysis.renderings`` empty and all else as it would be: each rendering is dropped once
    checked, and a process sends back no rendering, only the few texts the duplicate-text rule
    compares. The schedules stay (a twentieth of what the renderings cost to send, measured on
    bench/check_speed.py), so the result differs from the full one in its renderings alone.
    """
    with collecting_later():
        return _analyse(config, campaign, now, post_ids, accounts, workers, renderings)


@contextmanager
def collecting_later() -> Iterator[None]:
    """Python's cycle collector paused: an analysis builds a large result without cycles, and
    the collector walked all of it again and again as it grew (about 7% of ``check``). A
    command that loads, analyses, prints and exits (``check``) pauses it throughout: its first
    full pass after the analysis walked the whole campaign once more (~0.1 s on the bench)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _analyse(
    config: Config,
    campaign: Campaign,
    now: datetime,
    post_ids: set[str] | None,
    accounts: set[str] | None,
    workers: int | None,
    keep: bool,
) -> Analysis:
    result = Analysis()
    problems = list(campaign.problems)
    job = _Job(config, now, accounts, campaign.people)
    posts = [p for p in campaign.posts if post_ids is None or p.id in post_ids]
    count = min(parallel_workers(len(posts)) if workers is None else workers, len(posts))
    alike = _alike_platforms(job)
    outcomes = (
        _in_processes(job, posts, count, keep, alike)
        if count > 1
        else _outcomes(job.run(posts), keep, alike)
    )
    said: list[tuple[_Who, _Said]] = []
    for post, (schedule, found, renderings, deliveries, texts) in zip(posts, outcomes, strict=True):
        result.posts += 1
        result.deliveries += deliveries
        if schedule is not None:
            result.schedules[post.id] = schedule
        problems.extend(found)
        result.renderings.extend(renderings)
        said.extend((_who(post), t) for t in texts)
    problems.extend(_check_people(campaign, problems))
    problems.extend(_duplicate_texts(said))
    result.problems = _finish(problems, config.severity)
    return result


# A post's schedule, its problems in the order found, and its renderings.
_PostResult = tuple[Schedule | None, list[Problem], list[Rendering]]
# What the duplicate-text rule needs of a rendering: its platform, account and part texts.
_Said = tuple[str, str, tuple[str, ...]]
# A post as the duplicate-text rule names it: its id, and where its text (or else it) starts.
_Who = tuple[str, Location]


def _who(post: Post) -> _Who:
    return post.id, post.content.text_loc or post.loc


# A post's result as the analysis joins it: its schedule and problems, its renderings (none
# when the caller left them out), how many there were, and what the duplicate-text rule needs.
_Outcome = tuple[Schedule | None, list[Problem], list[Rendering], int, list[_Said]]


def _alike_platforms(job: _Job) -> frozenset[str]:
    """The platforms where two accounts could be sent the same text: those with two or more
    accounts in the config (the outbox aside, which posts nowhere). Only their renderings'
    texts are kept for the duplicate-text rule."""
    counts = Counter(spec.name for spec in job.specs.values())
    return frozenset(name for name, n in counts.items() if n > 1 and name != "outbox")


def _outcomes(
    results: Iterator[_PostResult], keep: bool, alike: frozenset[str]
) -> Iterator[_Outcome]:
    """Each post's result with its renderings counted and what the duplicate-text rule needs
    taken from them (accounts reposting one post share it alike, by design: not taken), then
    the renderings kept or (``keep`` false) dropped."""
    for schedule, found, renderings in results:
        texts = [
            (r.platform, r.account.name, tuple(p.text for p in r.parts))
            for r in renderings
            if r.platform in alike and r.post.repost is None
        ]
        yield schedule, found, renderings if keep else [], len(renderings), texts


# Below this, forking and sending the results back cost more than they save.
MIN_POSTS_PER_PROCESS = 1_000
MAX_PROCESSES = 8


def parallel_workers(posts: int) -> int:
    """The processes worth using for ``posts`` posts: one per core, each with at least
    :data:`MIN_POSTS_PER_PROCESS`, and only where forking is safe (no other thread running,
    which a fork would copy mid-step, as ``schedule``'s file watch does)."""
    if not hasattr(os, "fork") or threading.active_count() > 1:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_PROCESSES, posts // MIN_POSTS_PER_PROCESS))


@dataclass(slots=True)
class _Job:
    """What rendering and checking a run of posts needs, and does it."""

    config: Config
    now: datetime
    accounts: set[str] | None
    people: dict[str, Person]
    specs: dict[str, PlatformSpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.specs = {
            name: spec_class(acc.platform)(acc) for name, acc in self.config.accounts.items()
        }

    def run(self, posts: list[Post]) -> Iterator[_PostResult]:
        config = self.config
        renderer = Renderer(self.people)
        for post in posts:
            found: list[Problem] = []
            renderings: list[Rendering] = []
            schedule = schedule_of(post, found)
            at = schedule.at if schedule is not None and schedule.when == "once" else None
            if at is not None and at < self.now:
                assert schedule is not None
                found.append(_time_past(post, schedule, self.now, config.grace))
            _check_content(post, found)
            _check_shares(post, found)
            names = _accounts_of(post, config, found)
            if post.shares is not None:
                names = _share_accounts(post, names, self.specs, found)
            for name in names:
                if self.accounts is not None and name not in self.accounts:
                    continue
                spec = self.specs[name]
                if post.repost is not None:  # nothing to render: the post is shared as it is
                    renderings.append(
                        Rendering(post, spec.account, spec.name, [Part("", 0, spec.limit, 0)])
                    )
                    continue
                rendering = renderer.render(post, spec)
                found.extend(rendering.problems)
                found.extend(check_rendering(rendering, spec, config.root, config.media_folder))
                renderings.append(rendering)
            yield schedule, found, renderings


# What forked children inherit (set just before the pool forks them): the job and its posts,
# whether to send back the renderings, and the platforms whose texts the duplicate rule needs.
_FORKED: list[tuple[_Job, list[Post], bool, frozenset[str]]] = []


def _in_processes(
    job: _Job, posts: list[Post], processes: int, keep: bool, alike: frozenset[str]
) -> Iterator[_Outcome]:
    """Consecutive runs of ``posts``, the first here and the others in forked children (which
    share the campaign without pickling it), in order. A child sends back its renderings
    (``keep``; else none) without their post and account, which are put back from this
    process's own. Children are killed if this process stops early (an error, Ctrl-C, which
    they leave to it), and one that dies is an error, not a wait."""
    import multiprocessing  # (only here: a few ms of check's start-up otherwise)

    size = -(-len(posts) // processes)
    runs = [(lo, min(lo + size, len(posts))) for lo in range(0, len(posts), size)]
    context = multiprocessing.get_context("fork")
    children = []
    _FORKED[:] = [(job, posts, keep, alike)]
    try:
        for run in runs[1:]:
            reader, writer = context.Pipe(duplex=False)
            work = functools.partial(_run_in_child, run)
            child = context.Process(target=_child, args=(work, writer), daemon=True)
            child.start()
            writer.close()
            children.append((run[0], reader, child))
        lo, hi = runs[0]
        yield from _outcomes(job.run(posts[lo:hi]), keep, alike)
        for lo, reader, child in children:
            shipped: _Shipped = _received(reader, child, f"posts {lo + 1:,} to {lo + size:,}")
            for post, (schedule, found, bare, deliveries, texts) in zip(
                posts[lo:], shipped, strict=False
            ):
                yield (
                    schedule,
                    found,
                    [_unpacked(b, post, job.config) for b in bare],
                    deliveries,
                    texts,
                )
    finally:
        _FORKED.clear()
        _ended(children)


def _ended(children: Sequence[tuple[int, Connection, BaseProcess]]) -> None:
    """Each child ended (done already, but for an early stop) and its pipe closed."""
    for _, reader, child in children:
        child.kill()
        child.join()
        reader.close()


def _child(work: Callable[[], object], writer: Connection) -> None:
    """A forked child's work (its run of posts, or its share of posts files, read and
    analysed), sent back whole (or what stopped it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it ends the children
    try:
        writer.send(("done", work()))
    except Exception as exc:  # handed to the parent, which raises it as the serial run would
        writer.send(("failed", exc))
    finally:
        writer.close()


# A rendering as a child sends it: its account's name, the rendering without its post, account
# and parts, and the parts as plain tuples (pickle takes those whole; it rebuilt each dataclass
# field by field, which cost more than the parts' rendering saved).
_Part = tuple[str, int, int, int, tuple[tuple[FacetKind, int, int, str], ...], bool]
# account name, platform, parts, content warning, split, card URL, link, problems
_Packed = tuple[str, str, list[_Part], str | None, bool, str | None, str | None, list[Problem]]
_Shipped = list[tuple[Schedule | None, list[Problem], list[_Packed], int, list[_Said]]]


def _run_in_child(run: tuple[int, int]) -> _Shipped:
    (job, posts, keep, alike) = _FORKED[0]
    lo, hi = run
    return [
        (schedule, found, [_packed(r) for r in renderings], deliveries, texts)
        for schedule, found, renderings, deliveries, texts in _outcomes(
            job.run(posts[lo:hi]), keep, alike
        )
    ]


def _received(reader: Connection, child: BaseProcess, what: str) -> Any:
    """What a child sent, or the error it raised raised here; one that died without sending is
    an error naming ``what`` it had (``posts 1 to 500``)."""
    try:
        outcome, shipped = reader.recv()
    except EOFError:
        child.join()
        status = child.exitcode or 0
        how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        raise EduError(
            f"the process checking {what} died ({how})",
            hint="run check again; if it dies again, the machine may be out of memory",
        ) from None
    if outcome == "failed":
        raise shipped
    return shipped


# Bytes of posts file per post, to guess a campaign's size before reading it (bench/
# check_speed.py's posts take ~310 bytes each; longer posts are guessed as more posts, and they
# take longer to check too).
BYTES_PER_POST = 300


def analyse_folder(config: Config, campaign: Campaign, now: datetime) -> tuple[Analysis, list[str]]:
    """``check``'s analysis (no renderings) of the campaign's posts folder, and its posts files
    as shown: ``campaign`` holds the people only (``start_campaign``), and the result is
    ``analyse(..., workers=None, renderings=False)`` of the campaign ``load_campaign`` reads,
    but for its schedules, which check does not show (when spread, none are kept).
    A campaign worth spreading over processes (:func:`parallel_workers` of its posts as guessed
    from its files' bytes, :data:`BYTES_PER_POST`) has them read its posts files too
    (:func:`_in_shares`); a smaller one is read here, then analysed as ``analyse`` does."""
    platforms = platform_names()
    paths = list(iter_post_files(config.posts_dir)) if config.posts_dir.is_dir() else []
    sizes = [_size(path) for path in paths]
    count = min(parallel_workers(sum(sizes) // BYTES_PER_POST), len(paths))
    with collecting_later():
        if count > 1:
            return _in_shares(config, campaign, now, platforms, _shares(paths, sizes, count))
        loaded = replace(campaign, posts=[], problems=list(campaign.problems), files=[])
        load_posts(loaded, config, paths, platforms, {})
        return _analyse(config, loaded, now, None, None, None, False), loaded.files


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # (gone since listed: reading it reports that)
        return 0


def _shares(paths: list[Path], sizes: list[int], count: int) -> list[list[Path]]:
    """``paths`` cut into ``count`` runs of consecutive files (none empty), each cut where the
    bytes before it come nearest to an equal share."""
    total = sum(sizes)
    before = [0]  # bytes in the files before each index
    for size in sizes:
        before.append(before[-1] + size)
    cuts = [0]
    for k in range(1, count):
        goal = total * k / count
        j = bisect.bisect_left(before, goal)
        cut = min((j - 1, j), key=lambda c: (abs(before[max(c, 0)] - goal), c))
        cuts.append(max(cuts[-1] + 1, min(cut, len(paths) - (count - k))))
    cuts.append(len(paths))
    return [paths[lo:hi] for lo, hi in itertools.pairwise(cuts)]


# A posts file as a child read it: as shown, the problems met reading it, its posts' ids and
# their places in that file as line, column, line, column... in order (the duplicate-id rule
# is applied by the parent, in the files' order; a place becomes a Location only if a later
# post uses its id).
_ReadFile = tuple[str, list[Problem], list[str], list[int]]
# Each post's outcome as a child sends it: problems, deliveries, what the duplicate-text rule
# needs, and (for that rule, so only if it has a text to compare) where the post's text starts.
# Only what the parent needs: the child's pickling and the parent's unpickling are on the
# critical path (bench/check_speed.py: ~18 and ~19 ms of CPU for 774 KB, now ~5 and ~7).
_ShareOutcome = tuple[list[Problem], int, list[_Said], Location | None]
# What forked children inherit (set just before they are forked): the job, the shares of posts
# files, the platforms a post may override, and those whose texts the duplicate rule needs.
_SHARES: list[tuple[_Job, list[list[Path]], Set[str], frozenset[str]]] = []


def _in_shares(
    config: Config,
    campaign: Campaign,
    now: datetime,
    platforms: Set[str],
    shares: list[list[Path]],
) -> tuple[Analysis, list[str]]:
    """The analysis of the posts files in ``shares`` (consecutive runs of them), the first
    read and analysed here and each other one in a forked child, which reads its own (the
    config, people and job were read here once, and are shared by the fork).

    The duplicate-id rule goes in the files' order, so it is applied here: a child reads and
    analyses every post of its share and sends back, per file, its problems and its posts' ids
    and places, and per post its outcome; this process runs ``load_campaign``'s rule over the
    files in order and keeps the outcome of each post that uses its id first, dropping the
    others' whole (their one problem is the ``duplicate-id`` the rule reports). The problems are
    joined in ``analyse``'s order (reading's, then each post's), so the result is the same.
    Children are ended as in :func:`_in_processes`."""
    import multiprocessing  # (only here: a few ms of check's start-up otherwise)

    job = _Job(config, now, None, campaign.people)
    alike = _alike_platforms(job)
    context = multiprocessing.get_context("fork")
    children = []
    _SHARES[:] = [(job, shares, platforms, alike)]
    try:
        for index in range(1, len(shares)):
            reader, writer = context.Pipe(duplex=False)
            child = context.Process(
                target=_child, args=(functools.partial(_share_in_child, index), writer), daemon=True
            )
            child.start()
            writer.close()
            children.append((index, reader, child))
        loaded = replace(campaign, posts=[], problems=list(campaign.problems), files=[])
        seen: dict[str, Location] = {}
        load_posts(loaded, config, shares[0], platforms, seen)
        result = Analysis()
        found: list[Problem] = []
        said: list[tuple[_Who, _Said]] = []

        def add(post_id: str, outcome: _ShareOutcome) -> None:
            problems, deliveries, texts, where = outcome
            result.posts += 1
            result.deliveries += deliveries
            found.extend(problems)
            if texts:
                assert where is not None
                said.extend(((post_id, where), t) for t in texts)

        for post, (_, problems, _, deliveries, texts) in zip(
            loaded.posts, _outcomes(job.run(loaded.posts), False, alike), strict=True
        ):
            add(post.id, (problems, deliveries, texts, _who(post)[1]))
        # Ids the children's files use first, with their places: built as Locations (into
        # ``seen``) only when a later post uses one of them, which is rare.
        unbuilt: dict[str, tuple[str, int, int]] = {}
        for index, reader, child in children:
            share = shares[index]
            named = config.display(share[0]) + (
                f" to {config.display(share[-1])}" if len(share) > 1 else ""
            )
            read: list[_ReadFile]
            outcomes: list[_ShareOutcome]
            read, outcomes = _received(reader, child, named)
            firsts = _first_uses_in(read, loaded, seen, unbuilt)
            ids = [post_id for _, _, file_ids, _ in read for post_id in file_ids]
            for first, post_id, outcome in zip(firsts, ids, outcomes, strict=True):
                if first:
                    add(post_id, outcome)
        problems = [*loaded.problems, *found]
        problems.extend(_check_people(loaded, problems))
        problems.extend(_duplicate_texts(said))
        result.problems = _finish(problems, config.severity)
        return result, loaded.files
    finally:
        _SHARES.clear()
        _ended(children)


def _first_uses_in(
    read: list[_ReadFile],
    loaded: Campaign,
    seen: dict[str, Location],
    unbuilt: dict[str, tuple[str, int, int]],
) -> list[bool]:
    """The files a child read joined to ``loaded`` in order, and ``first_uses`` of their posts:
    only a file with an id used before (or twice in it) is given to that rule, its places and
    those of the ids it repeats (from ``unbuilt``) made Locations; the others' ids are added to
    ``unbuilt``, and their posts all use their ids first."""
    firsts: list[bool] = []
    for display, problems, ids, places in read:
        loaded.files.append(display)
        loaded.problems.extend(problems)
        lines, columns = places[0::2], places[1::2]
        if (
            len(set(ids)) == len(ids)
            and seen.keys().isdisjoint(ids)
            and unbuilt.keys().isdisjoint(ids)
        ):
            firsts.extend([True] * len(ids))
            unbuilt.update(zip(ids, zip(itertools.repeat(display), lines, columns), strict=False))
            continue
        for post_id in ids:
            if post_id in unbuilt:
                seen[post_id] = Location(*unbuilt.pop(post_id))
        posts = [
            (post_id, Location(display, line, column))
            for post_id, line, column in zip(ids, lines, columns, strict=True)
        ]
        firsts.extend(first_uses(posts, seen, loaded.problems))
    return firsts


def _share_in_child(index: int) -> tuple[list[_ReadFile], list[_ShareOutcome]]:
    job, shares, platforms, alike = _SHARES[0]
    config = job.config
    read: list[_ReadFile] = []
    posts: list[Post] = []
    for path in shares[index]:
        display = config.display(path)
        problems: list[Problem] = []
        file_posts = load_file(
            path, display, config.defaults, platforms, problems, config.posts_dir
        )
        # (a post's place is in its file: its Location's file is ``display``)
        places = [n for p in file_posts for n in (p.loc.line, p.loc.column)]
        read.append((display, problems, [p.id for p in file_posts], places))
        posts.extend(file_posts)
    return read, [
        (found, deliveries, texts, _who(post)[1] if texts else None)
        for post, (_, found, _, deliveries, texts) in zip(
            posts, _outcomes(job.run(posts), False, alike), strict=True
        )
    ]


def _packed(r: Rendering) -> _Packed:
    parts = [
        (
            p.text,
            p.length,
            p.limit,
            p.bytes,
            tuple((f.kind, f.byte_start, f.byte_end, f.value) for f in p.facets),
            bool(p.media),
        )
        for p in r.parts
    ]
    return (
        r.account.name,
        r.platform,
        parts,
        r.content_warning,
        r.split,
        r.card_url,
        r.link,
        r.problems,
    )


def _unpacked(packed: _Packed, post: Post, config: Config) -> Rendering:
    """The rendering a child packed, with this process's post and account (and the media of the
    post's content, which only the first part carries)."""
    name, platform, parts, content_warning, split, card_url, link, problems = packed
    media = effective_content(post, platform).media or ()
    return Rendering(
        post,
        config.accounts[name],
        platform,
        [
            Part(
                text, length, limit, size, tuple(Facet(*f) for f in facets), media if first else ()
            )
            for text, length, limit, size, facets, first in parts
        ],
        content_warning,
        split,
        card_url,
        link,
        problems,
    )


def _time_past(post: Post, schedule: Schedule, now: datetime, grace: timedelta) -> Problem:
    """What ``publish`` will do with a one-shot time already passed, as delivery/planning.py
    decides it: within the grace window it still goes out (until the window closes), before it
    the post is skipped."""
    assert schedule.at is not None
    if schedule.at >= now - grace:
        until = local_label(schedule.at + grace, schedule.zone)
        hours = grace.total_seconds() / 3600
        return Problem(
            "time-past",
            "warning",
            f"at: {post.at} is in the past, but within the {hours:g}-hour grace window:"
            f" publish still sends it until {until}",
            post.at_loc,
            "run `eduadvocate publish` before then, or change the time",
            post=post.id,
        )
    return Problem(
        "time-past",
        "warning",
        f"at: {post.at} is in the past, so it will not be published",
        post.at_loc,
        "change the time, or delete the post once it is no longer needed",
        post=post.id,
    )


def _accounts_of(post: Post, config: Config, problems: list[Problem]) -> list[str]:
    names = post.account_names
    loc = post.accounts_loc or post.defaults.accounts_loc or post.loc
    if not names:
        problems.append(
            Problem(
                "no-accounts",
                "error",
                "the post goes to no account",
                loc,
                "add accounts: [name, …] to it, its file, or the config's defaults",
                post=post.id,
            )
        )
        return []
    known = []
    for name in names:
        if name in config.accounts:
            known.append(name)
        else:
            problems.append(
                Problem(
                    "unknown-account",
                    "error",
                    f'no account named "{name}" in the config',
                    loc,
                    did_you_mean(name, config.accounts),
                    post=post.id,
                )
            )
    return known


@dataclass(frozen=True, slots=True)
class Share:
    """What one field that names another's post does, in the words its problems use."""

    codes: tuple[str, str]  # the prefix of -unknown/-platform, and of -no-account/-unsupported
    verb: str  # answer, repost, quote
    plural: str  # replies, reposts, quotes
    one: str  # a reply, a repost, a quote
    hint: str  # what to do where the platform cannot


SHARES = {
    "reply_to": Share(
        ("reply-to", "reply"),
        "answer",
        "replies",
        "a reply",
        "answer it on the platform itself for now",
    ),
    "repost": Share(
        ("repost", "repost"),
        "repost",
        "reposts",
        "a repost",
        "repost it on the platform itself, or share its address as a post's link:",
    ),
    "quote": Share(
        ("quote", "quote"),
        "quote",
        "quotes",
        "a quote",
        "quote it on the platform itself, or share its address as a post's link:",
    ),
}
# How render and its preview introduce the post a delivery answers, reposts or quotes.
SHARED = {"reply_to": "In reply to", "repost": "Reposts", "quote": "Quotes"}
# What a repost may not have: it shares another's post as it is.
_REPOST_FREE = ("text", "thread", "media", "link", "hashtags", "content_warning", "card")


def _can(spec: PlatformSpec, field_name: str, platform: str) -> bool:
    """Whether ``spec``'s account can reply to, repost or quote a post on ``platform``."""
    allowed = {"reply_to": spec.answers, "repost": spec.reposts, "quote": spec.quotes}[field_name]
    return platform in allowed or "*" in allowed


def _share_accounts(
    post: Post, names: list[str], specs: dict[str, PlatformSpec], problems: list[Problem]
) -> list[str]:
    """The accounts a reply, repost or quote goes to: those of ``names`` that can do it to a
    post on the platform its address names (read by its shape only: nothing is fetched at check
    time). Accounts elsewhere that the post's own ``accounts:`` lists are errors; accounts that
    came from the defaults are left out quietly, so a campaign's defaults serve these too."""
    shares = post.shares
    assert shares is not None
    field_name, url, written = shares
    share = SHARES[field_name]
    loc = written or post.loc
    address = post_address(url)
    if address is None:
        problems.append(
            Problem(
                f"{share.codes[0]}-unknown",
                "error",
                f'{field_name}: "{shown(url, 80)}" is not the address of a post on a'
                f" platform eduadvocate can {share.verb}",
                loc,
                f"copy the address from the post's page: {EXAMPLES}",
                post=post.id,
            )
        )
        return []
    kept, refused = [], False
    for name in names:
        spec = specs[name]
        if _can(spec, field_name, address.platform):
            # (A share needs no id of the post: its address is only ever shown as a link.)
            unreadable = spec.reply_problem(url) if field_name == "reply_to" else None
            if unreadable is None:
                kept.append(name)
                continue
            refused = True
            problems.append(
                Problem(
                    f"{share.codes[0]}-unknown",
                    "error",
                    f'{field_name}: "{shown(url, 80)}": {unreadable}',
                    loc,
                    post=post.id,
                    account=name,
                )
            )
        elif spec.name == address.platform:
            refused = True
            problems.append(
                Problem(
                    f"{share.codes[1]}-unsupported",
                    "error",
                    f'{share.plural} on {address.title} are not supported yet (account "{name}")',
                    loc,
                    share.hint,
                    post=post.id,
                )
            )
        elif post.accounts is not None:
            refused = True
            problems.append(
                Problem(
                    f"{share.codes[0]}-platform",
                    "error",
                    f'account "{name}" is on {spec.title}, but {field_name}: is a post on'
                    f" {address.title}: {share.one} goes only to accounts on its post's platform",
                    post.accounts_loc or loc,
                    f"remove {name} from accounts:, or write a separate post for it",
                    post=post.id,
                )
            )
    if not kept and not refused and names:
        problems.append(
            Problem(
                f"{share.codes[1]}-no-account",
                "error",
                f"{field_name}: is a post on {address.title}, and none of this post's accounts is",
                loc,
                f"add accounts: [an account on {address.title}] to the post",
                post=post.id,
            )
        )
    return kept


def _check_shares(post: Post, problems: list[Problem]) -> None:
    """At most one of reply_to:, repost: and quote:; and a repost carries nothing of its own."""
    if post.reply_to is None and post.repost is None and post.quote is None:
        return  # (most posts: none written, nothing to say)
    written = [
        (name, loc)
        for name, url, loc in (
            ("reply_to", post.reply_to, post.reply_to_loc),
            ("repost", post.repost, post.repost_loc),
            ("quote", post.quote, post.quote_loc),
        )
        if url is not None
    ]
    if len(written) > 1:
        problems.append(
            Problem(
                "share-conflict",
                "error",
                f"a post has at most one of reply_to:, repost: and quote:, not"
                f" {' and '.join(name + ':' for name, _ in written)}",
                written[1][1] or post.loc,
                "write a separate post for each",
                post=post.id,
            )
        )
    if post.repost is None:
        return
    for where, content in [(None, post.content), *post.overrides.items()]:
        for name in _REPOST_FREE:
            if not getattr(content, name):  # (card: false asks for nothing)
                continue
            loc = {"text": content.text_loc, "link": content.link_loc}.get(name)
            loc = loc or (content.hashtags_loc if name == "hashtags" else None)
            problems.append(
                Problem(
                    "repost-content",
                    "error",
                    f"a repost has no {name}: it shares the post as it is"
                    + (f" (the {where} override has {name}:)" if where else ""),
                    loc or content.loc or post.repost_loc or post.loc,
                    f"remove {name}:, or write quote: instead of repost: to add your words",
                    post=post.id,
                )
            )


def _check_content(post: Post, problems: list[Problem]) -> None:
    content = post.content
    if content.text is not None and content.thread is not None:
        problems.append(
            Problem(
                "text-and-thread",
                "error",
                "a post has text: or thread:, not both",
                content.text_loc,
                post=post.id,
            )
        )
    if (
        content.text is None
        and content.thread is None
        and not post.repost
        and not any(o.text is not None or o.thread is not None for o in post.overrides.values())
    ):
        problems.append(
            Problem(
                "no-text",
                "error",
                "the post has no text: or thread:",
                post.loc,
                "add text: …",
                post=post.id,
            )
        )
    links = [(content.link, content.link_loc)]
    if post.overrides:  # (most posts have none: no list made of them)
        links += [(o.link, o.link_loc) for o in post.overrides.values()]
    for link, loc in links:
        if link and "{" not in link and not is_web_address(link):
            problems.append(
                Problem(
                    "link-malformed",
                    "error",
                    f'"{shown(link, 80)}" is not a web address',
                    loc,
                    "write it in full, starting with https://",
                    post=post.id,
                )
            )


def _check_people(campaign: Campaign, found: list[Problem]) -> list[Problem]:
    """Each handle in people.yaml the platform would not take (an error, unless a post that
    mentions it already reported it), or that mixes look-alike scripts (a warning)."""
    reported = {p.location for p in found if p.code == "invalid-handle"}
    out: list[Problem] = []
    for person in campaign.people.values():
        for platform, handle in person.handles.items():
            loc = person.handle_locs.get(platform, person.loc)
            spec = spec_class(platform)
            why = spec.handle_problem(handle)
            if why is not None:
                if loc not in reported:
                    out.append(
                        Problem(
                            "invalid-handle",
                            "error",
                            f'{person.key}: the {spec.title} handle "{shown(handle)}" {why}',
                            loc,
                            "write the account name as the platform shows it",
                        )
                    )
                continue
            warning = identifier_warning(handle)
            if warning is not None:
                out.append(
                    Problem("mixed-script", "warning", warning, loc, _SAFETY_HINTS["mixed-script"])
                )
    return out


def check_rendering(
    rendering: Rendering, spec: PlatformSpec, root: Path, media_folder: Path | None = None
) -> list[Problem]:
    """The rules about a rendered post: lengths, platform rules, hashtags, links, deceptive
    characters, media (which must stay inside ``media_folder``, by default ``root``)."""
    post = rendering.post
    # (effective_content's answer for a post without overrides, without the call)
    content = effective_content(post, spec.name) if post.overrides else post.content
    loc = content.text_loc or post.loc
    out = Findings(post.id, rendering.account.name, loc)
    add = out.add

    if content.text is None and content.thread is None:
        if (
            post.overrides
        ):  # the post has text for other platforms only (else no-text is reported once)
            add(
                "no-text",
                f"the post has no text for {spec.title}",
                hint=f"add text:, or {spec.name}: {{text: …}}",
            )
        return out
    # Checked as written: hashtags and a link fill the rendered part, so "" would go out as them.
    written_texts = content.thread or (content.text,)
    if len(written_texts) == 1:  # (most posts: no comprehension for one text)
        blank = [1] if _blank(written_texts[0] or "") else []
    else:
        blank = [i for i, t in enumerate(written_texts, 1) if _blank(t or "")]
    if blank:
        written = len(content.thread or ())
        add(
            "empty-text",
            f"thread part {blank[0]} of {written} is empty" if written else "text: is empty",
            hint="write some text, or remove the post (hashtags or a link alone are not a post)",
        )
        return out
    total = len(rendering.parts)
    for index, part in enumerate(rendering.parts, 1):
        if _blank(part.text):
            add(
                "empty-text",
                f"the text is empty on {spec.title}{_which(index, total)}",
                hint="write some text, or remove the post",
            )
            continue
        if part.over:
            if not spec.supports_threads:
                hint = f"shorten it, or add {spec.name}: {{text: …}} with a shorter version ({spec.title} has no threads)"
            elif content.split == "never":
                hint = "shorten it, or set split: auto to post it as a thread"
            else:
                hint = "shorten it: a URL, mention or hashtag longer than the limit cannot be split"
            add(
                "over-limit",
                f"{part.length} characters, {spec.title} allows {part.limit}{_which(index, total)}",
                hint=hint,
            )
        if spec.byte_limit is not None and part.bytes > spec.byte_limit:
            add(
                "over-limit",
                f"{part.bytes} bytes, {spec.title} allows {spec.byte_limit}{_which(index, total)}",
                hint="shorten it",
            )
        for finding in spec.findings(part.text, index - 1):
            add(
                finding.code,
                finding.message + _which(index, total),
                hint=finding.hint,
                severity=finding.severity,
            )
        rules = _WORDS.rules(part.text)  # which of the next three can find anything here
        if rules & _TAG_RULE:
            for tag in hashtags(part.text):
                if not is_readable_hashtag(tag.value):
                    add(
                        "hashtag-case",
                        f"#{tag.value} is hard for screen readers",
                        post.defaults.hashtags_loc
                        if f"#{tag.value}" not in (content.text or "")
                        else loc,
                        "write each word with a capital letter, e.g. #FundOurSchools",
                        severity="warning",
                    )
        if rules & _LINK_RULE:
            for match in _MALFORMED_URL.finditer(part.text):
                add(
                    "link-malformed",
                    f'"{match.group(0)}…" looks like a broken web address{_which(index, total)}',
                    hint="write https://",
                )
        if rules & _CHAR_RULE:
            for code, message in text_warnings(part.text):
                add(code, message, hint=_SAFETY_HINTS[code], severity="warning")
    if rendering.content_warning:  # (most have none, and "" has no warnings)
        for code, message in text_warnings(rendering.content_warning):
            add(code, "content_warning: " + message, hint=_SAFETY_HINTS[code], severity="warning")
    if content.card and rendering.card_url is None:
        add(
            "card-without-link",
            "card: true, but the post has no link to show",
            hint="add link: https://…",
        )
    media = content.media or ()
    out.extend(
        check_media(rendering, spec, root, media, content.loc or post.loc, media_folder or root)
    )
    return out


def _which(index: int, total: int) -> str:
    """How a problem of part ``index`` of ``total`` names it (nothing for a single part): made
    only for a problem reported, not for every part checked."""
    return f" (part {index} of {total})" if total > 1 else ""


# The rules of a part that ``_Words`` answers for: what each bit of its verdicts stands for.
_TAG_RULE = 1  # an unreadable hashtag (``hashtags``, ``is_readable_hashtag``)
_LINK_RULE = 2  # a broken web address (``_MALFORMED_URL``)
_CHAR_RULE = 4  # a deceptive character (``text_warnings``)
# Words and sentences remembered, and their characters, at most: then all are forgotten at once.
_WORDS_MAX = 1 << 16
_WORDS_CHARS_MAX = 1 << 24


class _Memo:
    """What a ``_Words`` remembers, forgotten whole by putting a new one in its place."""

    __slots__ = ("chars", "ends", "failed", "seen", "sentences")

    def __init__(self) -> None:
        self.sentences: dict[str, int] = {}  # a text's piece before ". " -> verdicts of piece + "."
        self.ends: dict[str, int] = {}  # the piece after its last ". " -> verdicts of that piece
        self.seen: set[str] = set()  # words judged
        self.failed: dict[str, int] = {}  # those that fail a rule, and which rules
        self.chars = 0  # in all of them


class _Words:
    """Which of three rules of ``check_rendering`` can report anything in a part: unreadable
    hashtags, broken web addresses and deceptive characters, from the part's words (split at
    spaces and line breaks, "\\n"), each distinct word judged once per process.

    Each rule is local to the words of a text split at its spaces and line breaks: what it
    finds in a text it finds in the word that holds it. Hashtags are found word by word already
    (``textcount.pieces.Joined``: words between spaces, tabs and line breaks). No broken web
    address holds a space or a line break, and ``\\b`` before a word's first character and
    ``(?!/)`` after its last see either beside the word as they see a text's start and end.
    The deceptive characters: ``textsafety.word_warns`` (its argument for a space holds for a
    line break: neither is a letter, a digit, a word character, a sign nor a dot, and both are
    ``\\s``, which ends a handle, tag or address). So a part none
    of whose words fails a rule skips that rule's scan; a part with one that does is scanned
    whole, as before: what is reported, and in which order, does not change.

    Why: part texts are unique per post (tracking parameters name it), so a cache of whole
    texts rarely hits, but words repeat. On bench/check_speed.py (texts not seen before) the
    three scans took about 70 us of the 600 us ``check``'s analysis spent on a post; a part's
    words, split, looked up and the new ones judged, take about 30.

    A part is first cut at its sentence ends, ". ", and each piece looked up whole: a text's
    words are those of each piece before a ". " with its "." (the space is a word break) and
    those of the piece after the last, so its verdicts are theirs joined. Pieces repeat where
    whole parts do not: a post's renderings for its accounts share its sentences (each
    platform's mentions, tagged links and thread cuts differ), and a campaign repeats its calls
    to action. Splitting a part into its words (objects to make and hash, four bytes a
    character in a text with an emoji) cost more than looking up its few pieces: ~28,000
    instructions a part on the bench, down from ~38,500 (~1.8% of check's analysis). Only a
    piece not seen before is split into words.

    No lock: a piece's verdicts are stored with it in one step, a word is added to ``seen``
    only after its failure is recorded, and forgetting puts a new ``_Memo`` in place, which a
    call that holds the old one does not see, so two threads checking at once each get the
    verdicts of their texts (one may judge what the other is judging, or remember into a memo
    just forgotten: the same verdicts either way)."""

    def __init__(self) -> None:
        self._memo = _Memo()

    def rules(self, text: str) -> int:
        """The rules (``_TAG_RULE`` | …) that some word of ``text`` fails; 0: none can report
        anything in ``text``."""
        memo = self._memo  # (this one throughout, though another may be put in its place)
        pieces = text.split(". ")
        end = pieces.pop()
        verdicts = memo.ends.get(end)
        if verdicts is None:
            verdicts = memo.ends[end] = self._judged(end, memo)
        sentences = memo.sentences
        for piece in pieces:
            verdict = sentences.get(piece)
            if verdict is None:
                verdict = sentences[piece] = self._judged(piece + ".", memo)
            verdicts |= verdict
        return verdicts

    def _judged(self, text: str, memo: _Memo) -> int:
        """The rules some word of ``text`` fails, each word not seen before judged (and
        remembered: all are forgotten past the bounds)."""
        # (at line breaks too: the campaign's hashtags follow a tagged link after "\n\n", and
        # that link, new in every post, was judged with them: ``extract_hashtags`` for each)
        words = text.replace("\n", " ").split(" ")
        seen, failed = memo.seen, memo.failed
        memo.chars += len(text)
        if not seen.issuperset(words):
            for word in set(words).difference(seen):
                verdict = _verdict(word)
                if verdict:
                    failed[word] = verdict
                seen.add(word)  # (after its failure: a word seen has its verdicts recorded)
                memo.chars += len(word)
        if (
            len(seen) + len(memo.sentences) + len(memo.ends) > _WORDS_MAX
            or memo.chars > _WORDS_CHARS_MAX
        ):
            self._memo = _Memo()
        if not failed or failed.keys().isdisjoint(words):
            return 0
        verdicts = 0
        for word in failed.keys() & words:
            verdicts |= failed[word]
        return verdicts


def _verdict(word: str) -> int:
    """The rules that find something in ``word`` alone."""
    verdict = 0
    if ("#" in word or "\uff03" in word) and not all(
        is_readable_hashtag(tag.value) for tag in twitter.extract_hashtags(word)
    ):
        verdict |= _TAG_RULE
    if _has_malformed_url(word):
        verdict |= _LINK_RULE
    if word_warns(word):
        verdict |= _CHAR_RULE
    return verdict


def _has_malformed_url(word: str) -> bool:
    """Whether ``_MALFORMED_URL.search(word)`` finds one, tried only where a match can start.

    Every alternative starts with "h" and "t", in any case, and under IGNORECASE no character
    but "h", "H", "t" and "T" matches those (tests/platforms/test_tagged_words.py checks every
    code point): in an ASCII word (whose lowercase keeps its indices) a match starts at an "ht"
    of its lowercase. ``match`` at such an index is ``search``'s try there: the string is not
    cut at ``pos``, so ``\\b`` looks at the character before it (``^`` would not; the pattern
    has none). Tried in order, the first index that matches is where ``search`` finds its
    match. A search tries the pattern at every index, folding each character's case: ~2.2 us
    for a 120-character tagged link, a new word in each post for each platform. Words beyond
    ASCII are searched as before."""
    if not word.isascii():
        return _MALFORMED_URL.search(word) is not None
    lowered = word.lower()
    at = lowered.find("ht")
    while at >= 0:
        if _MALFORMED_URL.match(word, at) is not None:
            return True
        at = lowered.find("ht", at + 1)
    return False


_WORDS = _Words()


@functools.lru_cache(maxsize=4096)  # the campaign's hashtags end every part of every post
def is_readable_hashtag(tag: str) -> bool:
    """False for long single-case tags (``#fundourschools``): screen readers cannot find the words."""
    letters = [c for c in tag if c.isalpha()]
    if not letters:
        return True
    if all(c.islower() for c in letters):
        return len(letters) < CAMEL_MIN_LOWER
    if all(c.isupper() for c in letters):
        return len(letters) < CAMEL_MIN_UPPER
    return True


def _duplicate_texts(said: list[tuple[_Who, _Said]]) -> list[Problem]:
    """The same part texts to two or more accounts of one platform, once per text, at the first
    post that has it (``said``: each rendering's post, platform, account and texts, in order,
    from :func:`_outcomes`)."""
    groups: dict[tuple[str, tuple[str, ...]], list[tuple[_Who, str]]] = defaultdict(list)
    for who, (platform, account, texts) in said:
        groups[(platform, texts)].append((who, account))
    out = []
    for (platform, _), group in groups.items():
        names = sorted({account for _, account in group})
        if len(names) < 2:
            continue
        post_id, loc = group[0][0]
        out.append(
            Problem(
                "duplicate-text",
                "warning",
                f"the same text goes to {len(names)} {platform} accounts ({', '.join(names)})",
                loc,
                f"give each account its own wording: {platform} treats identical posts from several accounts as spam",
                post=post_id,
            )
        )
    return out


def add_problems(analysis: Analysis, problems: list[Problem], severity: dict[str, str]) -> None:
    """Problems found beside the analysis (``check --online``), in its order and severities."""
    analysis.problems = _finish([*analysis.problems, *problems], severity)


def _finish(problems: list[Problem], severity: dict[str, str]) -> list[Problem]:
    seen: set[Problem] = set()
    out = []
    for found in problems:
        p = found
        if p.code in _ACCOUNT_FREE and p.account is not None:
            p = replace(p, account=None)
        wanted = severity.get(p.code)
        if wanted == "off":
            continue
        if wanted is not None and wanted != p.severity:
            p = replace(p, severity=_SEVERITIES[wanted])
        if p in seen:
            continue
        seen.add(p)
        out.append(p)
    out.sort(
        key=lambda p: (p.location or Location(""), p.post or "", p.account or "", p.code, p.message)
    )
    return out


def _blank(text: str) -> bool:
    """Nothing a reader would see: whitespace and NUL (Mastodon strips NUL as Ruby's ``strip``
    does, then refuses the status as blank).

    ``strip`` drops what ``isspace`` calls whitespace, so a text without NUL is blank when it
    is empty or all whitespace (``isspace`` stops at the first character that is not, where
    ``replace`` and ``strip`` copied the text first; tests/test_check_rules_fast.py holds the
    two together). A text that opens with a character neither whitespace nor NUL is not blank:
    answered from that character, where looking for a NUL scanned the whole text (~1,000
    instructions a part on the bench: four bytes a character in a text with an emoji)."""
    head = text[:1]
    if head and head != "\0" and not head.isspace():
        return False
    if "\0" in text:
        return not text.replace("\0", "").strip()
    return not text or text.isspace()
