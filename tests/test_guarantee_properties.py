"""The guarantees as properties, over many generated cases (in-process, SQLite, the in-memory
platform of tests/test_publish.py behind our own Publisher interface):

- no save of a posts file (cut anywhere, a byte changed, empty) loses or doubles a post once
  the file is whole again;
- whatever any call of a delivery raises (a library's exception, our errors, before or after
  the platform acted), nothing is left claimed, nothing goes out twice, and every delivery
  ends in a recorded state that agrees with the platform;
- whatever ledger call fails (before or after it took effect), the same holds once the next
  runs have taken over.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduadvocate.campaign.workspace import open_campaign
from eduadvocate.delivery.publish import RunReport, publish_due
from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import Ledger, LedgerError, State
from eduadvocate.platforms.publishing import (
    AuthFailed,
    InDoubt,
    OutgoingPart,
    Published,
    Publisher,
    RateLimited,
    Rejected,
    Transient,
)

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
CONFIG = """\
defaults: {timezone: UTC, accounts: [box]}
grace: 48h
accounts:
  box: {platform: outbox}
"""
FULL = """\
posts:
  - id: a1
    at: 2026-11-28 11:59
    text: Budget hearing Thursday, come early
  - id: a2
    at: 2026-11-28 11:59
    text: Class sizes are 35 in grade six
  - id: a3
    at: 2026-11-28 11:59
    thread: [Why the levy matters, Forty teachers cut, Sign the petition]
  - id: a4
    at: 2026-11-28 11:59
    text: Thank you to every parent who wrote
"""
OTHER = "posts:\n  - id: b1\n    at: 2026-11-28 11:59\n    text: From the other file\n"
IDS = ("a1", "a2", "a3", "a4", "b1")
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Platform(Publisher):
    """An in-memory platform; ``fault`` (if given) decides, per call, what goes wrong."""

    def __init__(
        self, fault: Callable[[str], tuple[BaseException, bool] | None] | None = None
    ) -> None:
        self.posts: list[OutgoingPart] = []
        self.fault = fault

    def _trouble(self, call: str, part: OutgoingPart | None = None) -> None:
        found = self.fault(call) if self.fault else None
        if found is None:
            return
        exc, acted = found
        if acted and part is not None:
            self.posts.append(part)
        raise exc

    def publish(self, part: OutgoingPart) -> Published:
        self._trouble("publish", part)
        self.posts.append(part)
        return Published(f"id-{len(self.posts)}")

    def lookup(self, part: OutgoingPart, since: datetime) -> Published | None:
        self._trouble("lookup")
        for i, p in enumerate(self.posts, 1):
            if p.delivery_key == part.delivery_key and p.index == part.index:
                return Published(f"id-{i}")
        return None

    def sent(self) -> Counter[tuple[str, int]]:
        return Counter((p.delivery_key.split("|")[0], p.index) for p in self.posts)


@contextmanager
def campaign(files: dict[str, str]) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "posts").mkdir()
        (root / "config.yaml").write_text(CONFIG)
        for name, text in files.items():
            (root / "posts" / name).write_text(text)
        yield root


def run(
    root: Path,
    platform: Platform,
    at: datetime,
    *,
    connect: Callable[[str], Publisher] | None = None,
    ledger: Ledger | None = None,
) -> RunReport:
    os.environ["EDUADVOCATE_NOW"] = at.isoformat()
    ws = open_campaign(str(root / "config.yaml"))
    return publish_due(ws, connect=connect or (lambda name: platform), ledger=ledger)


def rows(root: Path) -> dict[str, Any]:
    ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
    try:
        return {d.post_id: d for d in ledger.deliveries()}
    finally:
        ledger.close()


def no_claims(root: Path) -> None:
    left = [p for p, d in rows(root).items() if d.state == State.CLAIMED]
    assert left == [], f"left claimed: {left}"


def once_at_most(platform: Platform) -> None:
    twice = [k for k, n in platform.sent().items() if n > 1]
    assert twice == [], f"sent twice: {twice}"


# -- files saved half-way --------------------------------------------------------------------
def _cut(n: int) -> Callable[[str], str]:
    return lambda text: text[:n]


def _flip(n: int, char: str) -> Callable[[str], str]:
    return lambda text: text[:n] + char + text[n + 1 :] if n < len(text) else text


SAVES = st.one_of(
    st.integers(0, len(FULL)).map(_cut),
    st.tuples(st.integers(0, len(FULL) - 1), st.sampled_from(list(":-[] \n#x1'\""))).map(
        lambda t: _flip(*t)
    ),
)


@SETTINGS
@given(save=SAVES)
def test_no_save_of_a_posts_file_loses_or_doubles_a_post(save: Callable[[str], str]) -> None:
    with campaign({"a.yaml": FULL, "b.yaml": OTHER}) as root:
        failing = Platform(lambda call: (Transient("503"), False) if call == "publish" else None)
        run(root, failing, T0)
        assert {p: str(d.state) for p, d in rows(root).items()} == dict.fromkeys(IDS, "pending")
        platform = Platform()
        (root / "posts" / "a.yaml").write_text(save(FULL))
        report = run(root, platform, T0 + timedelta(minutes=10))
        no_claims(root)
        once_at_most(platform)
        if report.unreadable:  # the file did not load: nothing of it changed
            assert all(rows(root)[p].state == State.PENDING for p in IDS[:4])
            assert report.exit_code == 3
        (root / "posts" / "a.yaml").write_text(FULL)
        run(root, platform, T0 + timedelta(minutes=11))
        no_claims(root)
        once_at_most(platform)
        sent = {post for post, _ in platform.sent()}
        assert set(IDS) <= sent, f"lost: {set(IDS) - sent}"


# -- anything raised inside a delivery --------------------------------------------------------
EXCEPTIONS: list[Callable[[], BaseException]] = [
    lambda: ValueError("a library's surprise"),
    lambda: KeyError("id"),
    lambda: OSError(5, "I/O error"),
    lambda: RuntimeError("unexpected"),
    lambda: Transient("503"),
    lambda: InDoubt("connection dropped"),
    lambda: Rejected("too long"),
    lambda: RateLimited("429", T0 + timedelta(minutes=20)),
    lambda: AuthFailed("token expired"),
]
FAULTS = st.dictionaries(
    st.integers(0, 25),  # the n-th call to the platform (publish, lookup or connect)
    st.tuples(st.integers(0, len(EXCEPTIONS) - 1), st.booleans()),  # what, and acted first
    max_size=8,
)


@SETTINGS
@given(faults=FAULTS)
def test_whatever_a_delivery_raises_it_ends_recorded_and_never_twice(
    faults: dict[int, tuple[int, bool]],
) -> None:
    calls = iter(range(10_000))

    def fault(call: str) -> tuple[BaseException, bool] | None:
        n = next(calls)
        if n not in faults:
            return None
        which, acted = faults[n]
        exc = EXCEPTIONS[which]()
        # Only a call that reached the platform can have acted: our own refusals did not.
        reached = isinstance(exc, InDoubt) or not isinstance(
            exc, (Transient, Rejected, RateLimited, AuthFailed)
        )
        return exc, acted and reached and call == "publish"

    with campaign({"a.yaml": FULL, "b.yaml": OTHER}) as root:
        platform = Platform(fault)

        def connect(name: str) -> Publisher:
            platform._trouble("connect")
            return platform

        for hours in (0, 2, 4, 6, 8, 10):  # past every back-off and hold
            run(root, platform, T0 + timedelta(hours=hours), connect=connect)
            no_claims(root)
            once_at_most(platform)
        final = rows(root)
        sent = platform.sent()
        for post, d in final.items():
            assert d.state in (State.PUBLISHED, State.FAILED, State.UNKNOWN), (post, d.state)
            on_platform = sorted(i for p, i in sent if p == post)
            if d.state == State.PUBLISHED:  # the ledger's parts are the platform's
                assert [p.index for p in d.parts] == on_platform == list(range(len(d.parts)))
            elif d.state == State.FAILED and on_platform:  # failed after a part went out
                assert [p.index for p in d.parts] == on_platform, (post, d.last_error)
            if d.state != State.PUBLISHED:
                assert d.last_error, post  # a reason, always


# -- a ledger call that fails -----------------------------------------------------------------
class FlakyLedger:
    """Our ledger, with one call failing: before it took effect, or after (its answer lost)."""

    def __init__(self, inner: Ledger, fail_at: int, after: bool) -> None:
        self._inner = inner
        self._calls = 0
        self._fail_at = fail_at
        self._after = after

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target) or name in ("close", "stop_waiting"):
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls += 1
            if self._calls != self._fail_at:
                return target(*args, **kwargs)
            if self._after:
                target(*args, **kwargs)
            raise LedgerError("the ledger went away")

        return call


@SETTINGS
@given(fail_at=st.integers(1, 80), after=st.booleans())
def test_whatever_ledger_call_fails_the_next_runs_finish_once(fail_at: int, after: bool) -> None:
    with campaign({"a.yaml": FULL, "b.yaml": OTHER}) as root:
        platform = Platform()
        inner = open_ledger(str(root / ".eduadvocate" / "ledger.sqlite3"), root)
        flaky = FlakyLedger(inner, fail_at, after)
        try:
            run(root, platform, T0, ledger=flaky)  # type: ignore[arg-type]
        except LedgerError:
            pass  # the run itself failed: as if the ledger went away for good
        finally:
            inner.close()
        once_at_most(platform)
        # The next runs (a new worker; the old one is gone) take over and finish.
        run(root, platform, T0 + timedelta(minutes=1))
        run(root, platform, T0 + timedelta(hours=2))
        no_claims(root)
        once_at_most(platform)
        final = rows(root)
        assert {p: str(d.state) for p, d in final.items()} == dict.fromkeys(IDS, "published")
        assert {post for post, _ in platform.sent()} == set(IDS)


def test_a_media_path_outside_the_campaign_is_never_sent(tmp_path: Path) -> None:
    """Even if a post with one reached the dispatcher (check holds it), the file is not read."""
    from eduadvocate.compose.check import analyse
    from eduadvocate.delivery.dispatch import Dispatcher
    from eduadvocate.ledger.base import Desired

    text = FULL.replace(
        "    text: Budget hearing Thursday, come early\n",
        "    text: Budget hearing Thursday, come early\n    media: [{path: ../secret.jpg, alt: A}]\n",
    )
    with campaign({"a.yaml": text}) as root:
        (root.parent / "secret.jpg").write_bytes(b"not for the public")
        platform = Platform()
        os.environ["EDUADVOCATE_NOW"] = T0.isoformat()
        ws = open_campaign(str(root / "config.yaml"))
        renderings = {
            (r.post.id, r.account.name): r for r in analyse(ws.config, ws.campaign, T0).renderings
        }
        ledger = open_ledger(".eduadvocate/ledger.sqlite3", root)
        try:
            ledger.sync([Desired("a1", "box", "outbox", T0, "h")], T0)
            dispatcher = Dispatcher(
                ws.config, ledger, "w", clock=lambda: T0, connect=lambda n: platform
            )
            (outcome,) = dispatcher.run(renderings)
        finally:
            ledger.close()
            (root.parent / "secret.jpg").unlink()
        assert outcome.state == "failed" and "outside the campaign" in (outcome.error or "")
        assert platform.posts == []
