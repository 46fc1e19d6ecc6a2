"""The deadline watchdog (one thread that cuts sockets when a call's time is up) and request-body replay.

requests' timeouts apply per socket operation, so a server that trickles bytes — in the status line,
the headers or the body — or a slow reader of an upload never trips them. One shared daemon thread
runs alarms at monotonic times; an alarm cut the connection of the exchange it guards. A finished
call cancels its alarm, which drops the callback (and so the response it could reach) at once; the
heap of cancelled alarms is swept, so it stays bounded however many calls run. Nothing here decides
whether to retry.
"""

from __future__ import annotations

import collections
import contextlib
import heapq
import io
import itertools
import math
import os
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Alarm", "Watchdog", "abort_response", "body_rewinder", "watchdog"]

#: Heap size at which cancelled alarms are swept out (each armed call adds one).
_COMPACT_AT = 1024


class Alarm:
    """A pending callback; ``cancel()`` it when the guarded work finished in time."""

    __slots__ = ("callback", "fired")

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback: Callable[[], None] | None = callback
        self.fired = False

    @property
    def cancelled(self) -> bool:
        """True once cancelled (or run): the alarm no longer references its callback."""
        return self.callback is None

    @cancelled.setter
    def cancelled(self, value: bool) -> None:
        if value:
            self.callback = None

    def cancel(self) -> None:
        """Forget the callback; a fired alarm stays fired."""
        self.callback = None


class Watchdog:
    """One daemon thread that runs callbacks at monotonic times, unless cancelled first.

    ``arm`` runs on every call with a deadline, so it takes no lock in the common case: it appends to
    a deque (thread-safe) and wakes the thread only when the new alarm is due before the time the
    thread plans to wake (or every ``_COMPACT_AT`` alarms, so cancelled ones are swept and the queue
    stays bounded). While the thread is awake its planned time reads as infinity, so an alarm armed
    meanwhile always wakes it again: none can be missed.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Alarm]] = []
        self._incoming: collections.deque[tuple[float, int, Alarm]] = collections.deque()
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._wake_at = math.inf  # when the sleeping thread will look again (inf: not asleep on a time)
        self._started = False

    def arm(self, seconds: float, callback: Callable[[], None]) -> Alarm:
        """Run ``callback`` in ``seconds`` (real time) unless the returned alarm is cancelled."""
        alarm = Alarm(callback)
        when = time.monotonic() + (seconds if seconds > 0 else 0.0)
        incoming = self._incoming
        incoming.append((when, next(self._seq), alarm))
        if when < self._wake_at or not self._started or len(incoming) >= _COMPACT_AT:
            with self._cond:
                if not self._started:  # first use, or a child process after fork
                    self._thread = threading.Thread(target=self._run, name="myclient-deadline", daemon=True)
                    self._thread.start()
                    self._started = True
                if len(incoming) >= _COMPACT_AT:  # sweep here: the queue never outgrows the bound
                    self._drain()
                self._cond.notify()
        return alarm

    def pending(self) -> int:
        """Alarms still armed (for tests and benchmarks)."""
        with self._cond:
            return sum(1 for entry in [*self._heap, *self._incoming] if entry[2].callback is not None)

    def _after_fork(self) -> None:
        """In a forked child: a fresh lock, and a thread started on first use (the parent's is not here)."""
        self._cond = threading.Condition(threading.Lock())
        self._started = False
        self._wake_at = math.inf

    def _drain(self) -> None:
        """Move newly armed alarms into the heap, sweeping cancelled ones when it has grown (lock held)."""
        heap, incoming = self._heap, self._incoming
        while incoming:
            entry = incoming.popleft()
            if entry[2].callback is not None:
                heapq.heappush(heap, entry)
        if len(heap) >= _COMPACT_AT:
            heap[:] = [entry for entry in heap if entry[2].callback is not None]
            heapq.heapify(heap)

    def _run(self) -> None:
        with self._cond:
            while True:
                self._wake_at = math.inf  # awake: any alarm armed from now on notifies
                self._drain()
                heap = self._heap
                while heap and heap[0][2].callback is None:
                    heapq.heappop(heap)
                if not heap:
                    self._cond.wait()
                    continue
                due = heap[0][0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._wake_at = due
                    self._cond.wait(wait)
                    continue
                _, _, alarm = heapq.heappop(heap)
                callback, alarm.callback = alarm.callback, None
                alarm.fired = True
                if callback is not None:
                    with contextlib.suppress(Exception):  # an already closed socket is fine
                        callback()


watchdog = Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=watchdog._after_fork)


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


def abort_response(response: Any) -> None:
    """Wake a read blocked on this response's socket by shutting the socket down."""
    import socket

    raw = getattr(response, "raw", None)
    connection = getattr(raw, "connection", None) or getattr(raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is not None:
        sock.shutdown(socket.SHUT_RDWR)
