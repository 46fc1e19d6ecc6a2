"""RetryPolicy: an immutable value, and the pure function that decides "retry? after how long?".

No I/O, no clock and no randomness of its own: everything it needs comes in as arguments, and it
decides on the facts the transport recorded on an error (was the request sent, did a response byte
arrive, did the proxy answer 407, was the certificate refused) — never on message text — so the
decision is tested exhaustively without HTTP and never sleeps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, NamedTuple, Optional

from .exceptions import (
    ConnectError,
    ConnectionLost,
    MyClientError,
    ProxyError,
    ReadTimeout,
    TLSError,
    UsageError,
)

__all__ = ["RetryPolicy", "Decision", "IDEMPOTENT_METHODS", "DEFAULT_STATUSES", "sent_before_failure"]

#: Methods whose repetition has no further effect (RFC 9110 §9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
#: Statuses retried by default: rate limited and the gateway family. 500 is opt-in.
DEFAULT_STATUSES = frozenset({429, 502, 503, 504})


class Decision(NamedTuple):
    """The verdict for one failed attempt: retry after ``delay`` seconds, or give up, and why."""

    retry: bool
    delay: float
    reason: str


def sent_before_failure(error: MyClientError, reused: bool) -> bool:
    """Whether the server may have seen the request when ``error`` happened.

    False only when it certainly did not: no connection was made (refused, DNS, connect timeout),
    the TLS handshake failed, the proxy refused it, or a pooled keep-alive connection (to the
    server or to a proxy) turned out to be dead (closed with no response byte) on reuse.
    """
    if isinstance(error, ProxyError) and error.lost_after_send:
        return not reused  # like a connection lost before any response byte
    if isinstance(error, (ConnectError, TLSError, ProxyError)):
        return False
    return not (isinstance(error, ConnectionLost) and reused and error.before_response)


def _permanent(error: MyClientError) -> bool:
    """Failures the same request meets again: certificate refused, the proxy said 4xx (407: credentials)."""
    if isinstance(error, TLSError):
        return error.verify_failed
    if isinstance(error, ProxyError):
        return error.status is not None and 400 <= error.status < 500
    return False


def _frozen_upper(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.upper() for v in values)


#: Longest wait or timeout accepted anywhere, in seconds (about 11.5 days): larger values overflow
#: socket and sleep calls, and no real API asks for them.
MAX_SECONDS = 1_000_000.0

_FIELDS = ("attempts", "backoff", "backoff_cap", "statuses", "respect_retry_after", "retry_after_cap",
           "idempotent_methods", "resend_on_stale_connection")


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
        raise UsageError(f"{name} must be a number of seconds in [0, {MAX_SECONDS:g}], got {value!r}")
    return float(value)


class RetryPolicy:
    """How a call is retried. Immutable: derive variants with ``replace(...)``.

    ``attempts`` counts every try including the first (1 = no retry). Waits use full jitter:
    a random share of ``min(backoff_cap, backoff * 2**(n-1))``. A ``Retry-After`` is honoured when
    ``respect_retry_after`` and it is at most ``retry_after_cap``; a longer one is not slept on.
    Statuses, read timeouts and losses after sending are retried only for ``idempotent_methods``
    or a call carrying an idempotency key; failures before sending are retried for every method.

    ``resend_on_stale_connection``: a reused keep-alive connection that closes or resets before
    a single response byte arrived counts as dead before sending, so any method is sent again. From
    the client this looks the same as a server that read the request and then died without
    answering; set it to False to treat that case as "sent" (only safe calls are retried).
    """

    __slots__ = _FIELDS

    attempts: int
    backoff: float
    backoff_cap: float
    statuses: frozenset[int]
    respect_retry_after: bool
    retry_after_cap: float
    idempotent_methods: frozenset[str]
    resend_on_stale_connection: bool

    def __init__(
        self,
        attempts: int = 3,
        backoff: float = 0.5,
        backoff_cap: float = 8.0,
        statuses: Iterable[int] = DEFAULT_STATUSES,
        respect_retry_after: bool = True,
        retry_after_cap: float = 60.0,
        idempotent_methods: Iterable[str] = IDEMPOTENT_METHODS,
        resend_on_stale_connection: bool = True,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 1000:
            raise UsageError(f"attempts must be an int in [1, 1000], got {attempts!r}")
        if isinstance(statuses, (str, bytes)) or not isinstance(statuses, Iterable):
            raise UsageError(f"statuses must be a collection of 4xx/5xx integers, got {statuses!r}")
        codes = frozenset(statuses)
        if not all(isinstance(s, int) and not isinstance(s, bool) and 400 <= s <= 599 for s in codes):
            raise UsageError(f"statuses must be 4xx/5xx integers, got {sorted(codes, key=str)!r}")
        if isinstance(idempotent_methods, (str, bytes)) or not all(isinstance(m, str) for m in idempotent_methods):
            raise UsageError(f"idempotent_methods must be a collection of method names, got {idempotent_methods!r}")
        values = {
            "attempts": attempts,
            "backoff": _seconds("backoff", backoff),
            "backoff_cap": _seconds("backoff_cap", backoff_cap),
            "statuses": codes,
            "respect_retry_after": bool(respect_retry_after),
            "retry_after_cap": _seconds("retry_after_cap", retry_after_cap),
            "idempotent_methods": _frozen_upper(idempotent_methods),
            "resend_on_stale_connection": bool(resend_on_stale_connection),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"RetryPolicy is immutable; use policy.replace({name}=...)")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("RetryPolicy is immutable")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in _FIELDS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RetryPolicy) and self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in _FIELDS)
        return f"RetryPolicy({shown})"

    def __reduce__(self) -> Any:
        return (RetryPolicy, self._values())

    @classmethod
    def off(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)

    def replace(self, **changes: Any) -> RetryPolicy:
        """A copy with ``changes`` applied (validated like the constructor)."""
        unknown = sorted(set(changes) - set(_FIELDS))
        if unknown:
            raise UsageError(f"RetryPolicy has no field {', '.join(unknown)}")
        values = {name: getattr(self, name) for name in _FIELDS}
        values.update(changes)
        return RetryPolicy(**values)

    def is_safe(self, method: str, keyed: bool) -> bool:
        """Whether repeating a request that reached the server cannot duplicate a side effect."""
        return keyed or method.upper() in self.idempotent_methods

    def backoff_delay(self, attempt: int, random: float) -> float:
        """Full-jitter wait after failed attempt number ``attempt`` (1-based), ``random`` in [0, 1)."""
        ceiling = min(self.backoff_cap, self.backoff * (2.0 ** min(attempt - 1, 62)))
        return float(random * ceiling) if math.isfinite(ceiling) else float(random * self.backoff_cap)

    def decide(
        self,
        *,
        attempt: int,
        method: str,
        keyed: bool = False,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
        error: Optional[MyClientError] = None,
        reused: Optional[bool] = None,
        replayable: bool = True,
        time_left: Optional[float] = None,
        random: float = 1.0,
    ) -> Decision:
        """Decide about failed attempt number ``attempt`` (1-based) of ``method``.

        Give ``status`` (and ``retry_after``) for an HTTP answer, or ``error`` for a transport
        failure. ``reused`` says the attempt ran on a pooled connection, ``replayable`` whether the
        body can be sent again, ``time_left`` the seconds left of the call's deadline (None: no
        deadline), ``random`` a number in [0, 1) for the jitter. Rules, in order: attempts left;
        is the outcome retryable at all; is repeating it safe for this method; is the wait
        acceptable (Retry-After cap, time left).
        """
        if attempt >= self.attempts:
            return Decision(False, 0.0, f"gave up after {attempt} attempt{'s' * (attempt != 1)}")
        if error is not None:
            if not isinstance(error, (ConnectError, TLSError, ProxyError, ConnectionLost, ReadTimeout)):
                return Decision(False, 0.0, f"{type(error).__name__} is not retryable")
            if _permanent(error):
                return Decision(False, 0.0, f"{type(error).__name__} will not change on retry")
            on_reused = bool(getattr(error, "reused", False)) if reused is None else reused
            sent = sent_before_failure(error, on_reused and self.resend_on_stale_connection)
            what = type(error).__name__ + ("" if sent else " before the request was sent")
        elif status is not None:
            if status not in self.statuses:
                return Decision(False, 0.0, f"status {status} is not retryable")
            sent = True
            what = f"status {status}"
        else:
            raise UsageError("decide() needs a status or an error")
        if sent and not self.is_safe(method, keyed):
            return Decision(False, 0.0, f"{what}: {method.upper()} is not idempotent and has no idempotency key")
        if sent and not replayable:
            return Decision(False, 0.0, f"{what}: the request body is a stream that cannot be sent again")
        delay = self.backoff_delay(attempt, random)
        if retry_after is not None and self.respect_retry_after:
            if retry_after > self.retry_after_cap:
                return Decision(False, 0.0, f"{what}: Retry-After {retry_after:g}s exceeds the cap "
                                            f"{self.retry_after_cap:g}s")
            delay = max(delay, retry_after) if retry_after > 0 else delay
            what += f", Retry-After {retry_after:g}s"
        if time_left is not None and delay >= time_left:
            return Decision(False, 0.0, f"{what}: waiting {delay:.2f}s would pass the deadline "
                                        f"({max(time_left, 0.0):.2f}s left)")
        return Decision(True, delay, what)
