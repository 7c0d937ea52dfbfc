"""Loopback web sites for the link-card tests: real HTTP servers with real redirects, huge or
trickling bodies, and an HTTPS variant with its own certificate authority. Nothing leaves the
machine; the tests point a resolver seam at these addresses instead of touching DNS."""

from __future__ import annotations

import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Route = Callable[[BaseHTTPRequestHandler], None]


class Site(ThreadingHTTPServer):
    """A web site on a loopback address: ``routes`` maps a path to what it answers; ``hits``
    records each request as (path, Host header, TLS server name or None)."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.routes: dict[str, Route] = dict(routes or {})
        self.hits: list[tuple[str, str | None, str | None]] = []
        self.tls = tls
        self._sni = threading.local()
        super().__init__((host, port), _Handler)
        self.host = host
        self.port = int(self.server_address[1])

    def url(self, path: str = "/", *, host: str | None = None, scheme: str | None = None) -> str:
        name = host or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"{scheme or ('https' if self.tls else 'http')}://{name}:{self.port}{path}"

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is None:
            return sock, address
        names: list[str | None] = []
        context = self.tls
        context.sni_callback = lambda _s, name, _c: names.append(name)  # type: ignore[assignment,misc,return-value]
        tls_sock = context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        try:
            tls_sock.settimeout(5)
            tls_sock.do_handshake()
        except (ssl.SSLError, OSError):
            tls_sock.close()
            raise
        tls_sock.sni = names[0] if names else None  # type: ignore[attr-defined]
        return tls_sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-body (the cap working) is not an error here

    def __enter__(self) -> Site:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: Site

    def do_GET(self) -> None:
        sni = getattr(self.connection, "sni", None)
        self.server.hits.append((self.path, self.headers.get("Host"), sni))
        route = self.server.routes.get(self.path.split("?", 1)[0])
        if route is None:
            answer(404, b"not here", "text/plain")(self)
        else:
            route(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def answer(status: int, body: bytes, content_type: str, **headers: str) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key.replace("_", "-"), value)
        h.end_headers()
        h.wfile.write(body)

    return route


def page(html: str, content_type: str = "text/html; charset=utf-8") -> Route:
    return answer(200, html.encode(), content_type)


def og_page(title: str, image: str | None = None, description: str = "") -> Route:
    meta = f"<meta property='og:title' content='{title}'>"
    meta += f"<meta property='og:description' content='{description}'>" if description else ""
    meta += f"<meta property='og:image' content='{image}'>" if image else ""
    return page(f"<html><head><title>Fallback</title>{meta}</head><body>Hi</body></html>")


def image(data: bytes, content_type: str = "image/png") -> Route:
    return answer(200, data, content_type)


def redirect(location: str, status: int = 302) -> Route:
    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return route


def endless(head: bytes, total: int, content_type: str = "text/html") -> Route:
    """``head``, then filler up to ``total`` bytes, generated as it is sent (no Content-Length:
    the body ends when the connection does)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.end_headers()
        chunk = b"<p>" + b"x" * 65_529 + b"</p>"
        sent = len(head)
        try:
            h.wfile.write(head)
            while sent < total:
                h.wfile.write(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the client stopped reading: what a cap does

    return route


def trickle(every: float, for_at_most: float) -> Route:
    """An HTML page that sends one byte every ``every`` seconds (so no single read times out)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        end = time.monotonic() + for_at_most
        try:
            h.wfile.write(b"<html><head><meta property='og:title' content='Slow'>")
            while time.monotonic() < end:
                h.wfile.write(b" ")
                h.wfile.flush()
                time.sleep(every)
        except OSError:
            pass

    return route


def pauses(*gaps: float) -> Route:
    """An HTML page that sends a byte after each of ``gaps`` seconds (then hangs up)."""

    def route(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        try:
            h.wfile.write(b"<html>")
            h.wfile.flush()
            for gap in gaps:
                time.sleep(gap)
                h.wfile.write(b" ")
                h.wfile.flush()
        except OSError:
            pass

    return route


# -- images ---------------------------------------------------------------------------------------
def png_bomb(width: int, height: int) -> bytes:
    """A small PNG (1-bit grey, all black) that claims ``width`` x ``height`` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    packer = zlib.compressobj(9)
    row = b"\x00" + bytes((width + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def gif_far_frame(offset: int) -> bytes:
    """A GIF whose header says 4 x 4 pixels but whose one 100 x 100 frame sits at (``offset``,
    ``offset``): Pillow grows the picture to hold it, so only Pillow sees the real size."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 4, 4, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"," + struct.pack("<HHHHB", offset, offset, 100, 100, 0)
    return screen + frame + b"\x02\x02\x4c\x01\x00\x00;"


# -- TLS ------------------------------------------------------------------------------------------
def certificate_authority(tmp: Path, host: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A throwaway CA and a certificate for ``host`` signed by it: (server context, client
    context that trusts only that CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("test CA"))
        .issuer_name(name("test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (tmp / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp / "leaf.pem").write_bytes(
        leaf.public_bytes(pem)
        + key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp / "leaf.pem")
    client = ssl.create_default_context(cafile=str(tmp / "ca.pem"))
    return server, client


def counting(answers: dict[str, list[str]]) -> tuple[Callable[[str, int], list[str]], list[str]]:
    """A resolver seam: each lookup of a name takes the next of its answers (the last one
    repeats); the list returned beside it records every name looked up."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        queue = answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, f"{host} is not in this test's answers")
        return [queue.pop(0) if len(queue) > 1 else queue[0]]

    return resolve, asked
