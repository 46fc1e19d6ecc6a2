"""The time left of the call in progress, visible to work done on its behalf (a token request).

The attempt loop enters ``call_deadline`` around each attempt; an auth flow that must ask a
token endpoint while preparing that attempt reads ``time_left()`` and bounds its own request by
it, so a per-call ``deadline=`` covers the token request too. A context variable, so threads and
asyncio tasks each see their own call.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

__all__ = ["call_deadline", "time_left"]

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
