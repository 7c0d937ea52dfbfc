"""What the reference Bluesky PDS (tests/fakes/bluesky.py) does, seen through the ``atproto`` SDK.

These pin what the Bluesky adapter has to live with: login, facets at UTF-8 byte offsets, blobs,
reply refs, engagement counts from getPosts (the PDS proxies it to the fake AppView of
tests/fakes/bluesky_appview.py), and above all what a retry meets. A ``createRecord`` with an
rkey that is already taken is an HTTP 500 ``InternalServerError`` (the repo's "There is already
a value at key"), not a conflict; ``putRecord`` with ``swapRecord: null`` is the create-if-absent
that answers "already there", but the SDK drops the null, so only a raw call can send it. A
dropped connection escapes the SDK as a bare ``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

import base64
import json
import re
import socket
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from atproto import Client, SessionEvent, models
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RequestException,
    UnauthorizedError,
)

if TYPE_CHECKING:  # the fixtures come from the tests.fakes.bluesky plugin
    from tests.fakes.bluesky import Account, BlueskyPDS

POST = "app.bsky.feed.post"
# a 1x1 transparent PNG
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a5f6a3c30000000049454e44ae426082"
)
# httpx 0.28's word for the SDK's upload_blob (test_upload_blob_warns_under_httpx_0_28)
UPLOAD_WARNING = re.escape("Use 'content=<...>' to upload raw bytes")
_S32 = "234567abcdefghijklmnopqrstuvwxyz"
NOON = datetime(2026, 11, 28, 12, tzinfo=UTC)


def tid(moment: datetime, clock_id: int = 0) -> str:
    """The TID of a moment: 53 bits of microseconds and 10 of clock id, base32-sortable."""
    micros = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    number = micros << 10 | clock_id
    return "".join(_S32[number >> shift & 31] for shift in range(60, -1, -5))


def record(text: str, **fields: Any) -> models.AppBskyFeedPost.Record:
    return models.AppBskyFeedPost.Record(text=text, created_at="2026-11-28T12:00:00.000Z", **fields)


def create(
    client: Client, did: str, post: models.AppBskyFeedPost.Record, rkey: str | None = None
) -> models.ComAtprotoRepoCreateRecord.Response:
    data = models.ComAtprotoRepoCreateRecord.Data(repo=did, collection=POST, record=post, rkey=rkey)
    return client.com.atproto.repo.create_record(data)


def get(client: Client, did: str, rkey: str) -> models.ComAtprotoRepoGetRecord.Response:
    params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST, rkey=rkey)
    return client.com.atproto.repo.get_record(params)


def raw_put(client: Client, body: dict[str, Any]) -> Any:
    """``putRecord`` with the JSON exactly as given: the SDK's models drop ``swapRecord: None``."""
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return client.invoke_procedure("com.atproto.repo.putRecord", content=content, headers=headers)


def byte_slice(text: str, part: str) -> models.AppBskyRichtextFacet.ByteSlice:
    start = text.encode().index(part.encode())
    return models.AppBskyRichtextFacet.ByteSlice(
        byte_start=start, byte_end=start + len(part.encode())
    )


def test_tid_helper_matches_the_spec() -> None:
    """13 base32-sortable characters, first one 2-j (top bit 0), ordered like the moments."""
    assert tid(datetime(1970, 1, 1, tzinfo=UTC)) == "2222222222222"
    assert tid(NOON)[0] in "234567abcdefghij" and len(tid(NOON)) == 13
    assert tid(NOON) < tid(NOON + timedelta(microseconds=1)) < tid(NOON + timedelta(days=1))


def test_login_with_app_password_skipping_the_profile(pds: BlueskyPDS) -> None:
    """The fixture's client logs in with an app password and no profile fetch: ``me`` stays None."""
    alice = pds.accounts["alice.test"]
    client = pds.client("alice.test")
    assert client.me is None
    session = client.com.atproto.server.get_session()
    assert (session.handle, session.did) == ("alice.test", alice.did)
    assert alice.did.startswith("did:plc:")


def test_login_fetching_the_profile_goes_through_the_appview(pds: BlueskyPDS) -> None:
    """The default login also fetches app.bsky.actor.getProfile, which the PDS proxies to the
    AppView. (A PDS with no AppView answers 400 InvalidRequest "No service configured for
    app.bsky.actor.getProfile", which the SDK raises rather than warns about.)"""
    alice = pds.accounts["alice.test"]
    client = pds.client()
    me = client.login("alice.test", alice.app_password)
    assert client.me is me and (me.did, me.handle) == (alice.did, "alice.test")


def test_send_post_needs_profile_identify_when_me_is_none(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """Surprise: a client logged in without the profile fetch is logged in, yet ``send_post``
    raises LoginRequiredError because it takes the repo from ``client.me``."""
    client = pds.client(bsky_account.handle)
    with pytest.raises(LoginRequiredError):
        client.send_post("hello")
    sent = client.send_post("hello", profile_identify=bsky_account.did)
    assert sent.uri.startswith(f"at://{bsky_account.did}/{POST}/")


def test_wrong_password_is_unauthorized(pds: BlueskyPDS) -> None:
    client = pds.client()
    with pytest.raises(UnauthorizedError) as caught:
        client.login("alice.test", "not-the-password", fetch_bsky_profile=False)
    assert str(caught.value) == "401 AuthenticationRequired: Invalid identifier or password"


def test_facets_are_stored_at_the_given_utf8_byte_offsets(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """Link, mention (by DID) and tag facets come back as sent, slicing the UTF-8 bytes."""
    client = pds.client(bsky_account.handle)
    bob = pds.accounts["bob.test"]
    text = "Café vote 🗳️ today: @bob.test https://example.org/budget #FundSchools"
    facets = [
        models.AppBskyRichtextFacet.Main(
            index=byte_slice(text, "@bob.test"),
            features=[models.AppBskyRichtextFacet.Mention(did=bob.did)],
        ),
        models.AppBskyRichtextFacet.Main(
            index=byte_slice(text, "https://example.org/budget"),
            features=[models.AppBskyRichtextFacet.Link(uri="https://example.org/budget")],
        ),
        models.AppBskyRichtextFacet.Main(
            index=byte_slice(text, "#FundSchools"),
            features=[models.AppBskyRichtextFacet.Tag(tag="FundSchools")],
        ),
    ]
    created = create(client, bsky_account.did, record(text, facets=facets, langs=["en"]))
    assert created.validation_status == "valid"

    rkey = created.uri.rsplit("/", 1)[1]
    value = get(client, bsky_account.did, rkey).value
    assert value.text == text and value.facets == facets
    (stored,) = pds.records(bsky_account.did, POST)
    data = stored["value"]["text"].encode()
    spans = [
        data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode()
        for f in stored["value"]["facets"]
    ]
    assert spans == ["@bob.test", "https://example.org/budget", "#FundSchools"]
    assert [f["features"][0] for f in stored["value"]["facets"]] == [
        {"$type": "app.bsky.richtext.facet#mention", "did": bob.did},
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/budget"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "FundSchools"},
    ]
    # bytes, not characters (20); and the SDK writes "$type" on every nested object
    assert stored["value"]["facets"][0]["index"] == {
        "$type": "app.bsky.richtext.facet#byteSlice",
        "byteStart": 26,
        "byteEnd": 35,
    }


def test_upload_blob_warns_under_httpx_0_28(pds: BlueskyPDS, bsky_account: Account) -> None:
    """Surprise: the SDK's upload_blob hands httpx the bytes as ``data=``, a DeprecationWarning
    in httpx 0.28, which our ``filterwarnings = error`` turns into a failure. Sending them as
    ``content=`` through invoke_procedure is the same upload without the warning."""
    client = pds.client(bsky_account.handle)
    with pytest.warns(DeprecationWarning, match=UPLOAD_WARNING):
        warned = client.upload_blob(PNG).blob
    headers = {"Content-Type": "image/png"}
    raw = client.invoke_procedure("com.atproto.repo.uploadBlob", content=PNG, headers=headers)
    blob = models.get_or_create(raw.content["blob"], models.blob_ref.BlobRef)
    assert isinstance(blob, models.blob_ref.BlobRef)
    assert (blob.cid, blob.mime_type, blob.size) == (warned.cid, "image/png", len(PNG))


def test_image_post_with_alt_text(pds: BlueskyPDS, bsky_account: Account) -> None:
    """The PDS sniffs the type; the post's embed points at the blob by CID, with its alt."""
    client = pds.client(bsky_account.handle)
    with pytest.warns(DeprecationWarning, match=UPLOAD_WARNING):  # see the test above
        blob = client.upload_blob(PNG).blob
    assert (blob.mime_type, blob.size) == ("image/png", len(PNG))

    image = models.AppBskyEmbedImages.Image(
        alt="A chart of the school budget",
        image=blob,
        aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=1, height=1),
    )
    embed = models.AppBskyEmbedImages.Main(images=[image])
    create(client, bsky_account.did, record("Budget chart", embed=embed))

    (stored,) = pds.records(bsky_account.did, POST)
    (sent,) = stored["value"]["embed"]["images"]
    assert stored["value"]["embed"]["$type"] == "app.bsky.embed.images"
    assert sent["alt"] == "A chart of the school budget"
    assert sent["image"]["ref"] == {"$link": blob.cid.encode()}
    params = models.ComAtprotoSyncGetBlob.Params(did=bsky_account.did, cid=blob.cid.encode())
    assert client.com.atproto.sync.get_blob(params) == PNG


def test_reply_thread_keeps_root_and_parent(pds: BlueskyPDS, bsky_account: Account) -> None:
    """A thread of three: every reply names the first post as root and the one before as parent."""
    client = pds.client(bsky_account.handle)
    root = models.create_strong_ref(create(client, bsky_account.did, record("1/3")))
    reply = models.AppBskyFeedPost.ReplyRef(root=root, parent=root)
    second = models.create_strong_ref(create(client, bsky_account.did, record("2/3", reply=reply)))
    reply = models.AppBskyFeedPost.ReplyRef(root=root, parent=second)
    create(client, bsky_account.did, record("3/3", reply=reply))

    stored = {
        r["value"]["text"]: r["value"].get("reply") for r in pds.records(bsky_account.did, POST)
    }
    ref = "com.atproto.repo.strongRef"
    assert stored["1/3"] is None
    assert stored["2/3"]["root"] == {"$type": ref, "uri": root.uri, "cid": root.cid}
    assert stored["2/3"]["parent"] == stored["2/3"]["root"]
    assert stored["3/3"]["root"] == {"$type": ref, "uri": root.uri, "cid": root.cid}
    assert stored["3/3"]["parent"] == {"$type": ref, "uri": second.uri, "cid": second.cid}


def test_create_with_a_taken_rkey_is_a_500_not_a_conflict(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """The pinned surprise: createRecord again with the same rkey answers HTTP 500
    InternalServerError "Internal Server Error" (the PDS's unhandled "There is already a value at
    key"), which the SDK raises as RequestException: not NetworkError (its class for 409), not
    BadRequestError. The first record is untouched. The same holds with different content."""
    client = pds.client(bsky_account.handle)
    rkey = tid(NOON)
    first = create(client, bsky_account.did, record("Vote on Tuesday"), rkey=rkey)
    assert first.uri == f"at://{bsky_account.did}/{POST}/{rkey}"

    for text in ("Vote on Tuesday", "Vote on Wednesday"):
        with pytest.raises(RequestException) as caught:
            create(client, bsky_account.did, record(text), rkey=rkey)
        error = caught.value
        assert type(error) is RequestException and not isinstance(error, NetworkError)
        assert error.response is not None and error.response.status_code == 500
        assert (error.response.content.error, error.response.content.message) == (
            "InternalServerError",
            "Internal Server Error",
        )
        assert str(error) == "500 InternalServerError: Internal Server Error"
    assert get(client, bsky_account.did, rkey).cid == first.cid
    assert len(pds.records(bsky_account.did, POST)) == 1


def test_invalid_rkey_is_a_bad_request(pds: BlueskyPDS, bsky_account: Account) -> None:
    """Posts are keyed by TID: any other rkey is a 400 before anything is stored."""
    client = pds.client(bsky_account.handle)
    with pytest.raises(BadRequestError, match=r"Invalid record key for app\.bsky\.feed\.post"):
        create(client, bsky_account.did, record("x"), rkey="not-a-tid")


def test_put_record_is_an_upsert_and_swap_null_is_create_if_absent(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """putRecord through the SDK overwrites (the same content: no new commit). Sent raw with
    ``swapRecord: null`` it only creates: the same content again succeeds with no commit, other
    content is 400 InvalidSwap naming the CID that is there."""
    client = pds.client(bsky_account.handle)
    did, rkey = bsky_account.did, tid(NOON)
    first = create(client, did, record("Vote on Tuesday"), rkey=rkey)

    data = models.ComAtprotoRepoPutRecord.Data(
        repo=did, collection=POST, rkey=rkey, record=record("Vote on Tuesday")
    )
    same = client.com.atproto.repo.put_record(data)
    assert (same.cid, same.commit) == (first.cid, None)

    body = {"repo": did, "collection": POST, "rkey": rkey, "swapRecord": None}
    original = {"$type": POST, "text": "Vote on Tuesday", "createdAt": "2026-11-28T12:00:00.000Z"}
    again = raw_put(client, {**body, "record": original})
    assert again.content["cid"] == first.cid and "commit" not in again.content
    with pytest.raises(BadRequestError) as caught:
        raw_put(client, {**body, "record": {**original, "text": "Vote on Wednesday"}})
    assert str(caught.value) == f"400 InvalidSwap: Record was at {first.cid}"

    overwrite = models.ComAtprotoRepoPutRecord.Data(
        repo=did, collection=POST, rkey=rkey, record=record("Vote on Wednesday"), swap_record=None
    )
    assert client.com.atproto.repo.put_record(overwrite).cid != first.cid
    assert get(client, did, rkey).value.text == "Vote on Wednesday"


def test_get_record_of_a_missing_rkey_is_a_bad_request(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """Not a 404: 400 RecordNotFound, raised as BadRequestError."""
    client = pds.client(bsky_account.handle)
    with pytest.raises(BadRequestError) as caught:
        get(client, bsky_account.did, tid(NOON))
    assert caught.value.response is not None
    assert caught.value.response.content.error == "RecordNotFound"


def test_session_string_logs_in_again_without_a_password(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """The exported session (handle, DID, both JWTs, PDS URL) logs a new client in: an IMPORT,
    no createSession, and the new client writes at once."""
    exported = pds.client(bsky_account.handle).export_session_string()
    handle, did, _access, _refresh, endpoint = exported.split(":::")
    assert (handle, did, endpoint) == (bsky_account.handle, bsky_account.did, f"{pds.url}/xrpc")

    events: list[SessionEvent] = []
    client = pds.client()
    client.on_session_change(lambda event, _session: events.append(event))
    client.login(session_string=exported, fetch_bsky_profile=False)
    create(client, bsky_account.did, record("From a saved session"))
    assert events == [SessionEvent.IMPORT]


class _ThreeHoursLater(Client):  # type: ignore[misc]  # atproto has no type hints for mypy
    """A client whose clock says the 2-hour access token is near its end, so it refreshes."""

    def get_current_time(self) -> datetime:
        later: datetime = super().get_current_time() + timedelta(hours=3)
        return later


def _claims(session: str, field: int) -> dict[str, Any]:
    """The claims of a JWT in an exported session string (field 2: the access token, 3: the
    refresh token)."""
    payload = session.split(":::")[field].split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


def test_session_refresh_and_revocation(pds: BlueskyPDS, bsky_account: Account) -> None:
    """The SDK refreshes 15 minutes before the access token ends (2 hours on this PDS; an app
    password's session is scoped com.atproto.appPass). A refresh
    token already used is accepted again in the PDS's grace period (same new session); once the
    session is deleted it is 400 ExpiredToken (BadRequestError), not 401."""
    old = pds.client(bsky_account.handle).export_session_string()
    token = _claims(old, 2)
    assert (token["exp"] - token["iat"], token["scope"]) == (2 * 60 * 60, "com.atproto.appPass")

    events: list[SessionEvent] = []
    later = pds.client(client_class=_ThreeHoursLater)
    later.on_session_change(lambda event, _session: events.append(event))
    later.login(session_string=old, fetch_bsky_profile=False)
    later.com.atproto.server.get_session()
    assert events == [SessionEvent.IMPORT, SessionEvent.REFRESH]
    refreshed = later.export_session_string()
    assert refreshed != old

    again = pds.client(client_class=_ThreeHoursLater)
    again.login(session_string=old, fetch_bsky_profile=False)
    again.com.atproto.server.get_session()
    # The same session: its refresh token has the same id (jti). The tokens are signed anew
    # with the time of each refresh (iat, exp), so a second refresh in a later second gives
    # other strings: compared whole, the test failed whenever the two straddled a second.
    assert _claims(again.export_session_string(), 3)["jti"] == _claims(refreshed, 3)["jti"]
    assert _claims(refreshed, 3)["jti"] != _claims(old, 3)["jti"]  # (a new session, all the same)

    refresh_jwt = refreshed.split(":::")[3]
    later.com.atproto.server.delete_session(headers={"Authorization": f"Bearer {refresh_jwt}"})
    revoked = pds.client(client_class=_ThreeHoursLater)
    revoked.login(session_string=refreshed, fetch_bsky_profile=False)
    with pytest.raises(BadRequestError) as caught:
        revoked.com.atproto.server.get_session()
    assert str(caught.value) == "400 ExpiredToken: Token has been revoked"


def test_dropped_connection_escapes_the_sdk_as_httpx_error(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """A connection closed with no answer is httpx.RemoteProtocolError, raised bare: the SDK
    wraps only httpx's TimeoutException and NetworkError, so it is no AtProtocolError."""
    client = pds.client(bsky_account.handle)
    with pds.dropping(after=False) as url:
        client.update_base_url(url)
        with pytest.raises(httpx.RemoteProtocolError, match="Server disconnected") as caught:
            create(client, bsky_account.did, record("Lost"), rkey=tid(NOON))
    assert not isinstance(caught.value, AtProtocolError)
    assert pds.records(bsky_account.did, POST) == []


def test_retry_after_a_drop_that_was_stored_meets_the_500(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """The crash case: the PDS stored the post, the answer was lost. Retrying with the same
    rkey does not say "already there"; it is the 500 above, so a publisher must look first
    (getRecord) or use the swapRecord-null put."""
    client = pds.client(bsky_account.handle)
    rkey = tid(NOON)
    with pds.dropping(after=True) as url:
        client.update_base_url(url)
        with pytest.raises(httpx.RemoteProtocolError):
            create(client, bsky_account.did, record("Stored, unheard"), rkey=rkey)
    client.update_base_url(pds.url)
    assert get(client, bsky_account.did, rkey).value.text == "Stored, unheard"
    with pytest.raises(RequestException) as caught:
        create(client, bsky_account.did, record("Stored, unheard"), rkey=rkey)
    assert caught.value.response is not None and caught.value.response.status_code == 500


def test_refused_connection_is_a_network_error(pds: BlueskyPDS, bsky_account: Account) -> None:
    """Nothing listening: atproto NetworkError with no response, caused by httpx.ConnectError."""
    client = pds.client(bsky_account.handle)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client.update_base_url(f"http://127.0.0.1:{port}")
    with pytest.raises(NetworkError) as caught:
        get(client, bsky_account.did, tid(NOON))
    assert caught.value.response is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def counts(client: Client, *uris: str) -> list[tuple[int, int, int, int]]:
    """(likes, reposts, replies, quotes) of each post getPosts returns, asked as production asks."""
    posts = client.app.bsky.feed.get_posts({"uris": list(uris)}).posts
    return [(p.like_count, p.repost_count, p.reply_count, p.quote_count) for p in posts]


def test_get_posts_counts_engagement_from_the_records(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """getPosts through the PDS reaches the AppView, whose counts are the records other accounts
    wrote: two likes, a repost, a reply, a quote; a later like shows on the next call."""
    client = pds.client(bsky_account.handle)
    post = create(client, bsky_account.did, record("Vote on Tuesday"))
    first, second, third = (pds.create_account() for _ in range(3))
    pds.like(first, post.uri, post.cid)
    pds.like(second, post.uri, post.cid)
    pds.repost(first, post.uri, post.cid)
    pds.reply(second, post.uri, post.cid)
    pds.quote(second, post.uri, post.cid)

    (view,) = client.app.bsky.feed.get_posts(params={"uris": [post.uri]}).posts
    assert (view.like_count, view.repost_count, view.reply_count, view.quote_count) == (2, 1, 1, 1)
    assert (view.uri, view.cid, view.record.text) == (post.uri, post.cid, "Vote on Tuesday")
    assert (view.author.did, view.author.handle) == (bsky_account.did, bsky_account.handle)
    pds.like(third, post.uri, post.cid)
    assert counts(client, post.uri) == [(3, 1, 1, 1)]


def test_counts_follow_the_appview_rules(pds: BlueskyPDS, bsky_account: Account) -> None:
    """One like per account however many it writes, and an unlike takes it back; a reply to a
    reply counts on its parent only (and keeps the thread's root); a quote with media counts."""
    client = pds.client(bsky_account.handle)
    post = create(client, bsky_account.did, record("Budget hearing"))
    fan = pds.create_account()
    likes = [pds.like(fan, post.uri, post.cid) for _ in range(2)]
    reply = pds.reply(fan, post.uri, post.cid)
    answer = pds.reply(bsky_account, reply.uri, reply.cid, "Thanks")
    link = {"uri": "https://example.org/budget", "title": "Budget", "description": ""}
    quoted = {"$type": "app.bsky.embed.record", "record": {"uri": post.uri, "cid": post.cid}}
    media = {"$type": "app.bsky.embed.external", "external": link}
    pds.post(
        fan,
        "Read this",
        embed={"$type": "app.bsky.embed.recordWithMedia", "record": quoted, "media": media},
    )

    assert counts(client, post.uri, reply.uri) == [(1, 0, 1, 1), (0, 0, 1, 0)]
    (stored,) = (r["value"] for r in pds.records(bsky_account.did, POST) if r["uri"] == answer.uri)
    assert (stored["reply"]["root"]["uri"], stored["reply"]["parent"]["uri"]) == (
        post.uri,
        reply.uri,
    )
    for like in likes:
        pds.delete(fan, like.uri)
    assert counts(client, post.uri) == [(0, 0, 1, 1)]


def test_get_posts_keeps_order_and_leaves_out_unknown_uris(
    pds: BlueskyPDS, bsky_account: Account
) -> None:
    """Posts come back in the order asked, once each; a URI with no post is simply missing.
    Naming the real AppView in an atproto-proxy header reaches the same fake."""
    client = pds.client(bsky_account.handle)
    first, second = (create(client, bsky_account.did, record(t)) for t in ("1", "2"))
    missing = f"at://{bsky_account.did}/{POST}/{tid(NOON)}"
    uris = [second.uri, missing, first.uri, second.uri]
    assert [p.uri for p in client.app.bsky.feed.get_posts({"uris": uris}).posts] == [
        second.uri,
        first.uri,
    ]
    proxied = client.with_proxy("bsky_appview", "did:web:api.bsky.app")
    try:
        assert counts(proxied, missing, first.uri) == [(0, 0, 0, 0)]
    finally:
        proxied.request.close()


def test_get_posts_takes_at_most_25_uris(pds: BlueskyPDS, bsky_account: Account) -> None:
    """The SDK refuses a 26th URI before sending (ModelError); sent anyway, the AppView answers
    400 InvalidRequest. 25 is fine."""
    client = pds.client(bsky_account.handle)
    post = create(client, bsky_account.did, record("x"))
    assert len(client.app.bsky.feed.get_posts({"uris": [post.uri] * 25}).posts) == 1
    with pytest.raises(ModelError, match="at most 25 items"):
        client.app.bsky.feed.get_posts({"uris": [post.uri] * 26})
    unchecked = models.AppBskyFeedGetPosts.Params.model_construct(uris=[post.uri] * 26)
    with pytest.raises(BadRequestError) as caught:
        client.invoke_query("app.bsky.feed.getPosts", params=unchecked)
    assert str(caught.value) == (
        "400 InvalidRequest: Error: Params/uris must not have more than 25 elements"
    )
