"""Crash safety of an answer on a Facebook Page and on Instagram (a comment: Graph has no
idempotency key), through real ``eduadvocate`` processes against the Graph API fake: killed after
the comment was sent and before it was recorded (``after-response``), or with the comment stored
and its answer never arriving (``stored-before-response``), the restart looks it up among the
thread's comments by the Page's id or the account's username and its exact text, and the answer
exists once, under the comment it answers, with the ledger agreeing. The harness and the other
cases are tests/test_crash.py and tests/crash_support.py."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eduadvocate.ledger.base import State
from tests.conftest import REPO, Make
from tests.crash_support import cli, rows, start, wait_for
from tests.fakes.graph_api import Comment, GraphFake

LATER = "2026-11-28T12:06:00Z"  # past a killed run's lease (5 minutes)
ANSWER = "Thursday at 7pm, room 4. See you there!"
MEDIA_BASE = "https://m.example/c/"


@dataclass
class Asked:
    graph: GraphFake
    address: str  # the reply_to: of the answer
    comment: Comment  # what it answers

    def answers(self) -> list[Comment]:
        return [c for c in self.graph.comments() if c.own and c.message == ANSWER]


@pytest.fixture(params=["facebook", "instagram"])
def asked(
    request: pytest.FixtureRequest, make_campaign: Make, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Asked]:
    with GraphFake() as graph:
        page = graph.add_page(name="PTA")
        monkeypatch.setenv("FB_TOKEN", page.access_token)
        head = "defaults: {timezone: UTC, accounts: [acct]}\naccounts:\n"
        if request.param == "facebook":
            config = (
                f"{head}  acct: {{platform: facebook, page_id: '{page.id}',"
                f" access_token: '${{FB_TOKEN}}', base_url: '{graph.base_url}'}}\n"
            )
            post = graph.add_post(page, "Budget hearing Thursday")
            comment = graph.add_comment(post.id, "When does it start?", author="Ann Ally")
            number, own = post.id.split("_")[1], comment.id.split("_")[1]
            address = f"https://www.facebook.com/{page.id}/posts/{number}/?comment_id={own}"
        else:
            ig = graph.add_ig_user(page=page, media_base_url=MEDIA_BASE, username="pta")
            config = (
                f"{head}  acct: {{platform: instagram, ig_user_id: '{ig.id}',"
                f" access_token: '${{FB_TOKEN}}', media_base_url: '{MEDIA_BASE}',"
                f" base_url: '{graph.base_url}'}}\n"
            )
            media = graph.add_ig_media(ig, "Budget hearing Thursday")
            comment = graph.add_comment(media.id, "When does it start?", author="ann.ally")
            address = f"https://www.instagram.com/p/{media.shortcode}/c/{comment.id}/"
        posts = (
            f"utm: false\nposts:\n  - id: answer\n    at: now\n    text: '{ANSWER}'\n"
            f"    reply_to: '{address}'\n"
        )
        root = make_campaign(posts, config=config)
        shutil.copy(REPO / "media" / "testimonial-okoro.jpg", root / "m.jpg")
        yield Asked(graph, address, comment)


@pytest.mark.parametrize("point", ["after-response", "stored-before-response"])
def test_an_answer_killed_after_the_send_is_looked_up_and_exists_once(
    asked: Asked, point: str
) -> None:
    if point == "stored-before-response":
        asked.graph.inject("POST", r"/(comments|replies)$", "store_then_wait", seconds=20)
        proc = start("publish")
        wait_for(lambda: bool(asked.answers()))
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=20)
        asked.graph.clear_faults()
    else:
        proc = start("publish", env={"EDUADVOCATE_CRASH_AT": point})
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, err
    assert len(asked.answers()) == 1  # it went out before the kill

    restart = cli("publish", now=LATER)
    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert cli("publish", now="2026-11-28T12:07:00Z").returncode == 0

    (answer,) = asked.answers()
    sent = [
        r
        for r in asked.graph.requests
        if r.method == "POST" and r.path.endswith(("/comments", "/replies"))
    ]
    assert len(sent) == 1, sent  # the restart looked it up rather than sending again
    assert answer.parent_id == asked.comment.id
    row = rows(Path.cwd())["answer"]
    assert row.state == State.PUBLISHED and row.lease_owner is None
    assert [p.remote_id for p in row.parts] == [answer.id]
