"""The HTTP session settings every requests-based adapter (X, Facebook, Instagram) shares:
no automatic retries (a POST must never be repeated behind dispatch's back), a default timeout,
the platform's hosts optionally redirected to ``base_url`` (proxies, sandboxes, the test fakes),
and the environment's proxy settings read once instead of on every request.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

from eduadvocate.platforms.publishing import settle_environment


class Transport(HTTPAdapter):
    """A ``requests`` adapter that never retries, times out by default and sends what is
    addressed to one of ``hosts`` to ``base_url`` instead (path and query kept)."""

    def __init__(self, hosts: tuple[str, ...], base_url: str | None, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.hosts = hosts
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        if self.base_url and request.url:
            for host in self.hosts:
                if request.url.startswith(host):
                    request.url = self.base_url + request.url[len(host) :]
                    break
        return super().send(request, **kwargs)


def prepare_session(
    session: requests.Session, hosts: tuple[str, ...], base_url: str | None, timeout: float
) -> None:
    """Mount the transport for every scheme and settle the environment once."""
    transport = Transport(hosts, base_url, timeout)
    session.mount("https://", transport)
    session.mount("http://", transport)
    settle_environment(session, base_url or hosts[0])
