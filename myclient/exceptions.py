"""The MyClientError tree: every error a myclient call raises, as a value that describes what happened.

An error carries facts — status, method, redacted URL, request id, Retry-After, a bounded redacted body
excerpt, and for transport failures what is known about the exchange (was anything sent, did a response
byte arrive, was the certificate refused) — set once, where the failure is mapped. Nothing here does I/O
or decides anything: ``myclient.retry`` decides on these facts. Errors pickle without the live
``response`` (which may hold credentials) so they can cross task queues and process pools.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .redaction import registry

__all__ = [
    "REQUEST_ID_HEADERS",
    "Attempt",
    "AuthError",
    "BadGateway",
    "BadRequest",
    "Cancelled",
    "ClientError",
    "Conflict",
    "ConnectError",
    "ConnectTimeout",
    "ConnectionLost",
    "CrossOriginError",
    "DeadlineExceeded",
    "Forbidden",
    "GatewayTimeout",
    "HTTPError",
    "InternalServerError",
    "InvalidResponse",
    "MyClientError",
    "NotFound",
    "OAuthStateError",
    "PreconditionFailed",
    "ProxyError",
    "RateLimited",
    "ReadTimeout",
    "RedirectError",
    "ServerError",
    "ServiceUnavailable",
    "TLSError",
    "Timeout",
    "TooManyRedirects",
    "TransportError",
    "Unauthorized",
    "UnprocessableEntity",
    "UsageError",
    "error_class",
    "request_id_of",
]

#: Response headers that carry a request id, most specific first (matched case-insensitively).
REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-amz-request-id",
    "x-ms-request-id",
    "x-github-request-id",
    "x-correlation-id",
    "cf-ray",
)
_REQUEST_ID_NAMES = frozenset(REQUEST_ID_HEADERS)

#: Attributes never pickled: the live response/request may carry credentials and sockets.
_NOT_PICKLED = frozenset({"response", "request"})


class Attempt:
    """One attempt of a call: its status or exception, its duration, and the seconds slept after it."""

    __slots__ = ("elapsed", "error", "slept", "status")

    def __init__(
        self, status: int | None = None, error: BaseException | None = None, elapsed: float = 0.0, slept: float = 0.0
    ) -> None:
        self.status = status
        self.error = error
        self.elapsed = elapsed
        self.slept = slept

    @property
    def outcome(self) -> str:
        """``"503"`` for a status, the exception class name for a failure."""
        if self.status is not None:
            return str(self.status)
        return type(self.error).__name__ if self.error is not None else "?"

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.status, self.error, self.elapsed, self.slept)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.status, self.error, self.elapsed, self.slept = state

    def __repr__(self) -> str:
        return f"Attempt({self.outcome}, elapsed={self.elapsed:.3f}, slept={self.slept:.3f})"


class MyClientError(Exception):
    """Root of every error myclient raises: catch this to catch them all, network failures included."""

    def __init__(self, message: str, *, method: str | None = None, url: str | None = None) -> None:
        message = registry.text(message)
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = registry.url(url) if url else url
        #: Every attempt made for the call that raised this, oldest first.
        self.attempts: list[Attempt] = []

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Any:
        state = {k: v for k, v in self.__dict__.items() if k not in _NOT_PICKLED}
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[MyClientError], state: dict[str, Any]) -> MyClientError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    err.__dict__.setdefault("response", None)
    return err


class UsageError(MyClientError, ValueError):
    """The call itself is wrong (bad argument, unsafe path, bad header); nothing was sent."""


class CrossOriginError(UsageError):
    """A URL points at another origin than the client's base URL; refused so credentials stay home."""


class TransportError(MyClientError):
    """The request got no (complete) HTTP response: connection, TLS, proxy, timeout or protocol failure.

    ``reused`` is True when the attempt ran on a pooled keep-alive connection. ``cause`` names the
    low-level failure (its type and a redacted message); the original exception is not chained, so no
    traceback or error tracker can print the URL or headers it held.
    """

    reused: bool = False
    cause: str = ""


class ConnectError(TransportError):
    """No connection could be made (refused, DNS, unreachable); the request was not sent."""


class ProxyError(TransportError):
    """The forward proxy refused or failed the request.

    ``status`` is the proxy's HTTP status when it answered (407: proxy authentication required, which
    no retry changes). ``lost_after_send`` is True when the proxy connection closed or reset without
    an answer after the request went out: through a plain-HTTP proxy the origin may have received it.
    """

    status: int | None = None
    lost_after_send: bool = False


class TLSError(TransportError):
    """The TLS handshake failed; ``verify_failed`` is True when the server's certificate was refused."""

    verify_failed: bool = False


class Timeout(TransportError):
    """A connect or read timeout, or the call's deadline, ran out."""


class ConnectTimeout(Timeout, ConnectError):
    """Connecting took longer than the connect timeout; the request was not sent."""


class ReadTimeout(Timeout):
    """The server did not answer within the read timeout; the request may have been processed."""


class DeadlineExceeded(Timeout):
    """The call's deadline ran out (connecting, sending, waiting for or reading the answer, or waiting to retry)."""


class Cancelled(TransportError):
    """The task awaiting an AsyncClient call was cancelled; its exchange was cut and it is never retried.

    The awaiting task sees ``asyncio.CancelledError``; this error ends the worker's side of the call
    (hooks and logs see it).
    """


class ConnectionLost(TransportError):
    """The connection broke after the request was sent (reset, closed, malformed or truncated response).

    ``before_response`` is True only when it is known that not a byte of the response had arrived (the
    peer closed or reset the connection instead of answering): on a reused keep-alive connection that
    means the connection was already dead, so the request may be sent again.
    """

    before_response: bool = False


class RedirectError(TransportError):
    """A redirect could not be followed (its request body cannot be sent again, or too many hops)."""


class TooManyRedirects(RedirectError):
    """More redirects than allowed were followed."""


class InvalidResponse(MyClientError):
    """A response arrived but could not be used as promised (not JSON, too large, malformed, inconsistent)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body: str = "",
        response: Any = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.body = registry.text(body)[:BODY_EXCERPT_CHARS]
        self.response = response


class AuthError(MyClientError):
    """Authentication failed: a token or login endpoint said no, or credentials could not be obtained."""

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        status: int | None = None,
        method: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.error = error
        self.description = registry.text(description) if description else description
        self.status = status


class OAuthStateError(AuthError):
    """The ``state`` in an authorization response matches no authorization request (possible CSRF)."""


#: Characters of the response body kept on an exception (after redaction).
BODY_EXCERPT_CHARS = 2048


class HTTPError(MyClientError):
    """The server answered with a 4xx or 5xx status."""

    status: int
    #: The decoded error document, redacted, when the call knows its schema (spec-loaded clients).
    data: Any = None

    def __init__(
        self,
        message: str,
        *,
        status: int,
        method: str | None,
        url: str | None,
        headers: Mapping[str, str] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: str = "",
        errors: list[Any] | None = None,
        response: Any = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.headers = registry.header_items(headers or {})
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        self.errors = errors or []
        #: The live ``requests.Response`` (body already read or closed). Not pickled: it holds the request.
        self.response = response

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, method={self.method!r}, url={self.url!r})"


class ClientError(HTTPError):
    """A 4xx status: the request was wrong in the server's eyes."""


class BadRequest(ClientError):
    """400 Bad Request."""


class Unauthorized(ClientError):
    """401 Unauthorized: missing or rejected credentials."""


class Forbidden(ClientError):
    """403 Forbidden."""


class NotFound(ClientError):
    """404 Not Found."""


class Conflict(ClientError):
    """409 Conflict."""


class PreconditionFailed(ClientError):
    """412 Precondition Failed."""


class UnprocessableEntity(ClientError):
    """422 Unprocessable Entity: validation failed; see ``errors``."""


class RateLimited(ClientError):
    """429 Too Many Requests; ``retry_after`` says how long the server asked to wait.

    Also raised without sending when a client-side rate limit cannot be met within the call's
    deadline (then ``status`` is 429 and ``response`` is None).
    """


class ServerError(HTTPError):
    """A 5xx status (standard or not, e.g. 520)."""


class InternalServerError(ServerError):
    """500 Internal Server Error."""


class BadGateway(ServerError):
    """502 Bad Gateway."""


class ServiceUnavailable(ServerError):
    """503 Service Unavailable; ``retry_after`` may be set."""


class GatewayTimeout(ServerError):
    """504 Gateway Timeout."""


_BY_STATUS: dict[int, type[HTTPError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: UnprocessableEntity,
    429: RateLimited,
    500: InternalServerError,
    502: BadGateway,
    503: ServiceUnavailable,
    504: GatewayTimeout,
}


def error_class(status: int) -> type[HTTPError]:
    """The precise class for ``status``, else its range class (4xx or 5xx)."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    return ClientError if status < 500 else ServerError


def request_id_of(headers: Mapping[str, str] | None) -> str | None:
    """The request id a response carries in one of REQUEST_ID_HEADERS (any case), if any."""
    if not headers:
        return None
    store = getattr(headers, "_store", None)  # requests' CaseInsensitiveDict: its lower-cased store
    if isinstance(store, dict):
        if len(store) < len(REQUEST_ID_HEADERS) and _REQUEST_ID_NAMES.isdisjoint(store):
            return None  # the usual case, settled by walking the few headers once
        for name in REQUEST_ID_HEADERS:
            found = store.get(name)
            if found is not None and found[1]:
                return str(found[1])
        return None
    lowered = {str(k).lower(): v for k, v in headers.items()}
    for name in REQUEST_ID_HEADERS:
        value = lowered.get(name)
        if value:
            return str(value)
    return None
