"""The loopback video service (tests/fakes/bluesky_video.py) refuses what the real one refuses:
an upload without a service-auth token, or with one that names another issuer, audience or
method, or that has expired, or a body that is not an MP4; and it keeps jobs by their id. (Its
upload to the PDS is exercised through ``publish`` in tests/test_bluesky_video.py.)"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.bluesky_video import LXM, STATUS, UPLOAD, FakeVideoService, serving

DID, PDS_DID = "did:plc:alice", "did:web:localhost"
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def fake() -> Iterator[FakeVideoService]:
    with serving(FakeVideoService("http://127.0.0.1:9", PDS_DID, processing=2)) as served:
        yield served


def _jwt(**claims: Any) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    payload = {"iss": DID, "aud": PDS_DID, "lxm": LXM, "exp": int(time.time()) + 60, **claims}
    return f"{part({'alg': 'ES256K', 'typ': 'JWT'})}.{part(payload)}.c2ln"


def _call(
    fake: FakeVideoService, path: str, body: bytes | None = None, **headers: str
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(f"{fake.url}/xrpc/{path}", body, headers)
    try:
        with _LOOPBACK.open(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def _upload(fake: FakeVideoService, token: str | None, body: bytes = b"mp4") -> Any:
    headers = {"Content-Type": "video/mp4"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return _call(fake, f"{UPLOAD}?did={DID}&name=a.mp4", body, **headers)


@pytest.mark.parametrize(
    ("token", "error"),
    [
        (None, "AuthMissing"),
        ("not-a-jwt", "InvalidToken"),
        (_jwt(iss="did:plc:mallory"), "InvalidToken"),
        (_jwt(aud="did:web:video.bsky.app"), "InvalidToken"),
        (_jwt(lxm="app.bsky.video.getUploadLimits"), "InvalidToken"),
        (_jwt(exp=int(time.time()) - 1), "ExpiredToken"),
    ],
    ids=["none", "garbled", "issuer", "audience", "method", "expired"],
)
def test_an_upload_without_the_right_token_is_refused(
    fake: FakeVideoService, token: str | None, error: str
) -> None:
    code, body = _upload(fake, token)
    assert (code, body["error"]) == (401, error)
    assert fake.jobs == {}


def test_an_upload_that_is_no_mp4_is_refused(fake: FakeVideoService) -> None:
    code, body = _call(
        fake,
        f"{UPLOAD}?did={DID}",
        b"GIF89a",
        **{"Content-Type": "image/gif", "Authorization": f"Bearer {_jwt()}"},
    )
    assert (code, body["error"]) == (400, "InvalidRequest")


def test_a_job_is_encoding_for_its_polls_then_fails_as_told(fake: FakeVideoService) -> None:
    fake.fails = "Video is too long"
    code, body = _upload(fake, _jwt())
    assert code == 200 and body["jobStatus"]["state"] == "JOB_STATE_ENCODING"
    job_id = body["jobStatus"]["jobId"]
    states = [_call(fake, f"{STATUS}?jobId={job_id}")[1]["jobStatus"] for _ in range(3)]
    assert [s["state"] for s in states] == ["JOB_STATE_ENCODING"] * 2 + ["JOB_STATE_FAILED"]
    assert states[-1]["error"] == "Video is too long" and states[-1]["did"] == DID
    assert _call(fake, f"{STATUS}?jobId=nope")[0] == 404


def test_a_fault_is_given_once(fake: FakeVideoService) -> None:
    fake.inject(UPLOAD, "503")
    assert _upload(fake, _jwt())[0] == 503
    assert _upload(fake, _jwt())[0] == 200
    assert fake.uploads() == 2
