"""Keeps every Python process the test suite starts on loopback.

pytest-socket guards the test process itself; the processes its tests start (``python -m
eduadvocate``, the fake servers, a pytest inside a test) do not load pytest. tests/conftest.py puts
this folder first on their ``PYTHONPATH``, so Python imports this module when it starts, and the
audit hook below makes a connect or send to anything but loopback (127.0.0.0/8, ::1, a unix
socket) raise instead. An audit hook needs no import (``socket`` is not loaded just for this) and
sees the address as the caller passed it. It shadows any other ``sitecustomize`` on the path, which
Debian's Python uses only for crash reporting.
"""

from __future__ import annotations

import sys
from typing import Any

_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost"})


def _loopback(host: str) -> bool:
    host = host.split("%", 1)[0].lower().removeprefix("::ffff:")  # an IPv6 scope, a mapped IPv4
    parts = host.split(".")
    dotted = len(parts) == 4 and parts[0] == "127" and all(p.isdigit() for p in parts)
    return dotted or host in _LOOPBACK_NAMES or host == "::1"


def _guard(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:
        return
    address = args[1]
    # Only internet addresses have a host string: a unix socket's address is its path.
    if isinstance(address, tuple) and isinstance(address[0], str) and not _loopback(address[0]):
        raise RuntimeError(
            f"tests/netguard: a process the test suite started tried to reach {address[0]!r}; "
            "tests talk to loopback servers only"
        )


sys.addaudithook(_guard)
