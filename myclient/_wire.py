"""What happens on the wire during one exchange: the connection used, the bytes received, the cut.

requests and urllib3 hide the connection an exchange runs on until the response headers are parsed,
yet a deadline must be able to cut a server that trickles its status line, and a retry decision must
know whether any response byte arrived. urllib3 hands the per-request ``Timeout`` object to the
connection pool at exactly the two moments that matter — right after it takes a connection from the
pool (``connect_timeout``) and right after the request went out (``read_timeout``) — so a ``Timeout``
subclass carrying an :class:`Exchange` learns the connection there, from the calling frame. The
response class of that connection is then replaced *for this one response* (the instance attribute
is removed as soon as the response object exists) by one that counts the bytes received and notices
a header block cut by end-of-stream. Where the mounted transport adapter is not urllib3 (a mock, a
custom adapter), nothing is learned and every fact stays "unknown" (the safe reading).
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import sys
from typing import Any

import urllib3.util

__all__ = ["Exchange", "TrackingTimeout"]


class Exchange:
    """The facts of one exchange (one request and its response), as far as they could be observed.

    ``conn`` is the urllib3 connection used (None: unknown), ``reused`` whether it came from the pool
    already connected, ``received`` the response bytes read from its socket (None: not counted),
    ``headers_cut`` whether the header block ended without its empty line. ``cut()`` shuts the
    connection's socket down (the watchdog calls it when the deadline passes); a cut asked for
    before the connection is known takes effect as soon as it is.
    """

    __slots__ = ("clipped", "conn", "cut_requested", "headers_cut", "received", "reused")

    def __init__(self) -> None:
        self.conn: Any = None
        self.reused = False
        self.received: int | None = None
        self.headers_cut = False
        self.cut_requested = False
        #: True when the socket timeouts were cut to the deadline's time left (a timeout then is the deadline's).
        self.clipped = False

    def cut(self) -> None:
        """Shut the exchange's socket down so a blocked read or write returns at once."""
        self.cut_requested = True
        _shutdown(self.conn)

    def saw(self, conn: Any) -> None:
        """The pool handed out ``conn`` for this exchange (called from the Timeout hook)."""
        if conn is self.conn:
            return
        self.conn = conn
        self.reused = getattr(conn, "sock", None) is not None
        self.received = None
        self.headers_cut = False
        if self.cut_requested:
            _shutdown(conn)

    def watch_response(self, conn: Any) -> None:
        """Count the bytes of the response about to be read on ``conn`` (called right before it is)."""
        if conn is None or not isinstance(conn, http.client.HTTPConnection):
            return
        self.received = 0
        conn.__dict__["response_class"] = _ResponseFactory(self, conn)


def _shutdown(conn: Any) -> None:
    sock = getattr(conn, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _caller_conn() -> Any:
    """The ``conn`` local of the urllib3 frame that is reading a Timeout property (or None)."""
    try:
        frame = sys._getframe(2)
    except ValueError:  # pragma: no cover - no such frame
        return None
    conn = frame.f_locals.get("conn")
    return conn if conn is not None and hasattr(conn, "sock") else None


class TrackingTimeout(urllib3.util.Timeout):
    """A urllib3 ``Timeout`` that reports the connection of the exchange it is used for.

    Behaves exactly like ``Timeout(connect=..., read=...)`` for urllib3; ``clone()`` (which urllib3
    calls for every request) keeps the same :class:`Exchange`. When the exchange was cut before the
    request went out, the read timeout is 0, which urllib3 turns into an immediate ReadTimeoutError.
    """

    exchange: Exchange

    def __init__(self, connect: float | None, read: float | None, exchange: Exchange) -> None:
        super().__init__(connect=connect, read=read)
        self.exchange = exchange

    def clone(self) -> TrackingTimeout:
        return TrackingTimeout(self._connect, self._read, self.exchange)  # type: ignore[arg-type]

    @property
    def connect_timeout(self) -> float | None:
        conn = _caller_conn()
        if conn is not None:
            self.exchange.saw(conn)
        value = super().connect_timeout
        return value if isinstance(value, (int, float)) else None

    @property
    def read_timeout(self) -> float | None:
        conn = _caller_conn()
        if conn is not None:
            self.exchange.saw(conn)
            self.exchange.watch_response(conn)
        if self.exchange.cut_requested:
            return 0
        value: float | None = super().read_timeout
        return value

    @property
    def pair(self) -> tuple[float | None, float | None]:
        """(connect, read) as configured (what a tuple timeout would have said)."""
        return (self._connect, self._read)  # type: ignore[return-value]

    # A custom transport adapter may unpack or compare the timeout as requests' (connect, read) tuple.
    def __iter__(self) -> Any:
        return iter(self.pair)

    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> float | None:
        return self.pair[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, tuple):
            return self.pair == other
        return isinstance(other, urllib3.util.Timeout) and str(self) == str(other)

    __hash__ = None  # type: ignore[assignment]


class _ResponseFactory:
    """Stands in for ``conn.response_class`` for one response, then restores the class attribute."""

    __slots__ = ("conn", "exchange")

    def __init__(self, exchange: Exchange, conn: Any) -> None:
        self.exchange = exchange
        self.conn = conn

    def __call__(self, sock: Any, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        self.conn.__dict__.pop("response_class", None)
        return _TrackedResponse(sock, self.exchange, *args, **kwargs)


class _Counting(io.RawIOBase):
    """A raw stream over the socket's reader that adds every byte read to ``exchange.received``."""

    def __init__(self, raw: Any, exchange: Exchange) -> None:
        super().__init__()
        self._raw = raw
        self._exchange = exchange

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        count: int | None = self._raw.readinto(buffer)
        if count:
            exchange = self._exchange
            exchange.received = (exchange.received or 0) + count
        return count

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _LineReader(io.BufferedReader):
    """Remembers the last line read, to tell a header block's empty line from end-of-stream."""

    last_line: bytes = b"-"

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(-1 if size is None else size)
        self.last_line = line
        return line


class _TrackedResponse(http.client.HTTPResponse):
    """http.client's response, reading through a byte counter; notes a header block cut short."""

    def __init__(self, sock: Any, exchange: Exchange, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self._exchange = exchange
        raw = self.fp.detach()
        self.fp = _LineReader(_Counting(raw, exchange))

    def begin(self) -> None:
        super().begin()
        fp = self.fp
        if isinstance(fp, _LineReader) and fp.last_line == b"" and self.status not in (204, 304):
            # parse_headers stops at end-of-stream as if it were the empty line: the block was cut.
            self._exchange.headers_cut = True
