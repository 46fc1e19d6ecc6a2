"""The network guard: refuse real socket connections while a test replays (stdlib only).

Guards nest and may be entered from several threads: the socket methods are patched while at
least one guard is active, and a connection is refused unless every active guard allows its host.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["NetworkBlocked", "no_network"]


class NetworkBlocked(OSError):
    """A test tried to open a real connection while the network guard was on."""


_lock = threading.Lock()
_active: list[frozenset[str]] = []
_real: list[Any] = []


def _check(address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else address
    for allow in list(_active):
        if host not in allow:
            raise NetworkBlocked(f"network blocked: a test tried to connect to {address!r}")


def _connect(self: socket.socket, address: Any) -> None:
    _check(address)
    _real[0](self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check(address)
    result: int = _real[1](self, address)
    return result


@contextlib.contextmanager
def no_network(allow: tuple[str, ...] = ()) -> Iterator[None]:
    """Refuse every outgoing socket connection (except to hosts in ``allow``) for the block."""
    entry = frozenset(allow)
    with _lock:
        if not _active:
            _real[:] = [socket.socket.connect, socket.socket.connect_ex]
            socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
            socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
        _active.append(entry)
    try:
        yield
    finally:
        with _lock:
            _active.remove(entry)
            if not _active:
                socket.socket.connect, socket.socket.connect_ex = _real  # type: ignore[method-assign]
                _real.clear()
