"""What the loopback Mastodon (mastodon-mock behind our proxy) does, seen through Mastodon.py.

These pin the behaviour the publisher's tests rely on: posting, threads, alt text, the
Idempotency-Key contract, the instance's character limit, rate limiting and the faults.
"""

from __future__ import annotations

import io
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from mastodon import (
    MastodonAPIError,
    MastodonBadGatewayError,
    MastodonGatewayTimeoutError,
    MastodonInternalServerError,
    MastodonNetworkError,
    MastodonRatelimitError,
    MastodonServiceUnavailableError,
)

if TYPE_CHECKING:  # the fixtures come from tests/conftest.py's pytest_plugins
    from tests.fakes.mastodon import MastodonFake

# a 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a3c30000000049454e44ae426082"
)
STATUSES = "^/api/v1/statuses$"


def _http(url: str, method: str = "GET", payload: object = None) -> tuple[int, object]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_status_post_is_stored_and_read_back(mastodon_fresh: MastodonFake) -> None:
    posted = mastodon_fresh.client().status_post("Fund our schools", visibility="unlisted")
    assert posted.content == "<p>Fund our schools</p>"
    assert posted.account.username == "advocate" and posted.visibility == "unlisted"
    assert [s.id for s in mastodon_fresh.statuses()] == [posted.id]
    assert mastodon_fresh.statuses(mastodon_fresh.token2) == []


def test_replies_form_a_thread(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    root = client.status_post("1/ Why school boards matter")
    second = client.status_post("2/ They set the budget", in_reply_to_id=root.id)
    third = client.status_post("3/ Come on Tuesday", in_reply_to_id=second)
    assert second.in_reply_to_id == root.id and third.in_reply_to_id == second.id
    assert second.in_reply_to_account_id == root.account.id
    assert [s.id for s in client.status_context(root).descendants] == [second.id, third.id]


def test_media_keeps_its_description(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    media = client.media_post(io.BytesIO(PNG), mime_type="image/png", description="Kids reading")
    assert media.description == "Kids reading" and media.type == "image"
    posted = client.status_post("Library day", media_ids=[media.id])
    (stored,) = mastodon_fresh.statuses()
    for status in (posted, stored):
        assert [(m.id, m.description) for m in status.media_attachments] == [
            (media.id, "Kids reading")
        ]


def test_idempotency_key_returns_the_original_status(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    first = client.status_post("Vote on the levy", idempotency_key="post-1")
    again = client.status_post("Vote on the levy (edited)", idempotency_key="post-1")
    other = client.status_post("Vote on the levy", idempotency_key="post-2")
    assert again.id == first.id and "edited" not in again.content
    assert other.id != first.id
    assert len(mastodon_fresh.statuses()) == 2


def test_concurrent_posts_with_one_key_make_one_status(mastodon_fresh: MastodonFake) -> None:
    def post(_: int) -> int:
        return int(mastodon_fresh.client().status_post("Rally at noon", idempotency_key="once").id)

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = set(pool.map(post, range(16)))
    assert len(ids) == 1
    assert [int(s.id) for s in mastodon_fresh.statuses()] == list(ids)


def test_idempotency_key_is_per_account(mastodon_fresh: MastodonFake) -> None:
    mine = mastodon_fresh.client().status_post("Same words", idempotency_key="k")
    theirs = mastodon_fresh.client(mastodon_fresh.token2).status_post(
        "Same words", idempotency_key="k"
    )
    assert mine.id != theirs.id
    assert (
        len(mastodon_fresh.statuses()) == len(mastodon_fresh.statuses(mastodon_fresh.token2)) == 1
    )


def test_retry_after_a_dropped_answer_finds_the_stored_status(mastodon_fresh: MastodonFake) -> None:
    """The exactly-once case: stored, connection lost, retried with the same key."""
    client = mastodon_fresh.client()
    mastodon_fresh.inject("POST", STATUSES, "drop_after")
    with pytest.raises(MastodonNetworkError):
        client.status_post("Board meeting tonight", idempotency_key="run-7:masto")
    (stored,) = mastodon_fresh.statuses()
    retried = client.status_post("Board meeting tonight", idempotency_key="run-7:masto")
    assert retried.id == stored.id
    assert len(mastodon_fresh.statuses()) == 1
    keys = [seen.idempotency_key for seen in mastodon_fresh.seen if seen.method == "POST"]
    assert keys == ["run-7:masto", "run-7:masto"]


def test_reusing_the_key_of_a_deleted_status_is_a_server_error(
    mastodon_fresh: MastodonFake,
) -> None:
    """A known gap: real Mastodon answers 404 within the hour; the mock fails its unique index."""
    client = mastodon_fresh.client()
    client.status_delete(client.status_post("Oops", idempotency_key="gone"))
    with pytest.raises(MastodonInternalServerError):
        client.status_post("Oops", idempotency_key="gone")
    assert mastodon_fresh.statuses() == []


def test_instance_v2_reports_the_settable_character_limit(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    assert client.instance_v2().configuration.statuses.max_characters == 500
    mastodon_fresh.max_characters = 1000
    assert client.instance_v2().configuration.statuses.max_characters == 1000
    assert client.instance_v1().configuration.statuses.max_characters == 1000
    client.status_post("x" * 1000)
    with pytest.raises(MastodonAPIError, match="character limit of 1000 exceeded"):
        client.status_post("x" * 1001)


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme, 7 code points
LONG_URL = "https://example.org/petition?" + "ref=newsletter&" * 20


@pytest.mark.parametrize(
    ("text", "spoiler", "accepted"),
    [
        pytest.param("x" * 500, "", True, id="500 characters"),
        pytest.param("x" * 501, "", False, id="501 characters"),
        pytest.param(FAMILY * 500, "", True, id="graphemes, not code points"),
        pytest.param("x" * 476 + " " + LONG_URL, "", True, id="a long URL counts 23"),
        pytest.param("x" * 480 + " http://a.co", "", False, id="a short URL counts 23 too"),
        pytest.param("x" * 300, "y" * 201, False, id="the content warning counts"),
    ],
)
def test_length_is_counted_as_mastodon_counts(
    mastodon_fresh: MastodonFake, text: str, spoiler: str, accepted: bool
) -> None:
    client = mastodon_fresh.client()
    if accepted:
        client.status_post(text, spoiler_text=spoiler or None)
    else:
        with pytest.raises(MastodonAPIError, match="character limit of 500 exceeded") as caught:
            client.status_post(text, spoiler_text=spoiler or None)
        assert caught.value.args[1] == 422
    assert len(mastodon_fresh.statuses()) == int(accepted)


def test_every_answer_carries_rate_limit_headers(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    client.status_post("hello")
    assert client.ratelimit_limit == 100000 and 0 < client.ratelimit_remaining < 100000
    request = urllib.request.Request(f"{mastodon_fresh.base_url}/api/v2/instance")
    with urllib.request.urlopen(request, timeout=5) as response:
        reset = response.headers["X-RateLimit-Reset"]
    assert reset.endswith("Z")
    assert datetime.fromisoformat(reset).timestamp() > time.time()


def test_ratelimit_fault_raises_with_its_reset_time(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    mastodon_fresh.inject("POST", STATUSES, "ratelimit", reset_in=30)
    with pytest.raises(MastodonRatelimitError):
        client.status_post("too soon")
    assert client.ratelimit_remaining == 0
    assert client.ratelimit_reset == pytest.approx(time.time() + 30, abs=3)
    assert mastodon_fresh.statuses() == []
    client.status_post("later")  # times=1: the next request goes through
    assert len(mastodon_fresh.statuses()) == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (500, MastodonInternalServerError),
        (502, MastodonBadGatewayError),
        (503, MastodonServiceUnavailableError),
    ],
)
def test_server_error_fault_stores_nothing(
    mastodon_fresh: MastodonFake, status: int, error: type[Exception]
) -> None:
    mastodon_fresh.inject("POST", STATUSES, "status", status=status)
    with pytest.raises(error):
        mastodon_fresh.client().status_post("lost")
    assert mastodon_fresh.statuses() == []


def test_status_after_fault_stores_then_answers_an_error(mastodon_fresh: MastodonFake) -> None:
    mastodon_fresh.inject("POST", STATUSES, "status_after")
    with pytest.raises(MastodonGatewayTimeoutError):
        mastodon_fresh.client().status_post("stored anyway")
    assert len(mastodon_fresh.statuses()) == 1


def test_store_then_malformed_stores_then_answers_200_without_an_id(
    mastodon_fresh: MastodonFake,
) -> None:
    client = mastodon_fresh.client()
    mastodon_fresh.inject("POST", STATUSES, "store_then_malformed")
    answer = client.status_post("acted on", idempotency_key="k-1")
    assert answer.id is None  # HTTP 200 with {}: Mastodon.py fills every field with None
    (stored,) = mastodon_fresh.statuses()
    assert stored.content == "<p>acted on</p>"
    assert [s.id for s in client.account_statuses(client.me())] == [stored.id]
    assert client.status_post("acted on", idempotency_key="k-1").id == stored.id  # reconciles


def test_status_fault_carries_the_given_error_message(mastodon_fresh: MastodonFake) -> None:
    mastodon_fresh.inject("POST", STATUSES, "status", status=422, error="Validation failed: x")
    with pytest.raises(MastodonAPIError) as caught:
        mastodon_fresh.client().status_post("refused")
    assert caught.value.args[1:] == (422, "Unprocessable Entity", "Validation failed: x")
    assert mastodon_fresh.statuses() == []


def test_drop_fault_stores_nothing(mastodon_fresh: MastodonFake) -> None:
    mastodon_fresh.inject("POST", STATUSES, "drop")
    with pytest.raises(MastodonNetworkError):
        mastodon_fresh.client().status_post("never arrives")
    assert mastodon_fresh.statuses() == []


def test_delay_fault_times_the_client_out_after_storing(mastodon_fresh: MastodonFake) -> None:
    mastodon_fresh.inject("POST", STATUSES, "delay", seconds=1.0)
    started = time.monotonic()
    with pytest.raises(MastodonNetworkError, match="timed out"):
        mastodon_fresh.client(request_timeout=0.3).status_post("slow")
    assert time.monotonic() - started < 1.0
    assert len(mastodon_fresh.statuses()) == 1


def test_faults_match_method_and_path_and_run_out(mastodon_fresh: MastodonFake) -> None:
    client = mastodon_fresh.client()
    mastodon_fresh.inject("POST", STATUSES, "status", times=2, status=503)
    client.instance_v2()  # GET: not matched
    for _ in range(2):
        with pytest.raises(MastodonServiceUnavailableError):
            client.status_post("no")
    assert mastodon_fresh.faults() == []
    client.status_post("yes")


def test_unknown_fault_kind_or_option_is_refused(mastodon_server: MastodonFake) -> None:
    with pytest.raises(ValueError, match="unknown fault kind 'explode'"):
        mastodon_server.inject("POST", STATUSES, "explode")
    with pytest.raises(ValueError, match=r"unknown fault options \['secs'\]"):
        mastodon_server.inject("POST", STATUSES, "delay", secs=1)


def test_faults_can_be_set_over_http_by_another_process(mastodon_fresh: MastodonFake) -> None:
    url = f"{mastodon_fresh.base_url}/_fake/faults"
    spec = {"method": "POST", "path_regex": STATUSES, "kind": "drop_after", "times": 1}
    assert _http(url, "POST", spec) == (200, {"ok": True})
    assert _http(url) == (200, [spec])
    status, body = _http(url, "POST", {**spec, "kind": "explode"})
    assert status == 422 and "unknown fault kind" in str(body)
    with pytest.raises(MastodonNetworkError):
        mastodon_fresh.client().status_post("crash me")
    assert len(mastodon_fresh.statuses()) == 1
    _http(url, "POST", spec)
    assert _http(url, "DELETE") == (200, {"ok": True})
    assert _http(url) == (200, [])


def test_reset_empties_statuses_faults_and_limit(mastodon_server: MastodonFake) -> None:
    mastodon_server.client().status_post("left over")
    mastodon_server.inject("*", ".", "drop", times=None)
    mastodon_server.max_characters = 20
    mastodon_server.reset()
    assert mastodon_server.statuses() == [] and mastodon_server.faults() == []
    assert mastodon_server.seen == [] and mastodon_server.max_characters == 500
    assert mastodon_server.client().me().username == "advocate"
    assert mastodon_server.client(mastodon_server.token2).me().username == "ally"


def test_the_mocks_own_fault_api_answers_429(mastodon_fresh: MastodonFake) -> None:
    """mastodon-mock's native control plane works too (before the handler only, no drops)."""
    rule = {
        "match": {"methods": ["POST"], "path": "/api/v1/statuses"},
        "effect": {"type": "ratelimit"},
    }
    status, _ = _http(
        f"{mastodon_fresh.upstream_url}/api/v1/_mock/faults", "POST", {**rule, "count": 1}
    )
    assert status == 200
    with pytest.raises(MastodonRatelimitError):
        mastodon_fresh.client(upstream=True).status_post("native")
    assert mastodon_fresh.statuses() == []


def test_notifications_of_mentions_page_through_the_link_header(
    mastodon_fresh: MastodonFake,
) -> None:
    """What the inbox reads: a status that names the account makes a ``mention`` notification
    (a reply that names nobody makes none, as on Mastodon), favourites and boosts make their
    own types, and ``types[]`` with ``limit`` pages newest first through the Link header."""
    ours = mastodon_fresh.client().status_post("Fund our schools")
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    reply = ally.status_post("@advocate agreed", in_reply_to_id=ours.id)
    ally.status_post("No mention, just a reply", in_reply_to_id=ours.id)
    mention = ally.status_post("Thanks @advocate")
    ally.status_favourite(ours.id)
    ally.status_reblog(ours.id)

    client = mastodon_fresh.client()
    everything = client.notifications()
    assert sorted(n.type for n in everything) == ["favourite", "mention", "mention", "reblog"]
    first = client.notifications(types=["mention"], limit=1)
    assert [n.status.id for n in first] == [mention.id]
    following = client.get_pagination_info(first, "next")
    assert following is not None
    second = client.notifications(types=["mention"], limit=1, max_id=following["max_id"])
    assert [n.status.id for n in second] == [reply.id]
    assert second[0].status.in_reply_to_id == ours.id
    assert str(second[0].status.in_reply_to_account_id) == str(ours.account.id)
    assert second[0].account.acct == "ally"
    last = client.get_pagination_info(second, "next")
    assert last is not None
    assert list(client.notifications(types=["mention"], limit=1, max_id=last["max_id"])) == []


def test_a_status_context_holds_every_reply_below_it(mastodon_fresh: MastodonFake) -> None:
    """What ``inbox pull`` reads under each published status: ``GET /api/v1/statuses/:id/context``
    gives ``ancestors`` and ``descendants`` (every depth, whoever wrote them), each a full
    status with its account and ``in_reply_to_id``; a deleted status answers 404, as Mastodon."""
    ours = mastodon_fresh.client().status_post("Fund our schools")
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    first = ally.status_post("No mention, just a reply", in_reply_to_id=ours.id)
    answer = mastodon_fresh.client().status_post("Thanks!", in_reply_to_id=first.id)
    deeper = ally.status_post("You're welcome", in_reply_to_id=answer.id)

    context = mastodon_fresh.client().status_context(ours.id)
    assert context.ancestors == []
    got = [(s.id, s.in_reply_to_id, s.account.acct) for s in context.descendants]
    assert sorted(got) == sorted(
        [(first.id, ours.id, "ally"), (answer.id, first.id, "advocate"),
         (deeper.id, answer.id, "ally")]
    )  # fmt: skip
    assert [s.id for s in mastodon_fresh.client().status_context(answer.id).ancestors] == [
        ours.id,
        first.id,
    ]
    assert context.descendants[0].content.startswith("<p>")
    gone = mastodon_fresh.client().status_post("Deleted")
    mastodon_fresh.client().status_delete(gone.id)
    status, body = _http(f"{mastodon_fresh.base_url}/api/v1/statuses/{gone.id}/context")
    assert status == 404 and "error" in body  # type: ignore[operator]


def test_page_limit_serves_smaller_pages_and_hold_waits_for_release(
    mastodon_fresh: MastodonFake,
) -> None:
    """``page_limit`` caps ``limit`` (the Link header still leads on); ``hold`` with ``skip``
    keeps the third matching request unanswered until ``release``; ``seen`` keeps each query."""
    ally = mastodon_fresh.client(mastodon_fresh.token2)
    made = [ally.status_post(f"Thanks @advocate, {n}").id for n in range(5)]
    mastodon_fresh.page_limit = 2
    mastodon_fresh.inject("GET", "^/api/v1/notifications", "hold", skip=2)
    client = mastodon_fresh.client()
    first = client.notifications(limit=40)
    assert [n.status.id for n in first] == made[::-1][:2]
    second = client.fetch_next(first)
    assert [n.status.id for n in second] == made[::-1][2:4]
    with ThreadPoolExecutor(1) as pool:
        third = pool.submit(client.fetch_next, second)
        assert mastodon_fresh.holding.wait(10)
        assert not third.done()
        mastodon_fresh.release()
        assert [n.status.id for n in third.result(timeout=10)] == made[:1]
    queries = [s.query for s in mastodon_fresh.seen if s.path == "/api/v1/notifications"]
    assert "limit=40" in queries[0] and f"max_id={second[-1].id}" in queries[2]
    assert mastodon_fresh.faults() == []
