"""Hostile HTTP servers on raw loopback sockets, scripted per test (malformed, trickling, cut answers).

``HostileServer(script)`` accepts connections on 127.0.0.1 in a daemon thread; each connection is
served by ``script(conn, seen)``, where ``seen`` is the shared :class:`Seen` record (requests read so
far, connection count). Helpers read one request head + body, and send bytes slowly. Nothing here
is a real HTTP server on purpose: it says exactly the bytes a test wants, in the timing it wants.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = ["HostileServer", "Seen", "read_request", "respond", "trickle"]


@dataclass
class Seen:
    """What the server saw: request heads (method and path), connections accepted, bodies."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    heads: list[bytes] = field(default_factory=list)
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        with self.lock:
            return sum(1 for m, p in self.requests if (method is None or m == method) and (path is None or p == path))


Script = Callable[[socket.socket, Seen], None]


def read_request(conn: socket.socket, seen: Seen, *, read_body: bool = True) -> bytes | None:
    """Read one request (head, and a Content-Length body); record it; None when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while read_body and len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    method, path = head.split(b"\r\n")[0].split(b" ")[:2]
    with seen.lock:
        seen.requests.append((method.decode(), path.decode()))
        seen.bodies.append(body)
        seen.heads.append(head)
    return head


def respond(conn: socket.socket, status: str = "200 OK", body: bytes = b"{}", headers: dict[str, str] | None = None,
            *, content_type: str = "application/json") -> None:
    """Send a complete, well-formed response (keep-alive)."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)


def trickle(conn: socket.socket, data: bytes, every: float, *, stop: threading.Event | None = None) -> None:
    """Send ``data`` one byte every ``every`` seconds (until the peer goes away or ``stop`` is set)."""
    for byte in data:
        if stop is not None and stop.is_set():
            return
        try:
            conn.sendall(bytes([byte]))
        except OSError:
            return
        time.sleep(every)


class HostileServer:
    """A scripted raw-socket server on 127.0.0.1; ``url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.seen = Seen()
        self.stop_event = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, name="hostile-accept", daemon=True)
        self._accept.start()

    def _serve(self) -> None:
        while not self.stop_event.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            with self.seen.lock:
                self.seen.connections += 1
            worker = threading.Thread(target=self._run, args=(conn,), daemon=True)
            worker.start()
            self._threads.append(worker)

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.script(conn, self.seen)

    def close(self) -> None:
        self.stop_event.set()
        self._sock.close()
        self._accept.join(2)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def hostile(script: Script) -> Iterator[HostileServer]:
    """``with hostile(script) as server:`` — a HostileServer closed at the end of the block."""
    server = HostileServer(script)
    try:
        yield server
    finally:
        server.close()
