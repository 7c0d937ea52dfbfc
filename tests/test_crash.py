"""Crash safety, on each of the seven targets (X fake, loopback Mastodon, Graph fake as Facebook
with text and with video, and as Instagram, the reference Bluesky PDS, the outbox), through real ``eduadvocate`` processes:
every post must exist exactly once on the server, checked there, with the ledger agreeing.

- SIGKILL at each step, then a restart. Kill points: ``before-call`` (attempt recorded, request
  not sent), ``stored-before-response`` (the platform stored the post, the answer never arrived:
  the fake holds it back while we kill), ``after-response`` (answer received, not yet recorded),
  ``between-parts`` (a thread half out).
- A reply (``reply_to:`` another account's post) on Bluesky, Mastodon and X, killed after a
  part was sent and before it was recorded: reconciled, on the server once, still a reply to it.
- A repost and a quote of another account's post (Bluesky, Mastodon, X), killed before
  the call and after the send: reconciled, exactly one repost (one quote) on the server.
- A posts file broken while a run goes on: its posts wait (exit 3), the others go out.
- Something unexpected inside a delivery (an answer without an id, a corrupt outbox file, a link
  card whose image makes Pillow raise): recorded, looked up, never sent twice, never stranded.
- SIGINT and SIGTERM mid-run: the part in flight is finished and recorded, exit 130/143.
- A wrong secret: failed with kind auth, nothing posted; fixed and retried, each post once.
- A PostgreSQL ledger restarted (or away for a few seconds) mid-run: the run waits, goes on.

tests/crash_support.py holds the targets and the checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eduadvocate.ledger import open_ledger
from eduadvocate.ledger.base import State
from tests.conftest import Make
from tests.crash_support import (
    TARGETS,
    THREAD,
    CardPage,
    Post,
    Target,
    campaign,
    check_exactly_once,
    check_recorded,
    cli,
    open_attempts,
    open_target,
    posts_file,
    rows,
    settled,
    single,
    start,
    start_caught,
    states,
    texts_on,
    wait_for,
)
from tests.fakes.postgres import Cluster

LATER = "2026-11-28T12:06:00Z"  # past a killed run's lease (5 minutes) and any first back-off
SLOW_S = 0.4
POINTS = ["before-call", "stored-before-response", "after-response", "between-parts"]
NOW_POSTS = [
    Post("single", "now", ("Budget vote Thursday & the room is small: come early https://example.org/vote",)),
    Post("thread", "now", THREAD.parts),
]  # fmt: skip


@pytest.fixture(params=TARGETS)
def target(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Target]:
    with open_target(request.param, request, monkeypatch, tmp_path) as opened:
        yield opened


def _retry_all() -> list[int]:
    """``eduadvocate retry`` for each delivery ``status --format json`` shows failed or unknown."""
    shown = cli("status", "--format", "json")
    assert shown.returncode == 0, shown.stdout + shown.stderr
    deliveries = json.loads(shown.stdout)["deliveries"]
    ids = [d["id"] for d in deliveries if d["state"] in ("failed", "unknown")]
    for delivery_id in ids:
        retried = cli("retry", str(delivery_id))
        assert retried.returncode == 0, retried.stdout + retried.stderr
    return ids


# -- SIGKILL at each step ---------------------------------------------------------------------
@pytest.mark.parametrize("point", POINTS)
def test_killed_mid_publish_then_restarted_publishes_exactly_once(
    target: Target, point: str, make_campaign: Make
) -> None:
    """Killed at ``point`` (a single post and a thread due), then run again after the dead
    run's lease: each part is on the server once, the ledger has them all under its ids."""
    if point == "between-parts" and not target.threads:
        pytest.skip("a platform without threads sends one part")
    root = campaign(make_campaign, target, {"posts.yaml": NOW_POSTS})
    if point == "stored-before-response":
        if target.hold_answers is None:
            # The reference PDS (and the outbox, which has no answer to lose) cannot keep an
            # answer back; ``after-response`` leaves the ledger in the same state.
            pytest.skip("this target cannot hold an answer back")
        target.hold_answers()
        proc = start("publish")
        wait_for(target.first_stored)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
        target.clear()
    else:
        proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err

    # The dead run's claim expires after its lease (5 minutes); the restart runs after that.
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    check_exactly_once(target, root, NOW_POSTS)
    again = cli("publish", now="2026-11-28T12:07:00Z")
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(target, root, NOW_POSTS)


# -- a reply (reply_to:) ----------------------------------------------------------------------
REPLY_POINTS = ["after-response", "between-parts"]


@pytest.mark.parametrize("point", REPLY_POINTS)
def test_a_reply_killed_after_the_send_is_reconciled_and_exists_once(
    target: Target, point: str, make_campaign: Make
) -> None:
    """A thread answering another account's post, killed after a part was sent and before it
    was recorded (or between its parts): the restart looks it up, and the answer is on the
    server once, its first part a reply to that post and the rest chained to it."""
    if target.others_post is None:
        pytest.skip("no replies to others' posts on this platform")
    address, asked_id = target.others_post()
    answer = Post(
        "answer", "now", ("Yes: the library is in it", "Details: https://example.org/p"),
        extra=(f"reply_to: '{address}'",),
    )  # fmt: skip
    root = campaign(make_campaign, target, {"posts.yaml": [answer]})
    proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert cli("publish", now="2026-11-28T12:07:00Z").returncode == 0

    stored = target.stored()
    assert [text for _, text, _ in stored] == list(answer.parts), stored
    (first_id, _, first_answers), (second_id, _, second_answers) = stored
    assert (first_answers, second_answers) == (asked_id, first_id)
    row = rows(root)["answer"]
    assert row.state == State.PUBLISHED and row.lease_owner is None
    assert [p.remote_id for p in row.parts] == [first_id, second_id]


# -- a repost and a quote (repost:, quote:) ----------------------------------------------------
SHARE_POINTS = ["before-call", "after-response"]


@pytest.mark.parametrize("point", SHARE_POINTS)
def test_a_repost_killed_mid_publish_is_reconciled_and_exists_once(
    target: Target, point: str, make_campaign: Make
) -> None:
    """A repost (a Bluesky repost record, a Mastodon boost, a retweet) killed before its call or after it
    was sent and before it was recorded: the restart looks it up, and exactly one repost of
    that post is on the server, under the id the ledger has."""
    if target.reposts is None or target.others_post is None:
        pytest.skip("no reposts on this platform")
    address, shared_id = target.others_post()
    boost = Post("boost", "now", (), extra=(f"repost: '{address}'",))
    root = campaign(make_campaign, target, {"posts.yaml": [boost]})
    proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert cli("publish", now="2026-11-28T12:07:00Z").returncode == 0

    ((repost_id, subject),) = target.reposts()
    assert subject == shared_id
    row = rows(root)["boost"]
    assert row.state == State.PUBLISHED and row.lease_owner is None
    assert [p.remote_id for p in row.parts] == [repost_id]


@pytest.mark.parametrize("point", SHARE_POINTS)
def test_a_quote_killed_mid_publish_is_reconciled_and_exists_once(
    target: Target, point: str, make_campaign: Make
) -> None:
    """A quote killed before its call or after it was sent and before it was recorded: once
    on the server, quoting that post."""
    if target.quotes is None or target.others_post is None:
        pytest.skip("no quotes on this platform")
    address, quoted_id = target.others_post()
    quote = Post("quoted", "now", ("This is why the levy matters",), (f"quote: '{address}'",))
    root = campaign(make_campaign, target, {"posts.yaml": [quote]})
    proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert cli("publish", now="2026-11-28T12:07:00Z").returncode == 0

    ((ours, quoting),) = target.quotes()
    assert quoting == quoted_id
    row = rows(root)["quoted"]
    assert row.state == State.PUBLISHED and [p.remote_id for p in row.parts] == [ours]


# -- a posts file broken mid-run --------------------------------------------------------------
A_POSTS = [single("a1", "2026-11-28 11:57"), single("a2", "2026-11-28 12:04")]
B_POSTS = [single("b1", "2026-11-28 11:58"), single("b2", "2026-11-28 12:04")]
BROKEN = "utm: false\nposts:\n  - id: a1\n    at: 2026-11-28 11:57\n    text: [unclosed\n"


def test_a_posts_file_broken_mid_run_keeps_its_posts_until_it_is_fixed(
    target: Target, make_campaign: Make
) -> None:
    """a.yaml breaks while a slowed run publishes (the run goes on with what it loaded; on the
    outbox, which cannot be slowed, it breaks right after). While it stays broken, runs exit 3
    naming it, b.yaml's posts go out, a1 (waiting for a retry) is neither cancelled nor sent.
    Fixed, every post is on the server exactly once."""
    root = campaign(make_campaign, target, {"a.yaml": A_POSTS, "b.yaml": B_POSTS})
    a_yaml = root / "posts" / "a.yaml"
    target.fail_next()  # a1, due first, fails before it is stored: it waits for a retry
    if target.slow is not None:
        target.slow(SLOW_S)
    first = start("publish")
    if target.slow is not None:
        wait_for(target.first_stored)  # b1 is out: the run has long loaded both files
    else:
        first.wait(60)
    a_yaml.write_text(BROKEN)
    settled(root)
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, out + err  # waiting for a retry is not a failure
    assert states(root)["a1"] == "pending"
    assert set(texts_on(target)) <= set(target.texts(B_POSTS[0]))
    target.clear()

    broken = cli("publish", "--format", "json", now=LATER)
    assert broken.returncode == 3, broken.stdout + broken.stderr
    report = json.loads(broken.stdout)
    assert [u["file"] for u in report["unreadable"]] == ["posts/a.yaml"]
    assert isinstance(report["unreadable"][0]["line"], int)
    assert report["cancelled"] == []
    assert states(root) == {"a1": "pending", "b1": "published", "b2": "published"}
    on_server = texts_on(target)
    assert not any(t in on_server for p in A_POSTS for t in target.texts(p))
    check_exactly_once(target, root, B_POSTS)

    a_yaml.write_text(posts_file(target, A_POSTS))
    settled(root)
    fixed = cli("publish", now="2026-11-28T12:07:00Z")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    check_exactly_once(target, root, A_POSTS + B_POSTS)


# -- something unexpected inside a delivery ------------------------------------------------------
@pytest.mark.parametrize("answers", ["first", "every"])
def test_an_answer_without_an_id_is_looked_up_and_never_sent_twice(
    target: Target, answers: str, make_campaign: Make
) -> None:
    """The platform stores the post, then answers 200 without its id (the first post call, or
    every one): each part is looked up and recorded under the stored post's id, the thread
    chained, nothing sent twice, nothing left claimed."""
    if target.malformed is None:
        pytest.skip("no answer to garble: the outbox and Bluesky have their own tests below")
    root = campaign(make_campaign, target, {"posts.yaml": NOW_POSTS})
    target.malformed(1 if answers == "first" else None)
    if target.name == "mastodon" and answers == "every":
        # Mastodon is asked by sending again under the same Idempotency-Key; when that answer
        # has no id either, nothing can name the post: unknown, never guessed, never twice.
        result = cli("publish", "--format", "json")
        assert result.returncode == 5, result.stdout + result.stderr
        assert all(n == 1 for n in texts_on(target).values())
        for row in rows(root).values():
            assert (row.state, row.parts) == (State.UNKNOWN, ()), row
            assert "no id" in (row.last_error or ""), row.last_error
        return
    result = cli("publish")
    assert result.returncode == 0, result.stdout + result.stderr
    check_exactly_once(target, root, NOW_POSTS)
    again = cli("publish", now="2026-11-28T12:01:00Z")
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(target, root, NOW_POSTS)


def test_a_corrupt_outbox_file_ends_unknown_with_the_reason_then_goes_out_once(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Garbage where the outbox writes a post: that delivery ends unknown with the reason
    (exit 5), the thread goes out, nothing is claimed. Once the garbage is gone, a retry
    writes the post, once."""
    with open_target("outbox", request, monkeypatch, tmp_path) as target:
        root = campaign(make_campaign, target, {"posts.yaml": NOW_POSTS})
        folder = root / "out" / "acct"
        folder.mkdir(parents=True)
        corrupt = folder / "2026-11-28T1200--single.json"  # <due>--<post>.json, due now
        corrupt.write_text('{"delivery": "single|acct|2026-11-28T12:00:00.0')
        result = cli("publish", "--format", "json")
        assert result.returncode == 5, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        shown = {d["post"]: d for d in json.loads(result.stdout)["deliveries"]}
        assert shown["single"]["state"] == "unknown"
        assert "JSONDecodeError" in shown["single"]["error"]
        assert states(root) == {"single": "unknown", "thread": "published"}
        check_recorded(target, root, NOW_POSTS)

        corrupt.unlink()
        assert len(_retry_all()) == 1
        fixed = cli("publish", now="2026-11-28T12:01:00Z")
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        check_exactly_once(target, root, NOW_POSTS)


def test_a_link_card_pillow_cannot_read_is_left_out_and_the_post_goes_out_once(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """On the reference PDS: a link card whose og:image says image/png but is over 1 MB of
    bytes that are no image (Pillow raises on it inside publish). The card is left out, the
    post goes out once with a warning on its delivery, the thread beside it is untouched."""
    with CardPage() as page, open_target("bluesky", request, monkeypatch, tmp_path) as target:
        card = Post("card", "2026-11-28 11:59", (f"Read why the levy matters: {page.url}",),
                    extra=(f"link: {page.url}", "card: true"))  # fmt: skip
        posts = [card, THREAD]
        root = campaign(make_campaign, target, {"posts.yaml": posts})
        result = cli("publish", "--format", "json")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        check_exactly_once(target, root, posts)
        row = rows(root)["card"]
        assert (row.warning or "").startswith("the link card was left out"), row.warning
        again = cli("publish", now="2026-11-28T12:05:00Z")
        assert again.returncode == 0, again.stdout + again.stderr
        check_exactly_once(target, root, posts)


# -- SIGINT and SIGTERM ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_a_stop_signal_finishes_the_part_in_flight_and_the_next_run_the_rest(
    target: Target, sig: signal.Signals, code: int, make_campaign: Make
) -> None:
    """A slowed run (a thread, then single posts) gets the signal once the thread's first part
    is stored: it finishes and records the part in flight, gives back what it had not started,
    says so in one line and exits 130/143. The next run sends the rest: each post once, the
    thread's reply chain intact."""
    singles = 3 if target.slow is not None else 200  # the outbox writes a post in ~1 ms
    posts = [THREAD, *(single(f"s{i}") for i in range(singles))]
    root = campaign(make_campaign, target, {"posts.yaml": posts})
    if target.slow is not None:
        target.slow(SLOW_S)
    proc, go_on = start_caught(target)
    proc.send_signal(sig)
    signalled = time.monotonic()
    go_on()
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, out + err
    assert time.monotonic() - signalled < 5  # after the part in flight, not at the end
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "interrupted" in lines[0], err
    gone = sum(texts_on(target).values())
    assert 1 <= gone < sum(len(target.texts(p)) for p in posts)
    check_recorded(target, root, posts)  # what went out is recorded; nothing is claimed

    target.clear()
    again = cli("publish")
    assert again.returncode == 0, again.stdout + again.stderr
    check_exactly_once(target, root, posts)


def test_kill_on_a_stopped_publish_job_stops_it_after_the_part_in_flight(
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Ctrl-Z, then ``kill %1``: the shell sends SIGTSTP, then SIGTERM and SIGCONT. The run
    must stop as it does on a plain SIGTERM: after the part in flight, the rest given back.
    Which thread the kernel hands the signal to is chance, so it is tried up to 20 times."""
    with open_target("outbox", request, monkeypatch, tmp_path) as target:
        posts = [THREAD, *(single(f"s{i}") for i in range(200))]
        root = campaign(make_campaign, target, {"posts.yaml": posts})
        for _ in range(20):
            proc, _ = start_caught(target)
            proc.send_signal(signal.SIGTSTP)  # Ctrl-Z
            proc.send_signal(signal.SIGTERM)  # kill %1 ...
            proc.send_signal(signal.SIGCONT)  # ... which wakes a stopped job to hear it
            out, err = proc.communicate(timeout=30)
            assert proc.returncode == 143, out + err
            check_recorded(target, root, posts)
            gone = sum(texts_on(target).values())
            assert gone < sum(len(target.texts(p)) for p in posts), "it published everything"
            shutil.rmtree(root / "out")
            shutil.rmtree(root / ".eduadvocate")


def _blocked_in(pid: int, tid: int) -> int:
    """The signal mask (SigBlk) of one thread of a running process, from /proc."""
    status = Path(f"/proc/{pid}/task/{tid}/status").read_text()
    return int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.M).group(1), 16)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", ["publish", "schedule"])
def test_only_the_main_thread_of_a_run_hears_a_stop_signal(
    command: str,
    make_campaign: Make,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Why the test above is tried 20 times, made certain. A signal that arrives while the job
    is stopped is taken, on SIGCONT, by whichever thread runs first; if that is a publishing
    thread, the main thread (asleep in a wait) acts on it only when it next wakes, and by then
    the outbox has written everything (CI saw it: 203 of 203). So every thread but the main one
    must block SIGINT and SIGTERM: then the kernel can hand them only to the main thread."""
    with open_target("outbox", request, monkeypatch, tmp_path) as target:
        posts = [THREAD, *(single(f"s{i}") for i in range(400))]
        campaign(make_campaign, target, {"posts.yaml": posts})
        proc = start(command)
        try:
            # schedule's sweep is what publishes here (every 30 s of the real clock: the tests'
            # clock is days behind it, so APScheduler counts the due job as missed).
            wait_for(target.first_stored, timeout=45, poll=0.0005)
            proc.send_signal(signal.SIGSTOP)
            others = [int(t) for t in os.listdir(f"/proc/{proc.pid}/task") if int(t) != proc.pid]
            assert others, "a publishing thread and the heartbeat run beside the main one"
            stops = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
            assert not _blocked_in(proc.pid, proc.pid) & stops
            for tid in others:
                assert _blocked_in(proc.pid, tid) & stops == stops, f"thread {tid} hears stops"
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.send_signal(signal.SIGCONT)
            out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, out + err


# -- a wrong secret -------------------------------------------------------------------------------
def test_a_wrong_secret_fails_with_kind_auth_then_a_retry_sends_each_post_once(
    target: Target, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a wrong credential every due delivery fails with kind auth (exit 5): nothing on
    the server, nothing claimed. With the right one, ``retry`` of each failed id (from
    ``status --format json``) and a run send each post exactly once."""
    if target.secret is None:
        pytest.skip("the outbox has no secret")
    root = campaign(make_campaign, target, {"posts.yaml": NOW_POSTS})
    right = os.environ[target.secret]
    monkeypatch.setenv(target.secret, "wrong-" + right[::-1])
    asked = len(target.requests())
    refused = cli("publish", "--format", "json")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    shown = json.loads(refused.stdout)["deliveries"]
    assert {(d["post"], d["state"], d["error_kind"]) for d in shown} == {
        ("single", "failed", "auth"),
        ("thread", "failed", "auth"),
    }
    assert all(d["error"] for d in shown) and "wrong-" not in refused.stdout + refused.stderr
    assert len(target.requests()[asked:]) == 1, target.requests()  # one try for both posts
    assert target.stored() == []
    assert all(d.lease_owner is None for d in rows(root).values())

    monkeypatch.setenv(target.secret, right)
    assert len(_retry_all()) == 2
    fixed = cli("publish")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    check_exactly_once(target, root, NOW_POSTS)


# -- a database restart ---------------------------------------------------------------------------
OUTAGE_LINES = ("is unreachable", "is back after")


@pytest.fixture
def postgres_ledger(
    restartable_postgres: Cluster, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A new database on the restartable cluster, as the ledger (``EDUADVOCATE_LEDGER``)."""
    url = restartable_postgres.server.new_database()
    monkeypatch.setenv("EDUADVOCATE_LEDGER", url)
    yield url
    restartable_postgres.start()
    restartable_postgres.server.drop_database(url)


def test_a_database_restart_mid_publish_loses_and_repeats_nothing(
    target: Target, make_campaign: Make, restartable_postgres: Cluster, postgres_ledger: str
) -> None:
    """PostgreSQL is restarted (``pg_ctl restart -m fast``) while a slowed run publishes a
    thread and single posts (the outbox, which cannot be slowed, is frozen meanwhile): the run
    waits for it, says so in two lines, goes on and exits 0. Each post is on the server exactly
    once, the ledger has them all published, nothing claimed, no attempt left open."""
    _through_an_outage(target, make_campaign, restartable_postgres, postgres_ledger, down_s=0)


@pytest.mark.parametrize("target", ["x", "mastodon"], indirect=True)
def test_a_database_away_for_seconds_mid_publish_loses_and_repeats_nothing(
    target: Target, make_campaign: Make, restartable_postgres: Cluster, postgres_ledger: str
) -> None:
    """The same with PostgreSQL stopped for 3 seconds: the part in flight goes out meanwhile
    and is recorded once the ledger is back."""
    _through_an_outage(target, make_campaign, restartable_postgres, postgres_ledger, down_s=3)


def _through_an_outage(
    target: Target, make_campaign: Make, cluster: Cluster, ledger: str, *, down_s: float
) -> None:
    singles = 3 if target.slow is not None else 20
    posts = [THREAD, *(single(f"s{i}") for i in range(singles))]
    root = campaign(make_campaign, target, {"posts.yaml": posts})
    open_ledger(ledger, root).close()  # the schema first, as `ledger migrate` would
    if target.slow is not None:
        target.slow(SLOW_S)
    proc, go_on = start_caught(target, freeze=True)
    cluster.stop("fast")
    time.sleep(down_s)
    cluster.start()
    go_on()
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err
    for said in OUTAGE_LINES:  # one line when it went away, one when it was back
        assert sum(said in line for line in err.splitlines()) == 1, err
    check_exactly_once(target, root, posts, ledger)
    assert open_attempts(root, ledger) == []
