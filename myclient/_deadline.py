"""Bounding a whole body download by the call's deadline, and replaying request bodies on retry.

requests' read timeout applies per socket read, so a server that trickles bytes never trips it.
One shared watchdog thread shuts the socket down when a deadline passes; nothing here decides
whether to retry.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

__all__ = ["Watchdog", "abort_response", "body_rewinder", "read_body", "watchdog"]


#: Heap size at which cancelled alarms are swept out (each call under a deadline adds one).
_COMPACT_AT = 1024


class _Alarm:
    __slots__ = ("cancelled", "fired")

    def __init__(self) -> None:
        self.cancelled = False
        self.fired = False


class Watchdog:
    """One daemon thread that runs callbacks at monotonic times, unless cancelled first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Alarm, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, callback: Callable[[], None]) -> _Alarm:
        """Run ``callback`` in ``seconds`` (real time) unless the returned alarm is cancelled."""
        alarm = _Alarm()
        with self._cond:
            heap = self._heap
            if len(heap) >= _COMPACT_AT:  # cancelled alarms are dropped lazily; sweep them now and then
                heap[:] = [entry for entry in heap if not entry[2].cancelled]
                heapq.heapify(heap)
            heapq.heappush(heap, (time.monotonic() + seconds, next(self._seq), alarm, callback))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="myclient-deadline", daemon=True)
                self._thread.start()
            if heap[0][2] is alarm:  # wake the thread only when it must fire sooner than planned
                self._cond.notify()
        return alarm

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                _, _, alarm, callback = heapq.heappop(self._heap)
                alarm.fired = True
                with contextlib.suppress(Exception):  # an already closed socket is fine
                    callback()


watchdog = Watchdog()


def abort_response(response: requests.Response) -> None:
    """Wake a read blocked on this response's socket by shutting the socket down."""
    connection = getattr(response.raw, "connection", None) or getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)


def read_body(response: requests.Response, seconds: float) -> bool:
    """Read a streamed response's body into ``response.content`` within ``seconds``.

    Returns False when the deadline cut the download short (the body is then incomplete, and
    the connection is closed); read errors other than that propagate as requests raises them.
    """
    if seconds <= 0:
        response.close()
        return False
    alarm = watchdog.arm(seconds, lambda: abort_response(response))
    try:
        response.content  # noqa: B018 - reads and caches the whole body
    except (requests.RequestException, OSError, ValueError):
        if alarm.fired:
            response.close()
            return False
        raise
    finally:
        alarm.cancelled = True
    if alarm.fired:
        response.close()
        return False
    return True


def _rewindable(obj: Any) -> bool:
    return hasattr(obj, "seek") and hasattr(obj, "tell") and (not hasattr(obj, "seekable") or obj.seekable())


def body_rewinder(data: Any, files: Any) -> tuple[bool, Callable[[], None] | None]:
    """Whether a request body can be sent again, and how to rewind file objects before it is.

    Bytes, strings, dicts and lists replay as they are; seekable files are rewound to where they
    stood; generators and other one-shot streams cannot be replayed.
    """
    objects: list[Any] = []
    if data is not None and not isinstance(data, (bytes, str, dict, list, tuple, bytearray)):
        objects.append(data)
    if files:
        values = files.values() if isinstance(files, dict) else (v for _, v in files)
        for value in values:
            obj = value[1] if isinstance(value, (tuple, list)) and len(value) > 1 else value
            if not isinstance(obj, (bytes, str, bytearray)):
                objects.append(obj)
    if not objects:
        return True, None
    if not all(_rewindable(o) for o in objects):
        return False, None
    try:
        positions = [(o, o.tell()) for o in objects]
    except (OSError, io.UnsupportedOperation):
        return False, None

    def rewind() -> None:
        for obj, pos in positions:
            obj.seek(pos)

    return True, rewind
