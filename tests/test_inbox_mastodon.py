"""``eduadvocate inbox`` on Mastodon, against the loopback Mastodon (mastodon-mock behind our
proxy, tests/fakes/mastodon.py): the real CLI publishes a campaign status, another account
replies naming the campaign's account, mentions it, replies without naming it, favourites and
boosts it, and a third account answers the first reply; ``inbox pull`` stores the two replies,
the mention, the answer to the reply (the last two notify nobody on Mastodon, the status's
context shows them) and the boost (a repost, stored handled: it asks no answer). Pulling twice
adds nothing; the reader pages by Link."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import launch
from tests.conftest import Make
from tests.fakes.mastodon import MastodonFake
from tests.test_cli import run

POSTS = """\
posts:
  - id: levy
    at: now
    text: "The levy vote is Tuesday. #FundOurSchools"
"""


def _json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def published(make_campaign: Make, fake: MastodonFake, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A campaign whose one status went out through `eduadvocate publish`."""
    monkeypatch.setenv("MASTO_TOKEN", fake.token)
    config = (
        "defaults: {timezone: America/Chicago, accounts: [masto]}\n"
        "accounts:\n"
        f"  masto: {{platform: mastodon, instance: '{fake.base_url}',"
        " access_token: '${MASTO_TOKEN}'}\n"
    )
    root = make_campaign(POSTS, config=config)
    done = run("publish", cwd=root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


@pytest.fixture
def engaged(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, str]]:
    root = published(make_campaign, mastodon_fresh, monkeypatch)
    (ours,) = mastodon_fresh.statuses()
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    made = {
        "reply": str(ally.status_post("@advocate Voting yes!", in_reply_to_id=ours.id).id),
        "mention": str(ally.status_post("Thanks to @advocate &amp; friends").id),
    }
    made["unnamed"] = str(ally.status_post("A reply that names nobody", in_reply_to_id=ours.id).id)
    ally.status_favourite(ours.id)
    boost = ally.status_reblog(ours.id)
    made["repost"] = f"reblog:{boost.account.id}:{ours.id}"
    # The campaign's account answers the reply (not an item), and the ally replies to that
    # answer, naming nobody: the context shows it, no notification does.
    mine = mastodon_fresh.client().status_post("Thank you!", in_reply_to_id=made["reply"])
    made["deeper"] = str(ally.status_post("See you Tuesday", in_reply_to_id=mine.id).id)
    return root, made


def test_pull_then_list_shows_the_replies_and_the_mention(
    engaged: tuple[Path, dict[str, str]],
) -> None:
    root, made = engaged
    pulled = run("inbox", "pull", cwd=root)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines() == ["masto: 5 new (3 replies, 1 mention, 1 repost)"]

    listed = _json(run("inbox", "--format", "json", cwd=root))["items"]
    by_id = {i["remote_id"]: i for i in listed}
    assert set(by_id) == set(made.values())
    for name in ("unnamed", "deeper"):  # found in the status's context
        item = by_id[made[name]]
        assert item["kind"] == "reply" and item["answers"]["post"] == "levy"
        assert item["author"]["handle"] == "ally"
    assert by_id[made["deeper"]]["text"] == "See you Tuesday"
    assert by_id[made["unnamed"]]["answers_remote_id"] == by_id[made["reply"]]["answers_remote_id"]
    items = {k: by_id[made[k]] for k in ("reply", "mention", "repost")}
    assert items["reply"]["answers"]["post"] == "levy"
    assert items["mention"]["answers"] is None
    assert items["repost"]["answers"]["post"] == "levy"
    assert items["repost"]["handled_by"] == "inbox pull" and items["repost"]["text"] == ""
    assert items["reply"]["handled_at"] is None and items["mention"]["handled_at"] is None
    assert items["reply"]["text"].endswith("Voting yes!")  # HTML read as text
    assert "<" not in items["mention"]["text"] and "&amp; friends" in items["mention"]["text"]
    for item in items.values():
        assert item["platform"] == "mastodon" and item["account"] == "masto"
        assert item["author"]["handle"] == "ally"
    assert _json(run("inbox", "pull", "--format", "json", cwd=root))["accounts"][0]["new"] == 0
    assert len(_json(run("inbox", "--platform", "mastodon", "-f", "json", cwd=root))["items"]) == 5
    unhandled = _json(run("inbox", "--unhandled", "-f", "json", cwd=root))["items"]
    assert sorted(i["kind"] for i in unhandled) == ["mention", "reply", "reply", "reply"]


def test_replies_are_read_under_the_posts_of_the_window(
    engaged: tuple[Path, dict[str, str]],
) -> None:
    """40 days after the post, a pull reads the notifications but not the post's thread (one
    request a post, for posts of the last 30 days unless --posts-since says otherwise): the
    reply that notifies nobody waits until the window takes the post in."""
    root, made = engaged
    later = {"EDUADVOCATE_NOW": "2027-01-07T12:00:00Z"}  # 40 days after conftest's NOW
    pulled = _json(run("inbox", "pull", "--format", "json", cwd=root, env=later))
    assert pulled["accounts"][0]["by_kind"] == {"reply": 1, "mention": 1, "repost": 1}
    remote = {i["remote_id"] for i in _json(run("inbox", "-f", "json", cwd=root))["items"]}
    assert made["unnamed"] not in remote and made["deeper"] not in remote

    wider = run("inbox", "pull", "--posts-since", "60d", "-f", "json", cwd=root, env=later)
    assert _json(wider)["accounts"][0]["by_kind"] == {"reply": 2}  # the two only its thread has
    everything = run("inbox", "pull", "--posts-since", "all", "-f", "json", cwd=root, env=later)
    assert _json(everything)["accounts"][0]["new"] == 0

    wrong = run("inbox", "pull", "--posts-since", "lately", cwd=root, env=later)
    assert wrong.returncode == 2
    assert wrong.stderr.splitlines() == [
        'eduadvocate: error: --posts-since "lately" is neither a duration nor a date.'
        ' write "90d", a date like 2026-09-01, or "all" for every post'
    ]


def test_the_mastodon_reader_pages_by_the_link_header(
    engaged: tuple[Path, dict[str, str]],
) -> None:
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.mastodon_api.client import MastodonPublisher

    _, made = engaged
    publisher = MastodonPublisher(load_config(None).accounts["masto"])
    notified = {k: made[k] for k in ("reply", "mention", "repost")}
    seen, cursor, pages = [], None, 0
    for _ in range(10):
        page = publisher.inbox(cursor, 1)
        pages += 1
        seen += [(i.kind, i.remote_id) for i in page.items]
        if page.cursor is None:
            break
        cursor = page.cursor
    assert sorted(seen) == sorted(notified.items())
    assert pages == 4  # one item a page, then the empty page that ends the list


def test_the_mastodon_thread_reader_leaves_out_our_statuses_and_a_deleted_status_has_none(
    engaged: tuple[Path, dict[str, str]], mastodon_fresh: MastodonFake
) -> None:
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.platforms.mastodon_api.client import MastodonPublisher

    _, made = engaged
    ours = mastodon_fresh.statuses()[-1]  # the campaign status, the oldest
    gone = mastodon_fresh.client().status_post("Deleted before its context is read")
    mastodon_fresh.client().status_delete(gone.id)
    publisher = MastodonPublisher(load_config(None).accounts["masto"])
    page = publisher.replies(str(ours.id), None, 50)
    assert page.cursor is None
    got = {i.remote_id: (i.kind, i.answers, i.root) for i in page.items}
    mine = str(mastodon_fresh.statuses()[0].id)  # our "Thank you!": left out
    assert got == {
        made["reply"]: ("reply", str(ours.id), str(ours.id)),
        made["unnamed"]: ("reply", str(ours.id), str(ours.id)),
        made["deeper"]: ("reply", mine, str(ours.id)),
    }
    assert publisher.replies(str(gone.id), None, 50).items == []


@pytest.mark.parametrize("columns", [60, 80, 120])
def test_the_listing_fits_the_width(engaged: tuple[Path, dict[str, str]], columns: int) -> None:
    """Every line fits, but for one word too long for any line (a link), which runs past whole."""
    root, _ = engaged
    assert run("inbox", "pull", cwd=root).returncode == 0
    shown = run("inbox", cwd=root, env={"COLUMNS": str(columns)})
    assert shown.returncode == 0, shown.stderr
    assert "levy on masto · 3 items to answer" in shown.stdout
    for line in shown.stdout.splitlines():
        assert len(line) <= columns or len(line.split()) == 1, line


def test_an_unknown_platform_or_item_is_a_usage_error(engaged: tuple[Path, dict[str, str]]) -> None:
    root, _ = engaged
    wrong = run("inbox", "--platform", "mastodn", cwd=root)
    assert wrong.returncode == 2
    assert wrong.stderr == (
        'eduadvocate: error: unknown platform "mastodn". did you mean "mastodon"?\n'
    )
    done = run("inbox", "done", "41", cwd=root)
    assert done.returncode == 2 and "no inbox item 41" in done.stderr


def test_a_pull_killed_half_way_resumes_from_its_cursor(
    make_campaign: Make, mastodon_fresh: MastodonFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`inbox pull` in a process of its own, SIGKILLed while it waits for its fifth page of
    notifications (four stored, each with the cursor of the next); the next pull asks for that
    cursor first, and the ledger ends with every item exactly once."""
    from eduadvocate.campaign.workspace import load_config
    from eduadvocate.ledger import open_ledger

    fake = mastodon_fresh
    root = published(make_campaign, fake, monkeypatch)
    (ours,) = fake.statuses()
    ally = fake.client(fake.token2)
    made = {str(ally.status_post(f"Thanks @advocate, {n}").id) for n in range(11)}
    made.add(str(ally.status_post("@advocate agreed", in_reply_to_id=ours.id).id))
    made.add(str(ally.status_post("No mention, just a reply", in_reply_to_id=ours.id).id))
    fake.page_limit = 2  # 12 notifications: six pages and the empty one that ends the list
    fake.inject("GET", "^/api/v1/notifications$", "hold", skip=4)
    proc = subprocess.Popen(
        launch.command("inbox", "pull"),
        cwd=root,
        env=launch.environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        assert fake.holding.wait(60), "the pull never asked for its fifth page"
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        fake.release()
    assert proc.returncode == -signal.SIGKILL, err

    config = load_config(None)
    ledger = open_ledger(config.ledger, config.root)
    try:
        stored = [r.item.remote_id for r in ledger.inbox()]
        cursor = ledger.inbox_cursor("masto", "notifications")
    finally:
        ledger.close()
    assert len(stored) == 8 and cursor is not None  # four pages of two

    fake.seen.clear()
    again = run("inbox", "pull", "--format", "json", cwd=root)
    first = next(s for s in fake.seen if s.path == "/api/v1/notifications")
    assert f"max_id={cursor}" in first.query  # it resumed where the killed pull stopped
    assert _json(again)["accounts"][0]["new"] == len(made) - 8
    items = [i["remote_id"] for i in _json(run("inbox", "-f", "json", cwd=root))["items"]]
    assert sorted(items) == sorted(made)  # each exactly once
