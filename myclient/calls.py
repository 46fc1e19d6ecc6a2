"""The call as one value: ``Call`` (what to send, built once before the first attempt) and its ``CallState``.

A ``Call`` is frozen: method, absolute URL, params, the merged headers (client, call, correlation id,
idempotency key), the body arguments, the resolved per-call ``Options`` and the idempotency key.
Middleware that needs a variant (another header, a fresh token) makes one with ``call.replace(...)``.
``CallState`` is the one mutable record of a call in progress — when it started, the attempt number,
what each attempt did, the response bytes read — shared by every copy of the call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .exceptions import Attempt
from .settings import Options

__all__ = ["Call", "CallState"]


class CallState:
    """What happened so far in one call: start time, attempt number, history, and the time left."""

    __slots__ = ("attempt", "base_url", "cid", "clock", "history", "limit", "reason", "shown", "started")

    def __init__(self, clock: Callable[[], float], limit: float | None, *, cid: str = "", base_url: str = "") -> None:
        self.clock = clock
        self.limit = limit
        self.started = clock()
        self.attempt = 0
        self.history: list[Attempt] = []
        #: Why the retry step stopped (for on_give_up and the access log).
        self.reason = ""
        self.cid = cid
        self.base_url = base_url
        #: The call's URL with its query, redacted, once computed (hooks, logs, Results show it).
        self.shown = ""

    def elapsed(self) -> float:
        """Seconds since the call started."""
        return self.clock() - self.started

    def left(self) -> float | None:
        """Seconds left of the call's deadline (None: no deadline; may be <= 0)."""
        limit = self.limit
        return None if limit is None else limit - (self.clock() - self.started)


class Call:
    """One call, fully resolved before the first attempt; immutable (``replace`` makes variants)."""

    __slots__ = ("data", "files", "headers", "idempotency_key", "json", "keyed", "method", "options", "params",
                 "replayable", "rewind", "state", "stream", "url")

    method: str
    url: str
    params: Any
    headers: Mapping[str, str | None]
    json: Any
    data: Any
    files: Any
    stream: bool
    options: Options
    idempotency_key: str | None
    keyed: bool
    replayable: bool
    rewind: Callable[[], None] | None
    state: CallState

    def __init__(
        self, method: str, url: str, *, params: Any = None, headers: Mapping[str, str | None], json: Any = None,
        data: Any = None, files: Any = None, stream: bool = False, options: Options,
        idempotency_key: str | None = None, keyed: bool = False, replayable: bool = True,
        rewind: Callable[[], None] | None = None, state: CallState,
    ) -> None:
        put = object.__setattr__
        put(self, "method", method)
        put(self, "url", url)
        put(self, "params", params)
        put(self, "headers", headers)
        put(self, "json", json)
        put(self, "data", data)
        put(self, "files", files)
        put(self, "stream", stream)
        put(self, "options", options)
        put(self, "idempotency_key", idempotency_key)
        put(self, "keyed", keyed)
        put(self, "replayable", replayable)
        put(self, "rewind", rewind)
        put(self, "state", state)

    def replace(self, **changes: Any) -> Call:
        """A copy with ``changes`` (same field names); the state is shared."""
        new = Call.__new__(Call)
        for name in Call.__slots__:
            object.__setattr__(new, name, changes[name] if name in changes else getattr(self, name))
        return new

    def with_headers(self, **headers: str | None) -> Call:
        """A copy whose headers are updated (None removes one), matched case-insensitively."""
        merged = {k: v for k, v in self.headers.items() if k.lower() not in {h.lower() for h in headers}}
        merged.update({k: v for k, v in headers.items() if v is not None})
        return self.replace(headers=merged)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("a Call is immutable; use call.replace(...)")

    def __repr__(self) -> str:
        from .redaction import registry

        return f"<Call {self.method} {registry.url(self.url)} attempt={self.state.attempt}>"
