"""What the call in progress carries to work done on its behalf: its time left, its cancellation, its loop.

The attempt loop enters ``call_deadline`` around each attempt; an auth flow that must ask a
token endpoint while preparing that attempt reads ``time_left()`` and bounds its own request by
it, so a per-call ``deadline=`` covers the token request too. An AsyncClient runs each call in a
worker thread with a ``Cancellation`` (cancelling the awaiting task cuts the exchange in flight and
stops retries) and its event loop (async hooks are awaited there). Context variables, so threads and
asyncio tasks each see their own call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

__all__ = ["Cancellation", "call_deadline", "cancellation", "event_loop", "time_left"]

#: Seconds left of the current call's deadline, as a function (the adapter's clock decides).
_LEFT: ContextVar[Callable[[], float] | None] = ContextVar("myclient_time_left", default=None)


def time_left() -> float | None:
    """Seconds left of the deadline of the call being sent on this thread/task (None: no deadline)."""
    left = _LEFT.get()
    return None if left is None else left()


@contextlib.contextmanager
def call_deadline(left: Callable[[], float] | None) -> Iterator[None]:
    """Make ``left()`` the time left for everything done inside the block (None: no deadline)."""
    token = _LEFT.set(left)
    try:
        yield
    finally:
        _LEFT.reset(token)


class Cancellation:
    """Set when the task awaiting a call is cancelled: cuts the exchange in flight, stops further attempts."""

    __slots__ = ("_exchanges", "_lock", "cancelled")

    def __init__(self) -> None:
        import threading

        self.cancelled = False
        self._exchanges: list[Any] = []
        self._lock = threading.Lock()

    def attach(self, exchange: Any) -> None:
        """The worker started an exchange: cut it at once if the call is (or gets) cancelled."""
        with self._lock:
            self._exchanges.append(exchange)
            cancelled = self.cancelled
        if cancelled:
            exchange.cut()

    def detach(self, exchange: Any) -> None:
        """The exchange finished."""
        with self._lock:
            if exchange in self._exchanges:
                self._exchanges.remove(exchange)

    def cancel(self) -> None:
        """Cancel the call: shut down the socket of every exchange in flight (from any thread)."""
        with self._lock:
            self.cancelled = True
            exchanges = list(self._exchanges)
        for exchange in exchanges:
            exchange.cut()


#: The cancellation of the call this worker thread runs (None outside an AsyncClient call).
cancellation: ContextVar[Cancellation | None] = ContextVar("myclient_cancellation", default=None)
#: The event loop of the AsyncClient call this worker runs (async hooks are awaited there).
event_loop: ContextVar[Any] = ContextVar("myclient_event_loop", default=None)
