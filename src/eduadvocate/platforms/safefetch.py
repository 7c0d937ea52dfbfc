"""Fetching a page or picture named by untrusted input (a link card's address, a page's
``og:image``) so that it cannot reach inside: no SSRF, and bounded in size and time.

- Only ``http``/``https``, on ports 80/443 unless the account lists more (``card_ports``); no user
  name or password in the address.
- The host is resolved once per connection, every address is checked (loopback, private,
  link-local incl. the cloud metadata address, multicast, reserved, unique-local, unspecified;
  IPv4 inside IPv6 judged as the IPv4), and the socket is opened to an address that was checked,
  so a second DNS answer (rebinding) is never asked for. Each redirect (at most 5) goes through
  the same checks.
- A size cap on what is read (streamed, never the whole answer first), the expected content type,
  no compression (``Accept-Encoding: identity``: nothing to inflate), connect and read timeouts,
  and one deadline for the whole job (a card: page and picture), DNS included. No proxy from the
  environment: through a proxy, the address the socket reaches could not be checked.

:func:`allow_private_addresses` lifts the address and port checks for the whole process. It
exists for the test suite, whose sites listen on loopback at random ports (tests/conftest.py and
tests/launch.py call it); eduadvocate itself never does, and no setting or environment variable
turns it on, so nothing a campaign or a machine's environment holds can.

Why this and not a library: ``advocate`` (the known requests wrapper) has not been released since
2020 and pins urllib3 below 2, which this project has. The check must happen where the socket is
opened, not on the URL beforehand (a parser differential, or a second lookup, defeats a check
made earlier). urllib3, under the project's requests transport (platforms/http.py), has no public
seam there (advocate overrides its private ``_new_conn``). httpcore, already installed under httpx
and atproto, documents one: a ``NetworkBackend`` is handed the host and port of each new
connection, while httpcore itself still verifies TLS for the host name (SNI and certificate) and
writes the Host header. So the guard is a small backend that resolves, checks, and connects to the
checked address; redirects are followed here, one checked hop at a time.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]  # (host, port) -> IP addresses as text


class _Allowance:
    private = False  # only the test suite turns it on: allow_private_addresses


DEFAULT_PORTS = {"http": 80, "https": 443}
MAX_REDIRECTS = 5
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 5.0
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#]*@")


class Refused(Exception):
    """The fetch was not made, or was given up; the message says why (it ends up in a warning)."""


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be fetched from, or None for a globally routable address. An IPv4
    address carried inside IPv6 (IPv4-mapped, NAT64, 6to4) is judged as that IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour
        if inner is None and ip in _NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_refusal(inner)
        if ip in _UNIQUE_LOCAL:
            return "a unique-local address"
        if ip.is_site_local:
            return "a site-local address"
    checks = (
        (ip.is_unspecified, "the unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),  # 169.254.169.254: cloud metadata
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private-network address"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "not globally routable"),  # 100.64.0.0/10 (carrier-grade NAT), …
    )
    return next((reason for hit, reason in checks if hit), None)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host`` (each once, in its order)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in found))


@dataclass(frozen=True)
class Guard:
    """Where a fetch may go. ``resolver`` and ``refuse`` are seams (tests answer made-up names
    and call one loopback address public); ``ssl_context`` None is httpcore's (certifi)."""

    allow_private: bool = False
    ports: frozenset[int] = frozenset()  # allowed beyond 80 (http) and 443 (https)
    resolver: Resolver = system_resolver
    refuse: Callable[[IPAddress], str | None] = address_refusal
    ssl_context: ssl.SSLContext | None = None
    max_redirects: int = MAX_REDIRECTS
    user_agent: str = "eduadvocate (link card)"

    @classmethod
    def for_process(cls, ports: Iterable[int] = ()) -> Guard:
        """The guard for this process: private addresses only if the test suite allowed them."""
        return cls(allow_private=_Allowance.private, ports=frozenset(ports))


def allow_private_addresses(allowed: bool = True) -> None:
    """The test suite's switch (its sites listen on loopback): link cards may then be fetched
    from private addresses and any port. Never called by eduadvocate itself."""
    _Allowance.private = allowed


class Deadline:
    """One time limit for a whole job (a link card: its page and its picture)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        return self.at - time.monotonic()

    def cap(self, timeout: float | None) -> float:
        """``timeout`` shortened to what is left; httpcore's timeout error once nothing is."""
        left = self.left()
        if left <= 0:
            raise httpcore.ReadTimeout("the deadline passed")
        return left if timeout is None else min(timeout, left)


@dataclass(frozen=True)
class Fetched:
    url: str  # where it was found: the last address after redirects
    content_type: str  # lower case, without parameters
    charset: str | None
    body: bytes
    truncated: bool = False


def fetch(
    url: str,
    guard: Guard,
    *,
    accept: frozenset[str],
    max_bytes: int,
    deadline: Deadline,
    truncate: bool = False,
) -> Fetched:
    """GET ``url`` within the guard, following at most ``guard.max_redirects`` redirects. The
    body must be one of the ``accept`` content types; over ``max_bytes`` it is refused, or cut
    there with ``truncate`` (for a page whose head is all we need). Raises :class:`Refused`."""
    backend = _GuardedBackend(guard, deadline)
    with httpcore.ConnectionPool(  # ssl_context None: httpcore's, made per https connection
        ssl_context=guard.ssl_context, network_backend=backend, retries=0, max_connections=1
    ) as pool:
        current = url
        for _ in range(guard.max_redirects + 1):
            target, host_header = _checked(current, guard)
            headers = [
                (b"Host", host_header),
                (b"User-Agent", guard.user_agent.encode()),
                (b"Accept", ", ".join(sorted(accept)).encode()),
                (b"Accept-Encoding", b"identity"),
            ]
            with _mapped(current, deadline):
                timeouts = {
                    "connect": deadline.cap(CONNECT_TIMEOUT_S),
                    "read": deadline.cap(READ_TIMEOUT_S),
                    "write": deadline.cap(READ_TIMEOUT_S),
                    "pool": deadline.cap(None),
                }
                with pool.stream(
                    "GET", target, headers=headers, extensions={"timeout": timeouts}
                ) as r:
                    if r.status not in REDIRECTS:
                        return _body(current, r, accept, max_bytes, deadline, truncate)
                    location = _header(r, b"location")
            if not location:
                raise Refused(f"{display(current)} answered a redirect without saying where to")
            current = join(current, location)
        raise Refused(f"{display(url)} led through more than {guard.max_redirects} redirects")


def display(url: str) -> str:
    """``url`` for a message: without a user name or password, and not endless."""
    url = _USERINFO.sub(r"\1", url)
    return url if len(url) <= 120 else url[:119] + "…"


def join(base: str, ref: str) -> str:
    """``ref`` (a redirect's Location, a page's og:image) read relative to ``base``."""
    try:
        return urljoin(base, ref.strip())
    except ValueError as exc:  # an unclosed IPv6 bracket, a bracketed non-address
        raise Refused(f"{display(ref)} is not a valid web address ({exc})") from None


def _checked(url: str, guard: Guard) -> tuple[httpcore.URL, bytes]:
    """The request target for ``url`` and its Host header, if scheme, port and form pass."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise Refused(f"{display(url)} is not a valid web address ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise Refused(f"only http and https addresses are fetched, not {display(url)}")
    if parts.username is not None or parts.password is not None:
        raise Refused(f"{scheme}://… has a user name or password in it: not fetched")
    host = parts.hostname or ""
    if not host:
        raise Refused(f"{display(url)} names no host")
    default = DEFAULT_PORTS[scheme]
    port = port or default
    if port != default and port not in guard.ports and not guard.allow_private:
        raise Refused(
            f"port {port} is not fetched from (only {default} for {scheme}; an account's "
            "card_ports setting can allow more)"
        )
    try:
        ascii_host = host.encode("idna") if not host.isascii() else host.encode("ascii")
    except UnicodeError:
        raise Refused(f"{host} is not a valid host name") from None
    literal6 = b":" in ascii_host
    shown = b"[%b]" % ascii_host if literal6 else ascii_host
    host_header = shown if port == default else b"%b:%d" % (shown, port)
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~")
    query = "?" + quote(parts.query, safe="/%:@!$&'()*+,;=~?") if parts.query else ""
    target = httpcore.URL(scheme=scheme.encode(), host=ascii_host, port=port,
                          target=(path + query).encode("ascii"))  # fmt: skip
    return target, host_header


def _body(
    url: str,
    response: httpcore.Response,
    accept: frozenset[str],
    max_bytes: int,
    deadline: Deadline,
    truncate: bool,
) -> Fetched:
    if response.status != 200:
        raise Refused(f"{display(url)} answered {response.status}")
    content_type, _, params = (_header(response, b"content-type") or "").partition(";")
    content_type = content_type.strip().lower()
    if not content_type:
        raise Refused(f"{display(url)} gave no content type")
    if content_type not in accept:
        raise Refused(f"{display(url)} is {content_type}, not {' or '.join(sorted(accept))}")
    encoding = (_header(response, b"content-encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise Refused(f"{display(url)} came compressed ({encoding}) although asked not to be")
    length = _header(response, b"content-length")
    if not truncate and length and length.isdigit() and int(length) > max_bytes:
        raise Refused(f"{display(url)} is {int(length):,} bytes, over the limit of {max_bytes:,}")
    body = bytearray()
    cut = False
    for chunk in response.iter_stream():
        body += chunk
        if len(body) > max_bytes:
            if not truncate:
                raise Refused(f"{display(url)} is over the limit of {max_bytes:,} bytes")
            del body[max_bytes:]
            cut = True
            break  # leaving the stream closes the connection: the rest is never read
        deadline.cap(None)
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return Fetched(url, content_type, charset, bytes(body), cut)


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


@contextmanager
def _mapped(url: str, deadline: Deadline) -> Iterator[None]:
    """httpcore's exceptions → :class:`Refused`, saying which address and what happened."""
    host = urlsplit(url).hostname or url
    try:
        yield
    except httpcore.TimeoutException:
        raise Refused(
            f"{host} did not answer in time (the limit is {deadline.seconds:g} s)"
        ) from None
    except httpcore.ConnectError as exc:
        raise Refused(f"could not connect to {host}: {exc or 'refused'}") from None
    except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
        raise Refused(f"{host} broke off or answered something that is not HTTP: {exc}") from None
    except httpcore.UnsupportedProtocol as exc:  # _checked allows only http and https
        raise Refused(f"{display(url)}: {exc}") from None


class _GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, but every connection goes to a checked address."""

    def __init__(self, guard: Guard, deadline: Deadline) -> None:
        self.guard = guard
        self.deadline = deadline
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = self._resolve(host, port)
        if not self.guard.allow_private:
            for ip in addresses:
                reason = self.guard.refuse(ip)
                if reason is not None:  # one bad address taints the name: no fallback to others
                    shown = host if _same(host, ip) else f"{host} ({ip})"
                    raise Refused(f"{shown} is not a public address: {reason}")
        error: Exception | None = None
        for ip in addresses:  # connect to the checked address itself: no second lookup
            try:
                stream = self.inner.connect_tcp(
                    str(ip), port, self.deadline.cap(timeout), local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
                continue
            return _DeadlineStream(stream, self.deadline)
        assert error is not None
        raise error

    def _resolve(self, host: str, port: int) -> list[IPAddress]:
        """The host's addresses, looked up once; the lookup counts against the deadline (it runs
        in a thread, since getaddrinfo takes no timeout)."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        answer: list[Sequence[str]] = []
        failed: list[OSError] = []

        def lookup() -> None:
            try:
                answer.append(self.guard.resolver(host, port))
            except OSError as exc:
                failed.append(exc)

        worker = threading.Thread(target=lookup, name=f"resolve {host}", daemon=True)
        worker.start()
        worker.join(self.deadline.cap(None))
        if failed or not answer:
            if worker.is_alive():
                raise httpcore.ConnectTimeout(f"looking up {host} took too long")
            raise Refused(f"could not find {host} ({failed[0] if failed else 'no answer'})")
        try:
            found = [ipaddress.ip_address(text.split("%", 1)[0]) for text in answer[0]]
        except ValueError as exc:
            raise Refused(f"{host} resolved to something that is not an address: {exc}") from None
        if not found:
            raise Refused(f"could not find {host} (no addresses)")
        return found

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:  # pragma: no cover - the pool is never given a socket path
        raise Refused("unix sockets are not fetched from")

    def sleep(self, seconds: float) -> None:  # pragma: no cover - retries=0: never called
        time.sleep(seconds)


def _same(host: str, ip: IPAddress) -> bool:
    try:
        return ipaddress.ip_address(host) == ip
    except ValueError:
        return False


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake ends by the deadline, so bytes
    that trickle in (each read in time) still cannot hold a fetch past it."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: Deadline) -> None:
        self.inner = inner
        self.deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.cap(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.cap(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self.inner.start_tls(ssl_context, server_hostname, self.deadline.cap(timeout))
        return _DeadlineStream(tls, self.deadline)

    def get_extra_info(self, info: str) -> object:
        return self.inner.get_extra_info(info)
