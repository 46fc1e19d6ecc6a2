"""RetryPolicy: an immutable value, and the pure function that decides "retry? after how long?".

No I/O, no clock and no randomness of its own: everything it needs comes in as arguments, so the
decision is tested exhaustively without HTTP and never sleeps.
"""

from __future__ import annotations

import dataclasses
import math
import ssl
from collections.abc import Iterable
from typing import NamedTuple, Optional

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
    """Failures that the same request will meet again: certificate rejected, proxy auth refused."""
    if isinstance(error, TLSError):
        cause = error.__cause__
        while cause is not None:
            if isinstance(cause, ssl.SSLCertVerificationError):
                return True
            cause = cause.__cause__ or cause.__context__
        return "CERTIFICATE_VERIFY_FAILED" in str(error) or "hostname" in str(error).lower()
    if isinstance(error, ProxyError):
        return "407" in str(error)
    return False


def _frozen_upper(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.upper() for v in values)


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How a call is retried. Immutable: derive variants with ``replace(...)``.

    ``attempts`` counts every try including the first (1 = no retry). Waits use full jitter:
    a random share of ``min(backoff_cap, backoff * 2**(n-1))``. A ``Retry-After`` is honoured when
    ``respect_retry_after`` and it is at most ``retry_after_cap``; a longer one is not slept on.
    Statuses, read timeouts and losses after sending are retried only for ``idempotent_methods``
    or a call carrying an idempotency key; failures before sending are retried for every method.

    ``resend_on_stale_connection``: a reused keep-alive connection that closes or resets before
    a single response byte counts as dead before sending, so any method is sent again. From the
    client this looks the same as a server that read the request and then died without
    answering; set it to False to treat that case as "sent" (only safe calls are retried).
    """

    attempts: int = 3
    backoff: float = 0.5
    backoff_cap: float = 8.0
    statuses: frozenset[int] = DEFAULT_STATUSES
    respect_retry_after: bool = True
    retry_after_cap: float = 60.0
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS
    resend_on_stale_connection: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.attempts, bool) or not isinstance(self.attempts, int) or self.attempts < 1:
            raise UsageError(f"attempts must be an int >= 1, got {self.attempts!r}")
        for name in ("backoff", "backoff_cap", "retry_after_cap"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < math.inf:
                raise UsageError(f"{name} must be a finite number >= 0, got {value!r}")
        statuses = frozenset(self.statuses)
        if not all(isinstance(s, int) and 400 <= s <= 599 for s in statuses):
            raise UsageError(f"statuses must be 4xx/5xx integers, got {sorted(statuses)!r}")
        object.__setattr__(self, "statuses", statuses)
        object.__setattr__(self, "idempotent_methods", _frozen_upper(self.idempotent_methods))

    @classmethod
    def off(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(attempts=1)

    def replace(self, **changes: object) -> RetryPolicy:
        """A copy with ``changes`` applied (validated like the constructor)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def is_safe(self, method: str, keyed: bool) -> bool:
        """Whether repeating a request that reached the server cannot duplicate a side effect."""
        return keyed or method.upper() in self.idempotent_methods

    def backoff_delay(self, attempt: int, random: float) -> float:
        """Full-jitter wait after failed attempt number ``attempt`` (1-based), ``random`` in [0, 1)."""
        ceiling = min(self.backoff_cap, self.backoff * (2 ** min(attempt - 1, 62)))
        return float(random * ceiling)

    def decide(
        self,
        *,
        attempt: int,
        method: str,
        keyed: bool = False,
        status: Optional[int] = None,
        retry_after: Optional[float] = None,
        error: Optional[MyClientError] = None,
        reused: bool = False,
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
            sent = sent_before_failure(error, reused and self.resend_on_stale_connection)
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
