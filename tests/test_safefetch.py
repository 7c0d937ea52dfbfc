"""The guarded fetch behind link cards (eduadvocate.platforms.safefetch), on loopback servers:
the address classifier (hypothesis), one lookup per connection and the socket opened to the
address that was checked (DNS rebinding), TLS verified for the host name while connecting to an
address, and the bounds: memory (a 300 MB page, in a subprocess), deadline (slow DNS, slow
bytes), sizes declared and streamed, decompression bombs."""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduadvocate.platforms.bluesky.linkcard import (
    HTML_TYPES,
    PICTURE_TYPES,
    checked_picture,
    page_meta,
)
from eduadvocate.platforms.safefetch import (
    Deadline,
    Guard,
    Refused,
    address_refusal,
    fetch,
)
from tests.conftest import REPO, forbid_private_addresses
from tests.websites import (
    Site,
    answer,
    certificate_authority,
    counting,
    endless,
    og_page,
    pauses,
    png_bomb,
)

IPv4 = ipaddress.IPv4Address
IPv6 = ipaddress.IPv6Address
ipv4s = st.integers(0, 2**32 - 1).map(IPv4)
ipv6s = st.integers(0, 2**128 - 1).map(IPv6)


def _get(url: str, guard: Guard, **kw: object) -> bytes:
    options: dict[str, object] = {"accept": HTML_TYPES, "max_bytes": 1_000_000}
    options.update(kw)
    options.setdefault("deadline", Deadline(5))
    return fetch(url, guard, **options).body  # type: ignore[arg-type]


# -- the address classifier -----------------------------------------------------------------------
def _plainly_public(ip: IPv4 | IPv6) -> bool:
    """What ipaddress calls globally routable, less what is never a web server's address."""
    site_local = isinstance(ip, IPv6) and ip.is_site_local
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or site_local)


def _embeds_ipv4(ip: IPv6) -> bool:
    return bool(ip.ipv4_mapped or ip.sixtofour or ip in ipaddress.IPv6Network("64:ff9b::/96"))


@given(ipv4s)
def test_an_ipv4_address_is_refused_iff_it_is_not_globally_routable(ip: IPv4) -> None:
    assert (address_refusal(ip) is None) == _plainly_public(ip)


@given(ipv6s.filter(lambda ip: not _embeds_ipv4(ip)))
def test_an_ipv6_address_is_refused_iff_it_is_not_globally_routable(ip: IPv6) -> None:
    assert (address_refusal(ip) is None) == _plainly_public(ip)


@given(ipv4s, st.integers(0, 2**80 - 1))
def test_ipv4_inside_ipv6_is_judged_as_the_ipv4_address(ip: IPv4, tail: int) -> None:
    """IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:a.b.c.d::/48) all
    reach the IPv4 address, so they get its verdict, whatever ipaddress says of the wrapper."""
    v4 = int(ip)
    forms = [
        IPv6((0xFFFF << 32) | v4),
        IPv6((0x0064FF9B << 96) | v4),
        IPv6((0x2002 << 112) | (v4 << 80) | tail),
    ]
    expected = address_refusal(ip) is None
    for form in forms:
        assert (address_refusal(form) is None) == expected, form


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.255.0.9", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
        "::1", "::", "fe80::1", "fc00::1", "fd00:ec2::254", "fec0::1", "ff02::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1",
        "2001:db8::1",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


# -- one lookup, and the socket goes to the address checked ---------------------------------------
@pytest.fixture
def twins() -> tuple[Site, Site]:
    """Two sites on the same port, one on 127.0.0.2 (the "public" one) and one on 127.0.0.1."""
    for _ in range(20):
        public = Site({"/": og_page("Public")}, host="127.0.0.2")
        try:
            internal = Site({"/": og_page("Internal")}, port=public.port)
        except OSError:
            public.server_close()
            continue
        return public, internal
    pytest.skip("no port free on both 127.0.0.1 and 127.0.0.2")


def test_the_connection_goes_to_the_address_that_was_checked(
    twins: tuple[Site, Site], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name answers 127.0.0.2 (public, for this test) first and 127.0.0.1
    after. The fetch looks it up once, checks that answer, and connects to it: it never asks
    again, so the second answer never gets a connection."""
    forbid_private_addresses(monkeypatch)
    public, internal = twins
    resolve, asked = counting({"rebind.example": ["127.0.0.2", "127.0.0.1"]})
    allowed = ipaddress.ip_address("127.0.0.2")
    guard = Guard(
        ports=frozenset({public.port}),
        resolver=resolve,
        refuse=lambda ip: None if ip == allowed else address_refusal(ip),
    )
    with public, internal:
        body = _get(public.url("/", host="rebind.example"), guard)
    assert b"Public" in body
    assert asked == ["rebind.example"]
    assert internal.hits == []
    assert public.hits == [("/", f"rebind.example:{public.port}", None)]  # Host: the name


def test_a_name_with_one_internal_address_among_public_ones_is_refused() -> None:
    resolve, asked = counting({"mixed.example": ["127.0.0.2"]})
    allowed = ipaddress.ip_address("127.0.0.2")

    def both(host: str, port: int) -> list[str]:
        return [*resolve(host, port), "10.0.0.7"]

    guard = Guard(
        ports=frozenset({8080}),
        resolver=both,
        refuse=lambda ip: None if ip == allowed else address_refusal(ip),
    )
    with pytest.raises(Refused, match=r"mixed\.example \(10\.0\.0\.7\) is not a public address"):
        _get("http://mixed.example:8080/", guard)
    assert asked == ["mixed.example"]


def test_every_redirect_hop_is_looked_up_and_checked_again() -> None:
    with Site() as a, Site(host="127.0.0.2") as b:
        a.routes["/"] = answer(302, b"", "text/plain", Location=b.url("/", host="b.example"))
        b.routes["/"] = og_page("B")
        resolve, asked = counting({"a.example": ["127.0.0.1"], "b.example": ["127.0.0.2"]})
        guard = Guard(allow_private=True, resolver=resolve)
        body = _get(a.url("/", host="a.example"), guard)
    assert b"B" in body
    assert asked == ["a.example", "b.example"]


def test_https_is_verified_for_the_host_name_while_connecting_to_the_checked_address(
    tmp_path: Path,
) -> None:
    """SNI and the certificate check use the name from the link; the socket goes to the address
    the resolver gave; a certificate for another name is refused."""
    server_tls, client_tls = certificate_authority(tmp_path, "cards.example")
    resolve, _ = counting({"cards.example": ["127.0.0.1"], "other.example": ["127.0.0.1"]})
    guard = Guard(allow_private=True, resolver=resolve, ssl_context=client_tls)
    with Site({"/": og_page("Secure")}, tls=server_tls) as site:
        body = _get(site.url("/", host="cards.example"), guard)
        assert b"Secure" in body
        assert site.hits == [("/", f"cards.example:{site.port}", "cards.example")]
        with pytest.raises(Refused, match=r"could not connect to other\.example.*certificate"):
            _get(site.url("/", host="other.example"), guard)


# -- bounded --------------------------------------------------------------------------------------
RSS_SCRIPT = """
import json, resource, sys, time
from eduadvocate.platforms.bluesky.linkcard import HTML_TYPES, page_meta
from eduadvocate.platforms.safefetch import Deadline, Guard, fetch

before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
got = fetch(sys.argv[1], Guard(allow_private=True), accept=HTML_TYPES, max_bytes=1_000_000,
            deadline=Deadline(60), truncate=True)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"kb_before": before, "kb_after": after, "bytes": len(got.body),
                  "truncated": got.truncated, "title": page_meta(got.body).get("og:title"),
                  "seconds": time.monotonic() - started}))
"""


def test_a_300_mb_page_is_cut_at_the_cap_and_memory_stays_small() -> None:
    """Measured in a fresh process (ru_maxrss): reading a 300 MB page (made as it is sent) with
    the 1 MB cap raises the peak by a few MB at most. (Read whole, it was +575 MB.)"""
    head = b"<html><head><meta property='og:title' content='Huge'>"
    with Site({"/big": endless(head, 300_000_000)}) as site:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(RSS_SCRIPT), site.url("/big")],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=REPO,
        )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert (got["bytes"], got["truncated"], got["title"]) == (1_000_000, True, "Huge")
    grew_mb = (got["kb_after"] - got["kb_before"]) / 1024
    assert grew_mb < 20, got
    assert got["seconds"] < 10, got


def test_a_declared_size_over_the_cap_is_refused_before_reading() -> None:
    big = answer(200, b"x" * 2_000, "image/png")
    with Site({"/i": big}) as site, pytest.raises(Refused, match="2,000 bytes, over the limit"):
        _get(site.url("/i"), Guard(allow_private=True), accept=PICTURE_TYPES, max_bytes=1000)


def test_a_stream_over_the_cap_is_refused_when_it_may_not_be_cut() -> None:
    endless_png = endless(b"", 50_000_000, "image/png")
    with (
        Site({"/i": endless_png}) as site,
        pytest.raises(Refused, match="over the limit of 100,000 bytes"),
    ):
        _get(site.url("/i"), Guard(allow_private=True), accept=PICTURE_TYPES, max_bytes=100_000)


def test_a_slow_lookup_counts_against_the_deadline() -> None:
    def slow(host: str, port: int) -> list[str]:
        time.sleep(3)
        return ["127.0.0.1"]

    started = time.monotonic()
    with pytest.raises(Refused, match="did not answer in time"):
        _get("http://slow.example/", Guard(allow_private=True, resolver=slow),
             deadline=Deadline(0.5))  # fmt: skip
    assert time.monotonic() - started < 1.5


def test_each_read_ends_by_the_deadline_not_a_read_timeout_later() -> None:
    """A byte at 1.5 s, then silence: with 2 s in all, the fetch ends at 2 s (a read started at
    1.5 s may not wait its own 2 s)."""
    with Site({"/": pauses(1.5, 10)}) as site:
        started = time.monotonic()
        with pytest.raises(Refused, match=r"did not answer in time \(the limit is 2 s\)"):
            _get(site.url("/"), Guard(allow_private=True), deadline=Deadline(2))
        took = time.monotonic() - started
    assert 1.9 < took < 2.6


def test_a_compressed_answer_is_refused() -> None:
    gz = answer(200, b"\x1f\x8b" + b"\x00" * 20, "text/html", Content_Encoding="gzip")
    with Site({"/": gz}) as site, pytest.raises(Refused, match="compressed"):
        _get(site.url("/"), Guard(allow_private=True))


def test_pillows_own_bomb_check_is_the_second_line() -> None:
    """With our pixel limit out of the way, Pillow's DecompressionBombError still stops a
    400-megapixel PNG, and it comes back as a refusal, not a crash."""
    with pytest.raises(Refused, match="DecompressionBombError"):
        checked_picture(png_bomb(20_000, 20_000), 10**12, "http://x.example/i.png")


@settings(max_examples=300)
@given(st.binary(max_size=2000) | st.text(max_size=500).map(str.encode))
def test_the_page_parser_never_raises(html: bytes) -> None:
    page_meta(b"<html><head><meta property='og:title' content='T'>" + html, "utf-8")


def _nowhere(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "no names in this test")


@settings(max_examples=400)
@given(
    st.text(max_size=60)
    | st.from_regex(r"(?i)(https?|ftp|file|gopher|data):(//)?[^\s]{0,50}", fullmatch=True)
)
def test_any_address_at_all_ends_in_a_refusal_never_a_crash(url: str) -> None:
    """Whatever a campaign file or a page says the address is, the answer is a fetch or a
    Refused with the reason; here nothing is public and no name resolves, so always Refused."""
    guard = Guard(resolver=_nowhere, refuse=lambda ip: "nothing is public in this test")
    with pytest.raises(Refused):
        _get(url, guard, deadline=Deadline(2))
