"""What the fake X API v2 does, seen through the real ``tweepy.Client`` and its ``requests`` session.

These pin the behaviour the X adapter's tests rely on: posting and threads, X's error bodies
(duplicate, too long, bad signature), t.co links and HTML entities in reads, v2 media upload with
alt text, rate-limit and 24-hour cap headers, the faults, persistence in another process, and for
``metrics pull``: the 100-id ``get_tweets`` lookup with ``public_metrics`` and its not-found
errors, ``engage``, and the free tier's ``client-not-enrolled`` 403 on reads; for ``inbox pull``:
the mentions timeline (who is listed, its shape, pages, rate limit), replies and quotes by
another account.  Every test's
client goes through ``rewrite_session``, and teardown checks the fake saw every request.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import tweepy

from tests.fakes.x_api import (
    CLIENT_FORBIDDEN,
    DAY,
    DUPLICATE,
    QUOTE_GONE,
    REPLY_GONE,
    TOO_LONG,
    Account,
    UnexpectedHost,
    XFake,
    rewrite_session,
)

REPO = Path(__file__).resolve().parents[2]
TWEETS = r"^/2/tweets$"
MEDIA = "https://api.x.com/2/media"
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a3c30000000049454e44ae426082"
)
Connect = Callable[..., tweepy.Client]
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy


@pytest.fixture
def fake() -> Iterator[XFake]:
    with XFake() as running:
        yield running


@pytest.fixture
def account(fake: XFake) -> Account:
    return fake.add_account("springfieldpta", name="Springfield PTA")


def _tweepy(
    account: Account, base_url: str, *, oauth2: bool = False, **overrides: Any
) -> tuple[tweepy.Client, Any]:
    """A tweepy client acting as ``account`` (OAuth 1.0a, or its OAuth 2.0 token), sent to the
    fake at ``base_url``; and the rewriting adapter."""
    if oauth2:
        client = tweepy.Client(bearer_token=account.oauth2_token, **overrides)
    else:
        keys = {
            "consumer_key": account.consumer_key,
            "consumer_secret": account.consumer_secret,
            "access_token": account.access_token,
            "access_token_secret": account.access_token_secret,
        }
        client = tweepy.Client(**(keys | overrides))
    return client, rewrite_session(client.session, base_url)


@pytest.fixture
def connect(fake: XFake) -> Iterator[Connect]:
    """Builds tweepy clients wired to the fake; afterwards, every request sent reached it."""
    adapters: list[Any] = []

    def build(account: Account, **options: Any) -> tweepy.Client:
        client, adapter = _tweepy(account, fake.base_url, **options)
        adapters.append(adapter)
        return client

    yield build
    sent = [url for adapter in adapters for url in adapter.sent]
    assert all(url.startswith(fake.base_url + "/2/") for url in sent)
    _wait_for(lambda: len(fake.requests) == len(sent))


@pytest.fixture
def client(connect: Connect, account: Account) -> tweepy.Client:
    return connect(account)


def _wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def _oauth1(client: tweepy.Client) -> Any:
    """Exactly what ``tweepy.Client.request`` signs a user-context request with."""
    handler = tweepy.OAuth1UserHandler(
        client.consumer_key,
        client.consumer_secret,
        client.access_token,
        client.access_token_secret,
    )
    return handler.apply_auth()


def _raw(client: tweepy.Client, method: str, url: str, **kwargs: Any) -> requests.Response:
    """A request on tweepy's own session and auth, for what tweepy has no method for."""
    headers = {"User-Agent": client.user_agent}
    return client.session.request(method, url, auth=_oauth1(client), headers=headers, **kwargs)


def _control(base_url: str, name: str, payload: object) -> tuple[int, Any]:
    """``POST /_fake/<name>``, as a test in another process would."""
    request = urllib.request.Request(
        f"{base_url}/_fake/{name}", data=json.dumps(payload).encode(), method="POST"
    )
    try:
        with _LOOPBACK.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _upload(client: tweepy.Client, data: bytes, media_type: str, chunk: int = 4) -> str:
    """The v2 chunked upload: initialize, multipart appends, finalize; returns the media id."""
    init = {"total_bytes": len(data), "media_type": media_type}
    answer = client.request("POST", "/2/media/upload/initialize", json=init, user_auth=True)
    media_id: str = answer.json()["data"]["id"]
    for index, start in enumerate(range(0, len(data), chunk)):
        files = {"media": ("blob", data[start : start + chunk], "application/octet-stream")}
        appended = _raw(
            client,
            "POST",
            f"{MEDIA}/upload/{media_id}/append",
            data={"segment_index": index},
            files=files,
        )
        assert appended.status_code == 200 and "expires_at" in appended.json()["data"]
    client.request("POST", f"/2/media/upload/{media_id}/finalize", user_auth=True)
    return media_id


# -- posting -----------------------------------------------------------------------------------


def test_create_tweet_answers_201_with_xs_shape_and_is_stored(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    posted = client.create_tweet(text="Fund our schools")
    assert posted.data == {
        "id": posted.data["id"],
        "text": "Fund our schools",
        "edit_history_tweet_ids": [posted.data["id"]],
    }
    assert [(p.id, p.text) for p in fake.posts(account)] == [
        (posted.data["id"], "Fund our schools")
    ]
    assert fake.requests == [("POST", "/2/tweets", 201)]


def test_replies_form_a_thread_with_conversation_and_reply_fields(
    client: tweepy.Client, account: Account
) -> None:
    root = client.create_tweet(text="1/ Why school boards matter").data["id"]
    second = client.create_tweet(text="2/ They set budgets", in_reply_to_tweet_id=root).data["id"]
    third = client.create_tweet(text="3/ Vote", in_reply_to_tweet_id=second).data["id"]
    fields = ["conversation_id", "in_reply_to_user_id", "referenced_tweets", "author_id"]
    found = client.get_tweets([root, second, third], tweet_fields=fields, user_auth=True).data
    assert [t.conversation_id for t in found] == [int(root)] * 3
    assert found[0].referenced_tweets is None and found[0].in_reply_to_user_id is None
    assert [t.referenced_tweets[0].id for t in found[1:]] == [int(root), int(second)]
    assert {t.in_reply_to_user_id for t in found[1:]} == {int(account.user_id)}


def test_reply_to_a_missing_post_is_forbidden_with_xs_message(
    fake: XFake, client: tweepy.Client
) -> None:
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="late reply", in_reply_to_tweet_id="1")
    assert caught.value.api_messages == [REPLY_GONE]
    assert fake.posts() == []


def test_duplicate_text_is_forbidden_with_xs_body_for_24_hours(
    fake: XFake, connect: Connect, client: tweepy.Client
) -> None:
    client.create_tweet(text="Vote on the levy")
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="Vote on the levy")
    assert caught.value.response.json() == {
        "detail": DUPLICATE,
        "type": "about:blank",
        "title": "Forbidden",
        "status": 403,
    }
    assert str(caught.value) == f"403 Forbidden\n{DUPLICATE}"
    other = connect(fake.add_account("ally"))
    other.create_tweet(text="Vote on the levy")  # another account may say the same
    fake.advance(DAY)
    client.create_tweet(text="Vote on the levy")
    assert len(fake.posts()) == 3


def test_length_is_x_weighted_and_too_long_is_a_bad_request(
    fake: XFake, client: tweepy.Client
) -> None:
    client.create_tweet(text="a" * 280)
    client.create_tweet(text="教" * 140)  # CJK weighs two
    client.create_tweet(text="b" * 256 + " https://example.org/" + "x" * 100)  # a URL weighs 23
    for text in ("c" * 281, "育" * 141):
        with pytest.raises(tweepy.BadRequest) as caught:
            client.create_tweet(text=text)
        assert caught.value.api_messages == [TOO_LONG]
    assert len(fake.posts()) == 3


def test_empty_post_is_an_invalid_request(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest) as caught:
        client.create_tweet(text="")
    body = caught.value.response.json()
    assert body["title"] == "Invalid Request" and body["errors"][0]["parameters"] == {"text": [""]}


# -- auth --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override",
    [
        {"consumer_secret": "wrong"},
        {"access_token_secret": "wrong"},
        {"consumer_key": "someone-elses-app"},
        {"access_token": "123-unknown"},
    ],
)
def test_bad_oauth1_credentials_are_unauthorized(
    fake: XFake, connect: Connect, account: Account, override: dict[str, str]
) -> None:
    client = connect(account, **override)
    with pytest.raises(tweepy.Unauthorized) as caught:
        client.create_tweet(text="hello")
    assert caught.value.response.json() == {
        "detail": "Unauthorized",
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
    }
    assert fake.posts() == [] and fake.requests == [("POST", "/2/tweets", 401)]


def test_signature_covers_the_query_and_the_signed_host(fake: XFake, client: tweepy.Client) -> None:
    def send(signed_url: str, sent_url: str) -> int:
        prepared = client.session.prepare_request(
            requests.Request("GET", signed_url, auth=_oauth1(client))
        )
        prepared.url = sent_url
        return client.session.send(prepared).status_code

    me = "https://api.x.com/2/users/me"
    assert send(me, me) == 200
    assert send("https://api.twitter.com/2/users/me", me) == 200  # tweepy's own host
    assert send(me + "?user.fields=id", me + "?user.fields=name") == 401
    assert send("https://api.x.com.evil.example/2/users/me", me) == 401


def test_oauth2_user_token_acts_as_its_account(
    fake: XFake, connect: Connect, account: Account
) -> None:
    client = connect(account, oauth2=True)
    assert client.get_me(user_auth=False).data.username == "springfieldpta"
    client.create_tweet(text="via OAuth 2.0", user_auth=False)
    assert [p.text for p in fake.posts(account)] == ["via OAuth 2.0"]
    impostor = connect(fake.add_account("ally", oauth2_token="real"), bearer_token="guess")
    with pytest.raises(tweepy.Unauthorized):
        impostor.get_me(user_auth=False)


# -- reading -----------------------------------------------------------------------------------


def test_reads_show_tco_links_and_html_entities(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    sent = "Budget Q&A <tonight> at springfield.k12.us/budget & https://pta.org/rsvp?a=1&b=2"
    posted = client.create_tweet(text=sent).data
    stored = fake.posts(account)[0]
    assert stored.submitted == sent and "&amp;" not in stored.text
    timeline = client.get_users_tweets(
        account.user_id, tweet_fields=["entities", "created_at"], user_auth=True
    )
    tweet = timeline.data[0]
    assert tweet.text == posted["text"]
    links = [u["url"] for u in tweet.entities["urls"]]
    assert tweet.text == f"Budget Q&amp;A &lt;tonight&gt; at {links[0]} &amp; {links[1]}"
    assert all(len(link) == len("https://t.co/") + 10 for link in links)
    assert [u["expanded_url"] for u in tweet.entities["urls"]] == [
        "http://springfield.k12.us/budget",
        "https://pta.org/rsvp?a=1&b=2",
    ]
    assert abs(tweet.created_at.timestamp() - stored.created_at) < 1


def test_timeline_pages_newest_first_and_filters(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    now = fake.now()
    posts = [fake.add_post(account, f"post {i}", created_at=now - (12 - i) * 60) for i in range(12)]
    ids = [p.id for p in reversed(posts)]  # newest first, as X answers
    first = client.get_users_tweets(account.user_id, max_results=5, user_auth=True)
    assert [str(t.id) for t in first.data] == ids[:5]
    assert first.meta["newest_id"] == ids[0] and first.meta["oldest_id"] == ids[4]
    second = client.get_users_tweets(
        account.user_id, max_results=5, pagination_token=first.meta["next_token"], user_auth=True
    )
    assert [str(t.id) for t in second.data] == ids[5:10]
    back = client.get_users_tweets(
        account.user_id,
        max_results=5,
        pagination_token=second.meta["previous_token"],
        user_auth=True,
    )
    assert [str(t.id) for t in back.data] == ids[:5]
    every = tweepy.Paginator(
        client.get_users_tweets, account.user_id, max_results=5, user_auth=True
    ).flatten()
    assert [str(t.id) for t in every] == ids
    newer = client.get_users_tweets(account.user_id, since_id=ids[3], user_auth=True)
    assert [str(t.id) for t in newer.data] == ids[:3]
    start = datetime.fromtimestamp(posts[-2].created_at, UTC).replace(microsecond=0)
    recent = client.get_users_tweets(account.user_id, start_time=start, user_auth=True)
    assert [str(t.id) for t in recent.data] == ids[:2]
    with pytest.raises(tweepy.BadRequest) as caught:
        client.get_users_tweets(account.user_id, max_results=3, user_auth=True)
    assert "is not between 5 and 100" in caught.value.api_messages[0]


def test_timeline_excludes_replies_when_asked(client: tweepy.Client, account: Account) -> None:
    root = client.create_tweet(text="root").data["id"]
    client.create_tweet(text="reply", in_reply_to_tweet_id=root)
    plain = client.get_users_tweets(account.user_id, exclude=["replies"], user_auth=True)
    assert [t.text for t in plain.data] == ["root"]


def test_missing_posts_come_back_as_errors_not_exceptions(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    kept = client.create_tweet(text="keep").data["id"]
    gone = client.create_tweet(text="delete me").data["id"]
    assert client.delete_tweet(gone, user_auth=True).data == {"deleted": True}
    answer = client.get_tweet(gone, user_auth=True)
    assert answer.data is None
    assert answer.errors[0]["detail"] == f"Could not find tweet with id: [{gone}]."
    assert answer.errors[0]["type"].endswith("/2/problems/resource-not-found")
    both = client.get_tweets([kept, gone], user_auth=True)
    assert [str(t.id) for t in both.data] == [kept] and len(both.errors) == 1
    assert [p.id for p in fake.posts(account)] == [kept]


def test_someone_elses_post_cannot_be_deleted(
    fake: XFake, connect: Connect, client: tweepy.Client
) -> None:
    theirs = connect(fake.add_account("ally")).create_tweet(text="mine").data["id"]
    with pytest.raises(tweepy.Forbidden):
        client.delete_tweet(theirs, user_auth=True)
    assert len(fake.posts()) == 1


def test_public_metrics_grow_with_age_and_settle(fake: XFake, client: tweepy.Client) -> None:
    post = client.create_tweet(text="Metrics please").data["id"]
    client.create_tweet(text="a reply", in_reply_to_tweet_id=post)

    def metrics() -> dict[str, int]:
        found = client.get_tweet(post, tweet_fields=["public_metrics"], user_auth=True)
        return dict(found.data.public_metrics)

    fresh = metrics()
    assert fresh["reply_count"] == 1 and fresh["like_count"] == fresh["impression_count"] == 0
    fake.advance(10 * 3600)
    later = metrics()
    assert 0 < later["like_count"] < later["impression_count"]
    fake.advance(48 * 3600)
    settled = metrics()
    assert settled["impression_count"] > later["impression_count"]
    fake.advance(48 * 3600)
    assert metrics() == settled


# -- engagement: batch lookup, engage, tiers ----------------------------------------------------


def test_get_tweets_takes_100_ids_and_reports_missing_ones_as_errors(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    sent = client.create_tweet(text="through the API").data["id"]
    gone = client.create_tweet(text="deleted later").data["id"]
    client.delete_tweet(gone, user_auth=True)
    stored = [fake.add_post(account, f"stored {n}").id for n in range(97)]
    never = "1999999999999999999"
    ids = [sent, gone, *stored, never]
    answer = client.get_tweets(ids, tweet_fields=["public_metrics"], user_auth=True)
    assert [str(t.id) for t in answer.data] == [sent, *stored]
    assert set(answer.data[0].public_metrics) == {
        "retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count",
        "impression_count",
    }  # fmt: skip
    assert [e["resource_id"] for e in answer.errors] == [gone, never]
    assert answer.errors[0] == {
        "value": gone,
        "detail": f"Could not find tweet with ids: [{gone}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": gone,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def test_more_than_100_ids_is_an_invalid_request(fake: XFake, client: tweepy.Client) -> None:
    ids = [str(10**15 + n) for n in range(101)]
    with pytest.raises(tweepy.BadRequest) as caught:
        client.get_tweets(ids, tweet_fields=["public_metrics"], user_auth=True)
    body = caught.value.response.json()
    assert (body["title"], body["type"]) == (
        "Invalid Request",
        "https://api.twitter.com/2/problems/invalid-request",
    )
    assert caught.value.api_messages == [
        "The number of values in the `ids` query parameter list [101] is not between 1 and 100"
    ]


def test_engage_adds_to_what_age_gives_and_counts_never_go_below_zero(
    fake: XFake, client: tweepy.Client
) -> None:
    post = client.create_tweet(text="Thank a bus driver").data["id"]

    def metrics() -> dict[str, int]:
        answer = client.get_tweets([post], tweet_fields=["public_metrics"], user_auth=True)
        return dict(answer.data[0].public_metrics)

    fresh = fake.engage(post, likes=5)
    assert fresh["like_count"] == metrics()["like_count"] == 5  # nothing from age in minute one
    fake.advance(49 * 3600)  # settled: age adds no more, so the sums below are exact
    before = metrics()
    assert before["like_count"] > 5
    now = fake.engage(post, likes=5, retweets=2, replies=1, quotes=1, bookmarks=3, impressions=40)
    added = {"like_count": 5, "retweet_count": 2, "reply_count": 1, "quote_count": 1,
             "bookmark_count": 3, "impression_count": 40}  # fmt: skip
    assert metrics() == now == {k: v + added[k] for k, v in before.items()}
    assert _control(fake.base_url, "engage", {"tweet_id": post, "likes": -(10**6)}) == (
        200,
        {"ok": True},
    )
    assert metrics()["like_count"] == 0
    with pytest.raises(KeyError):
        fake.engage("1999999999999999999", likes=1)


def test_free_tier_posts_but_reading_posts_is_client_forbidden(
    fake: XFake, connect: Connect
) -> None:
    account = fake.add_account("shoestring", tier="free")
    client = connect(account)
    post = client.create_tweet(text="Free tier can post").data["id"]
    assert str(client.get_me().data.id) == account.user_id
    reads: list[Callable[[], Any]] = [
        lambda: client.get_tweet(post, user_auth=True),
        lambda: client.get_tweets([post], tweet_fields=["public_metrics"], user_auth=True),
        lambda: client.get_users_tweets(account.user_id, user_auth=True),
        lambda: client.get_users_mentions(account.user_id, user_auth=True),
        lambda: client.get_retweeters(post, user_auth=True),
    ]
    for read in reads:
        with pytest.raises(tweepy.Forbidden) as caught:
            read()
        body = caught.value.response.json()
        assert body == {"client_id": body["client_id"], **CLIENT_FORBIDDEN}
        assert body["client_id"].isdigit() and body["reason"] == "client-not-enrolled"
        assert caught.value.api_messages == [CLIENT_FORBIDDEN["detail"]]
    assert client.delete_tweet(post, user_auth=True).data == {"deleted": True}
    assert _control(fake.base_url, "tier", {"account": "shoestring", "tier": "basic"})[0] == 200
    assert client.get_tweets([post], user_auth=True).errors[0]["resource_id"] == post


def test_accounts_default_to_basic_and_tiers_are_checked(fake: XFake, account: Account) -> None:
    assert account.tier == "basic"
    fake.set_tier(account, "pro")
    assert fake.account("springfieldpta").tier == "pro"
    with pytest.raises(ValueError, match="unknown tier"):
        fake.add_account("gold", tier="enterprise")
    status, created = _control(fake.base_url, "accounts", {"username": "lean", "tier": "free"})
    assert (status, created["tier"]) == (201, "free")


def test_tier_and_added_engagement_persist_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "x.json"
    first = XFake(state_path=state)
    account = first.add_account("shoestring", tier="free")
    post = first.add_post(account, "Saved with its likes").id
    counts = first.engage(post, likes=4)
    again = XFake(state_path=state)
    assert again.account("shoestring").tier == "free"
    assert again.engage(post) == counts


def test_get_me_answers_the_signed_in_account(client: tweepy.Client, account: Account) -> None:
    me = client.get_me().data
    assert (str(me.id), me.username, me.name) == (account.user_id, account.username, account.name)


# -- media -------------------------------------------------------------------------------------


def test_media_upload_v2_with_alt_text_then_a_post(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    media_id = _upload(client, PNG, "image/png", chunk=30)
    second = _upload(client, PNG, "image/png", chunk=100)
    metadata = {"id": media_id, "metadata": {"alt_text": {"text": "Kids reading"}}}
    answer = _raw(client, "POST", f"{MEDIA}/metadata", json=metadata)
    assert answer.json() == {
        "data": {"id": media_id, "associated_metadata": {"alt_text": {"text": "Kids reading"}}}
    }
    assert fake.media[media_id].alt_text == "Kids reading"
    posted = client.create_tweet(text="Reading night!", media_ids=[media_id, second]).data
    assert re.fullmatch(r"Reading night! https://t\.co/\w{10}", posted["text"])  # X links media
    fields = ["attachments", "entities"]
    found = client.get_tweet(posted["id"], tweet_fields=fields, user_auth=True).data
    assert found.attachments == {"media_keys": [f"3_{media_id}", f"3_{second}"]}
    assert [u["media_key"] for u in found.entities["urls"]] == found.attachments["media_keys"]
    assert fake.posts(account)[0].media_ids == [media_id, second]
    assert [r.path for r in fake.requests].count(f"/2/media/upload/{media_id}/append") == 3


def test_video_is_processed_before_it_can_be_posted(fake: XFake, client: tweepy.Client) -> None:
    media_id = _upload(client, b"0123456789", "video/mp4")
    with pytest.raises(tweepy.BadRequest) as caught:
        client.create_tweet(text="Too soon", media_ids=[media_id])
    assert caught.value.api_messages == ["Your media IDs are invalid."]
    states = []
    for _ in range(2):
        status = client.request(
            "GET",
            "/2/media/upload",
            params={"command": "STATUS", "media_id": media_id},
            user_auth=True,
        ).json()["data"]["processing_info"]
        states.append(status["state"])
    assert states == ["in_progress", "succeeded"]
    assert fake.media[media_id].key == f"7_{media_id}"
    client.create_tweet(text="Now", media_ids=[media_id])


def test_finalize_checks_the_size_and_reports_processing(client: tweepy.Client) -> None:
    init = {"total_bytes": 10, "media_type": "video/mp4", "media_category": "tweet_video"}
    media_id = client.request(
        "POST", "/2/media/upload/initialize", json=init, user_auth=True
    ).json()["data"]["id"]
    chunk = {"media": "MDEyMzQ=", "segment_index": 0}  # JSON appends carry base64
    _raw(client, "POST", f"{MEDIA}/upload/{media_id}/append", json=chunk)
    with pytest.raises(tweepy.BadRequest) as caught:
        client.request("POST", f"/2/media/upload/{media_id}/finalize", user_auth=True)
    assert caught.value.api_messages == ["Segments do not add up to provided total file size."]
    _raw(client, "POST", f"{MEDIA}/upload/{media_id}/append", json=chunk | {"segment_index": 1})
    done = client.request("POST", f"/2/media/upload/{media_id}/finalize", user_auth=True)
    data = done.json()["data"]
    assert data["size"] == 10 and data["processing_info"]["state"] == "pending"


@pytest.mark.parametrize(
    ("extra", "fails"), [(0, None), (2, None), (1, "Unsupported video format")]
)
def test_video_processing_takes_the_polls_asked_and_may_fail(
    fake: XFake, client: tweepy.Client, extra: int, fails: str | None
) -> None:
    """``media_processing`` more polls in_progress, then succeeded, or failed with
    ``media_fails`` in X's shape (the STATUS reference's example: code 1, InvalidMedia)."""
    fake.media_processing, fake.media_fails = extra, fails
    media_id = _upload(client, b"\x00" * 8, "video/mp4")
    states = []
    for _ in range(2 + extra):
        info = _raw(
            client, "GET", f"{MEDIA}/upload", params={"command": "STATUS", "media_id": media_id}
        ).json()["data"]["processing_info"]
        states.append(info["state"])
    assert states == ["in_progress"] * (1 + extra) + ["failed" if fails else "succeeded"]
    if fails:
        assert info["error"] == {"code": 1, "name": "InvalidMedia", "message": fails}
        with pytest.raises(tweepy.BadRequest):  # a failed video cannot be posted
            client.create_tweet(text="The vote", media_ids=[media_id])


def test_legacy_command_upload_signs_form_fields(fake: XFake, client: tweepy.Client) -> None:
    """The older single endpoint; its form-encoded fields are part of the OAuth signature."""
    url = f"{MEDIA}/upload"
    form = {"command": "INIT", "total_bytes": str(len(PNG)), "media_type": "image/png"}
    media_id = _raw(client, "POST", url, data=form).json()["data"]["id"]
    fields = {"command": "APPEND", "media_id": media_id, "segment_index": "0"}
    appended = _raw(client, "POST", url, data=fields, files={"media": ("png", PNG)})
    assert appended.status_code == 200
    done = _raw(client, "POST", url, data={"command": "FINALIZE", "media_id": media_id})
    assert done.json()["data"]["id"] == media_id and "processing_info" not in done.json()["data"]
    one_shot = _raw(
        client, "POST", url, files={"media": ("png", PNG)}, data={"media_category": "tweet_image"}
    )
    assert one_shot.status_code == 200
    tampered = client.session.prepare_request(
        requests.Request("POST", url, data=form, auth=_oauth1(client))
    )
    tampered.body = "command=INIT&total_bytes=999&media_type=image%2Fpng"
    assert client.session.send(tampered).status_code == 401


def test_media_of_another_account_cannot_be_attached(
    fake: XFake, connect: Connect, client: tweepy.Client
) -> None:
    theirs = _upload(connect(fake.add_account("ally")), PNG, "image/png", chunk=100)
    with pytest.raises(tweepy.BadRequest) as caught:
        client.create_tweet(text="borrowed", media_ids=[theirs])
    assert caught.value.response.json()["errors"][0]["parameters"] == {"media.media_ids": [theirs]}


# -- limits ------------------------------------------------------------------------------------


def test_every_answer_carries_rate_limit_headers(
    fake: XFake, connect: Connect, account: Account
) -> None:
    client = connect(account, return_type=requests.Response)
    first = client.create_tweet(text="one")
    second = client.create_tweet(text="two")
    assert (first.headers["x-rate-limit-limit"], first.headers["x-rate-limit-remaining"]) == (
        "100",
        "99",
    )
    assert second.headers["x-rate-limit-remaining"] == "98"
    assert int(second.headers["x-rate-limit-reset"]) > fake.now()
    assert second.headers["x-user-limit-24hour-remaining"] == "2398"
    failures = [
        _raw(client, "GET", "https://api.x.com/2/nowhere"),
        connect(account, consumer_secret="wrong").session.get("https://api.x.com/2/users/me"),
    ]
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="one")
    assert caught.value.response.headers["x-rate-limit-remaining"] == "97"
    for response in [*failures, caught.value.response]:
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(
            response.headers
        )
    assert [r.status_code for r in failures] == [404, 401]


def test_the_daily_cap_answers_429_with_the_24_hour_headers(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    fake.set_daily_limit(account, 2)
    client.create_tweet(text="one")
    first_at = fake.posts(account)[0].created_at
    client.create_tweet(text="two")
    client.delete_tweet(fake.posts(account)[1].id, user_auth=True)  # deleting gives nothing back
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_tweet(text="three")
    headers = caught.value.response.headers
    assert headers["x-user-limit-24hour-limit"] == "2"
    assert headers["x-user-limit-24hour-remaining"] == "0"
    assert headers["x-user-limit-24hour-reset"] == str(int(first_at + DAY))
    assert caught.value.api_messages == ["Too Many Requests"]
    fake.advance(DAY)
    client.create_tweet(text="three")


def test_injected_429_raises_too_many_requests_with_its_reset(
    fake: XFake, client: tweepy.Client
) -> None:
    fake.inject("POST", TWEETS, "429", reset_in=30)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.create_tweet(text="hello")
    reset = int(caught.value.response.headers["x-rate-limit-reset"])
    assert caught.value.reset_time == reset and abs(reset - (fake.now() + 30)) <= 2
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"
    assert fake.posts() == []
    client.create_tweet(text="hello")  # the fault struck once
    assert len(fake.posts()) == 1


@pytest.mark.parametrize("kind", ["500", "503"])
def test_injected_server_errors_store_nothing(
    fake: XFake, client: tweepy.Client, kind: str
) -> None:
    fake.inject("*", "^/2/tweets", kind, times=2)
    for _ in range(2):
        with pytest.raises(tweepy.TwitterServerError) as caught:
            client.create_tweet(text="hello")
        assert caught.value.response.status_code == int(kind)
    assert fake.posts() == []
    assert [r.status for r in fake.requests] == [int(kind)] * 2


# -- faults ------------------------------------------------------------------------------------


def test_store_then_drop_loses_the_answer_but_keeps_the_post(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    fake.inject("POST", TWEETS, "store_then_drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_tweet(text="Did this go out?")
    assert [p.text for p in fake.posts(account)] == ["Did this go out?"]
    assert fake.requests == [("POST", "/2/tweets", None)]
    with pytest.raises(tweepy.Forbidden):  # a blind retry meets the duplicate check
        client.create_tweet(text="Did this go out?")


def test_store_then_malformed_keeps_the_post_and_answers_200_without_an_id(
    fake: XFake, client: tweepy.Client, account: Account
) -> None:
    fake.inject("POST", TWEETS, "store_then_malformed")
    answer = client.create_tweet(text="Acted on, answered badly")
    assert answer.data == {}  # HTTP 200 with {"data": {}}: no id to record
    assert fake.requests == [("POST", "/2/tweets", 200)]
    (post,) = fake.posts(account)
    assert post.submitted == "Acted on, answered badly"
    assert client.get_tweet(post.id, user_auth=True).data.text == "Acted on, answered badly"
    timeline = client.get_users_tweets(account.user_id, user_auth=True).data
    assert [t.id for t in timeline] == [int(post.id)]


def test_injected_error_answers_the_given_status_body_and_reset(
    fake: XFake, client: tweepy.Client
) -> None:
    body = {"title": "Client Forbidden", "type": "https://api.twitter.com/2/problems/client-forbidden",
            "detail": "not enrolled", "reason": "client-not-enrolled"}  # fmt: skip
    fake.inject("POST", TWEETS, "error", status=403, body=body)
    with pytest.raises(tweepy.Forbidden) as forbidden:
        client.create_tweet(text="hello")
    assert forbidden.value.response.json() == body
    fake.inject("POST", TWEETS, "error", status=429, reset_in=120)
    with pytest.raises(tweepy.TooManyRequests) as limited:
        client.create_tweet(text="hello")
    headers = limited.value.response.headers
    assert headers["x-rate-limit-remaining"] == "0"
    assert abs(int(headers["x-rate-limit-reset"]) - (fake.now() + 120)) <= 2
    assert limited.value.response.json()["title"] == "Too Many Requests"
    fake.inject("GET", "^/2/users/me$", "error", status=502)
    with pytest.raises(tweepy.TwitterServerError) as bad_gateway:
        client.get_me()
    assert bad_gateway.value.response.json()["title"] == "Bad Gateway"
    assert fake.posts() == []


def test_drop_loses_the_request(fake: XFake, client: tweepy.Client) -> None:
    fake.inject("POST", TWEETS, "drop")
    with pytest.raises(requests.exceptions.ConnectionError):
        client.create_tweet(text="lost")
    assert fake.posts() == []
    client.create_tweet(text="lost")
    assert len(fake.posts()) == 1


def test_slow_answer_times_the_client_out_after_the_post_is_stored(
    fake: XFake, client: tweepy.Client
) -> None:
    fake.inject("POST", TWEETS, "slow", seconds=0.5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        _raw(client, "POST", "https://api.twitter.com/2/tweets", json={"text": "hi"}, timeout=0.1)
    _wait_for(lambda: len(fake.posts()) == 1)


def test_faults_can_be_set_over_http(fake: XFake, client: tweepy.Client) -> None:
    spec = {"method": "POST", "path_regex": TWEETS, "kind": "503"}
    assert _control(fake.base_url, "faults", spec) == (200, {"ok": True})
    with pytest.raises(tweepy.TwitterServerError):
        client.create_tweet(text="hello")
    status, answer = _control(fake.base_url, "faults", spec | {"kind": "explode"})
    assert status == 400 and "unknown fault kind" in answer["error"]


def test_unknown_fault_kind_or_option_is_refused(fake: XFake) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.inject("POST", TWEETS, "explode")
    with pytest.raises(ValueError, match="unknown options"):
        fake.inject("POST", TWEETS, "slow", reset_in=3)


def test_reset_forgets_posts_and_faults_but_keeps_accounts(fake: XFake, account: Account) -> None:
    client, adapter = _tweepy(account, fake.base_url)  # counted here: reset empties requests
    client.create_tweet(text="left over")
    fake.inject("*", ".", "drop", times=None)
    fake.reset()
    assert fake.posts() == [] and fake.requests == []
    client.create_tweet(text="left over")
    assert len(fake.posts()) == 1
    assert fake.requests == [("POST", "/2/tweets", 201)] and len(adapter.sent) == 2


def test_the_rewrite_refuses_any_other_host(fake: XFake, client: tweepy.Client) -> None:
    with pytest.raises(UnexpectedHost, match=r"example\.com"):
        client.session.get("https://example.com/")
    assert fake.requests == []


# -- another process ---------------------------------------------------------------------------


def test_a_fake_in_another_process_persists_its_state(tmp_path: Path) -> None:
    state = tmp_path / "x.json"

    def launch() -> tuple[subprocess.Popen[str], str]:
        command = [sys.executable, "-m", "tests.fakes.x_api", "--port", "0", "--state", str(state)]
        proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        return proc, proc.stdout.readline().strip()

    def stop(proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout is not None
        proc.stdout.close()

    proc, base_url = launch()
    try:
        assert base_url.startswith("http://127.0.0.1:")
        status, created = _control(base_url, "accounts", {"username": "springfieldpta"})
        assert status == 201
        client, _ = _tweepy(Account(**created), base_url)
        post_id = client.create_tweet(text="Saved across processes").data["id"]
        saved = json.loads(state.read_text())
        assert [p["submitted"] for p in saved["posts"]] == ["Saved across processes"]
        spec = {"method": "POST", "path_regex": TWEETS, "kind": "store_then_drop"}
        assert _control(base_url, "faults", spec) == (200, {"ok": True})
        with pytest.raises(requests.exceptions.ConnectionError):
            client.create_tweet(text="Stored, answer lost")
        saved = json.loads(state.read_text())
        assert len(saved["posts"]) == 2
        assert saved["requests"] == [["POST", "/2/tweets", 201], ["POST", "/2/tweets", None]]
    finally:
        stop(proc)
    proc, base_url = launch()
    try:
        rewrite_session(client.session, base_url)
        assert client.get_tweet(post_id, user_auth=True).data.text == "Saved across processes"
    finally:
        stop(proc)


# -- mentions (inbox pull) -------------------------------------------------------------------

MENTION_FIELDS = ["created_at", "conversation_id", "referenced_tweets", "in_reply_to_user_id"]


def _mentions(client: tweepy.Client, account: Account, **params: Any) -> Any:
    """``GET /2/users/:id/mentions`` as the X adapter asks it, the raw JSON answer."""
    answer = client.get_users_mentions(
        account.user_id,
        expansions=["author_id"],
        tweet_fields=MENTION_FIELDS,
        user_fields=["username", "name"],
        user_auth=True,
        **params,
    )
    assert answer.status_code == 200
    return answer.json()


def test_mentions_list_what_names_the_user_or_replies_to_it_newest_first(
    fake: XFake, connect: Connect, account: Account
) -> None:
    """Replies (X writes the @ in), mentions and quotes that name the user; not a quote that
    does not name it, the user's own replies, or posts about someone else."""
    client = connect(account, return_type=requests.Response)
    ours = client.create_tweet(text="Levy vote Tuesday").json()["data"]["id"]
    own_reply = client.create_tweet(text="2/ Polls open at 7", in_reply_to_tweet_id=ours)
    ally = fake.add_account("ally", name="An Ally")
    other = fake.add_account("bystander")
    reply = fake.add_post(ally, "Voting yes!", in_reply_to=ours)
    mention = fake.add_post(ally, "Thanks @SpringfieldPTA & friends")
    quote = fake.add_post(ally, "Read this, @springfieldpta fans", quote_of=ours)
    fake.add_post(ally, "A quote that names nobody", quote_of=ours)
    fake.add_post(other, "Hello @ally", in_reply_to=reply.id)
    fake.add_post(other, "mail springfieldpta@example.org")  # an address, not a mention
    page = _mentions(client, account)
    assert [t["id"] for t in page["data"]] == [quote.id, mention.id, reply.id]
    by_id = {t["id"]: t for t in page["data"]}
    assert by_id[reply.id]["referenced_tweets"] == [{"type": "replied_to", "id": ours}]
    assert by_id[reply.id]["in_reply_to_user_id"] == account.user_id
    assert by_id[reply.id]["conversation_id"] == ours
    assert by_id[quote.id]["referenced_tweets"] == [{"type": "quoted", "id": ours}]
    assert "referenced_tweets" not in by_id[mention.id]
    assert by_id[mention.id]["text"] == "Thanks @SpringfieldPTA &amp; friends"  # X escapes &<>
    assert {t["author_id"] for t in page["data"]} == {ally.user_id}
    assert all(t["created_at"].endswith(".000Z") for t in page["data"])
    assert page["includes"] == {
        "users": [{"id": ally.user_id, "name": "An Ally", "username": "ally"}]
    }
    assert page["meta"] == {"result_count": 3, "newest_id": quote.id, "oldest_id": reply.id}
    assert own_reply.status_code == 201
    plain = client.get_users_mentions(ally.user_id, user_auth=True).json()
    assert "includes" not in plain and [t["id"] for t in plain["data"]] == [
        p.id for p in fake.posts(other) if p.in_reply_to_tweet_id
    ]
    nobody = fake.add_account("nobody")
    assert client.get_users_mentions(nobody.user_id, user_auth=True).json() == {
        "meta": {"result_count": 0}
    }


def test_mentions_page_by_pagination_token_5_to_100_at_a_time(
    fake: XFake, connect: Connect, account: Account
) -> None:
    client = connect(account, return_type=requests.Response)
    ally = fake.add_account("ally")
    made = [fake.add_post(ally, f"@springfieldpta number {n}").id for n in range(12)]
    newest_first = made[::-1]
    seen, token, sizes = [], None, []
    while True:
        page = _mentions(client, account, max_results=5, pagination_token=token)
        sizes.append(page["meta"]["result_count"])
        seen += [t["id"] for t in page["data"]]
        token = page["meta"].get("next_token")
        if token is None:
            break
    assert (seen, sizes) == (newest_first, [5, 5, 2])
    since = _mentions(client, account, since_id=made[9])
    assert [t["id"] for t in since["data"]] == newest_first[:2]
    for size in (4, 101):
        with pytest.raises(tweepy.BadRequest) as caught:
            client.get_users_mentions(account.user_id, max_results=size, user_auth=True)
        assert "is not between 5 and 100" in caught.value.api_messages[0]
    with pytest.raises(tweepy.BadRequest, match="pagination_token"):
        client.get_users_mentions(account.user_id, pagination_token="zz", user_auth=True)


def test_mentions_have_their_own_rate_limit_window(
    fake: XFake, connect: Connect, account: Account
) -> None:
    client = connect(account, oauth2=True, return_type=requests.Response)
    first = client.get_users_mentions(account.user_id)
    assert first.headers["x-rate-limit-limit"] == "180"
    assert first.headers["x-rate-limit-remaining"] == "179"
    other_route = client.get_users_tweets(account.user_id)
    assert other_route.headers["x-rate-limit-remaining"] == "899"  # counted apart
    for _ in range(179):
        assert client.get_users_mentions(account.user_id).status_code == 200
    with pytest.raises(tweepy.TooManyRequests) as caught:
        client.get_users_mentions(account.user_id)
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"
    fake.advance(900)  # the next 15-minute window
    assert client.get_users_mentions(account.user_id).status_code == 200


def test_another_account_quotes_and_replies_over_http_and_the_fake_keeps_it(
    fake: XFake, connect: Connect, account: Account, tmp_path: Path
) -> None:
    client = connect(account)
    ours = client.create_tweet(text="Budget hearing Thursday").data["id"]
    ally = connect(fake.add_account("ally"))
    quoted = ally.create_tweet(text="@springfieldpta see you there", quote_tweet_id=ours)
    status, _ = _control(
        fake.base_url, "posts", {"account": "ally", "text": "Same!", "in_reply_to": ours}
    )
    assert status == 200
    gone = _control(fake.base_url, "posts", {"account": "ally", "text": "x", "quote_of": "1"})
    assert gone[0] == 400 and gone[1]["errors"][0]["message"] == QUOTE_GONE
    kinds = [
        [r["type"] for r in t["referenced_tweets"]]
        for t in _mentions(connect(account, return_type=requests.Response), account)["data"]
    ]
    assert kinds == [["replied_to"], ["quoted"]]
    assert fake.posts("ally")[0].id == quoted.data["id"]


def test_a_quote_persists_in_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "x.json"
    first = XFake(state_path=state)
    ours = first.add_post(first.add_account("springfieldpta"), "Budget hearing Thursday").id
    first.add_post(first.add_account("ally"), "@springfieldpta yes", quote_of=ours)
    assert XFake(state_path=state).posts("ally")[0].quoted_tweet_id == ours


def test_retweeted_by_lists_who_retweeted_latest_first_in_pages(
    fake: XFake, connect: Connect, account: Account
) -> None:
    client = connect(account, return_type=requests.Response)
    ours = client.create_tweet(text="Vote Tuesday", user_auth=True).json()["data"]["id"]
    allies = [fake.add_account(f"ally{n}", name=f"Ally {n}") for n in range(5)]
    for ally in allies:
        fake.add_retweet(ally, ours)
    seen, token = [], None
    while True:
        page = client.get_retweeters(
            ours, max_results=2, pagination_token=token, user_auth=True
        ).json()
        seen += [(u["id"], u["username"], u["name"]) for u in page.get("data", [])]
        assert page["meta"]["result_count"] == len(page.get("data", []))
        token = page["meta"].get("next_token")
        if token is None:
            break
    expected = [(a.user_id, a.username, a.name) for a in allies[::-1]]
    assert seen == expected
    gone = client.get_retweeters("1", user_auth=True).json()
    assert gone["errors"][0]["resource_id"] == "1"
    with pytest.raises(tweepy.BadRequest, match="between 1 and 100"):
        client.get_retweeters(ours, max_results=101, user_auth=True)
