"""The MyClientError tree, and the two functions that turn a response or a transport failure into it.

Exceptions describe what happened (status, method, redacted URL, request id, Retry-After, a bounded and
redacted body excerpt); they never decide anything and never hold a secret in their message.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any, Optional

import requests
import urllib3.exceptions

from .redaction import registry

__all__ = [
    "MyClientError",
    "UsageError",
    "CrossOriginError",
    "TransportError",
    "ConnectError",
    "ProxyError",
    "TLSError",
    "Timeout",
    "ConnectTimeout",
    "ReadTimeout",
    "ConnectionLost",
    "DeadlineExceeded",
    "TooManyRedirects",
    "InvalidResponse",
    "HTTPError",
    "ClientError",
    "BadRequest",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "PreconditionFailed",
    "UnprocessableEntity",
    "RateLimited",
    "ServerError",
    "InternalServerError",
    "BadGateway",
    "ServiceUnavailable",
    "GatewayTimeout",
    "AuthError",
    "Attempt",
    "from_response",
    "from_transport_error",
    "parse_retry_after",
    "REQUEST_ID_HEADERS",
]

#: Response headers that carry a request id, most specific first.
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

#: Characters of the response body kept on an exception.
BODY_EXCERPT_CHARS = 2048
_MESSAGE_CHARS = 160


class Attempt:
    """One attempt of a call: its status or exception and the seconds slept before the next."""

    __slots__ = ("elapsed", "error", "slept", "status")

    def __init__(
        self,
        status: int | None = None,
        error: BaseException | None = None,
        elapsed: float = 0.0,
        slept: float = 0.0,
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
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[MyClientError], state: dict[str, Any]) -> MyClientError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class UsageError(MyClientError, ValueError):
    """The call itself is wrong (bad argument, unsafe path); nothing was sent."""


class CrossOriginError(UsageError):
    """A URL points at another origin than the client's base URL; refused so credentials stay home."""


class TransportError(MyClientError):
    """The request got no (complete) HTTP response: connection, TLS, proxy, timeout or protocol failure."""


class ConnectError(TransportError):
    """No connection could be made (refused, DNS, unreachable); the request was not sent."""


class ProxyError(TransportError):
    """The forward proxy refused or failed the request (including 407 proxy authentication).

    ``lost_after_send`` is True when the proxy connection closed or reset without an answer after
    the request went out: through a plain-HTTP proxy the origin may have received it.
    """

    lost_after_send = False


class TLSError(TransportError):
    """The TLS handshake failed: untrusted certificate, wrong host name, client certificate refused."""


class Timeout(TransportError):
    """A connect or read timeout, or the call's deadline, ran out."""


class ConnectTimeout(Timeout, ConnectError):
    """Connecting took longer than the connect timeout; the request was not sent."""


class ReadTimeout(Timeout):
    """The server did not answer within the read timeout; the request may have been processed."""


class DeadlineExceeded(Timeout):
    """The call's deadline ran out (while waiting to retry, or while the body was still arriving)."""


class ConnectionLost(TransportError):
    """The connection broke after the request was sent (reset, closed, malformed or truncated response).

    ``before_response`` is True when not a byte of the response had arrived (the peer closed or
    reset the connection instead of answering): on a reused keep-alive connection that means the
    connection was already dead, so the request can be sent again safely.
    """

    before_response = False


class TooManyRedirects(TransportError):
    """More redirects than allowed were followed."""


class InvalidResponse(MyClientError):
    """A response arrived but could not be decoded as promised (e.g. a 2xx body that is not JSON)."""

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        url: str | None = None,
        status: int | None = None,
        body: str = "",
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.body = registry.text(body[:BODY_EXCERPT_CHARS])
        self.response = response


class AuthError(MyClientError):
    """Authentication failed: a token endpoint said no, or credentials could not be obtained."""

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


class HTTPError(MyClientError):
    """The server answered with a 4xx or 5xx status."""

    status: int

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
        response: requests.Response | None = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.headers = registry.header_items(headers or {})
        self.request_id = request_id
        self.retry_after = retry_after
        self.body = body
        self.errors = errors or []
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
    """429 Too Many Requests; ``retry_after`` says how long the server asked to wait."""


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


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None or parsed.tzinfo is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, parsed.timestamp() - current)


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id a response carries in one of REQUEST_ID_HEADERS, if any."""
    for name in REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


def _body_excerpt(response: requests.Response) -> str:
    """At most BODY_EXCERPT_CHARS of the body, decoded leniently and redacted.

    A streamed response is read only as far as the excerpt needs, so a huge error body is never
    loaded whole.
    """
    try:
        if response._content_consumed or not response.raw:  # type: ignore[attr-defined]
            raw = response.content or b""
        else:
            raw = response.raw.read(BODY_EXCERPT_CHARS * 4, decode_content=True) or b""
    except Exception:  # noqa: BLE001 - a broken body must not hide the HTTP error itself
        raw = b""
    text = raw[: BODY_EXCERPT_CHARS * 4].decode(response.encoding or "utf-8", "replace")
    return text[:BODY_EXCERPT_CHARS]


def _parse_errors(doc: Any) -> tuple[list[Any], str | None]:
    """(errors list, one-line message) from a decoded error body, in the shapes APIs commonly use."""
    if not isinstance(doc, Mapping):
        return [], None
    errors: list[Any] = []
    raw = doc.get("errors", doc.get("detail"))
    if isinstance(raw, list):
        errors = list(raw)
    elif isinstance(raw, Mapping):
        errors = [{"field": k, "message": v} for k, v in raw.items()]
    message: Optional[str] = None
    for key in ("message", "error_description", "detail", "error", "title"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            message = value
            break
        if isinstance(value, Mapping) and isinstance(value.get("message"), str):
            message = value["message"]
            errors = errors or [dict(value)]
            break
    if message is None and errors:
        first = errors[0]
        if isinstance(first, Mapping):
            m = first.get("message", first.get("msg"))
            message = m if isinstance(m, str) else None
        elif isinstance(first, str):
            message = first
    return errors, message


def from_response(response: requests.Response, method: str | None = None) -> HTTPError:
    """Build the HTTPError subclass for a 4xx/5xx response (reads at most a bounded body excerpt)."""
    status = response.status_code
    method = method or (response.request.method if response.request is not None else None)
    url = registry.url(response.url or "")
    headers = response.headers
    body = registry.text(_body_excerpt(response))
    errors: list[Any] = []
    message: str | None = None
    if body[:1] in ("{", "["):
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if doc is not None:
            errors, message = _parse_errors(registry.data(doc))
    request_id = request_id_of(headers)
    reason = response.reason or ""
    line = f"{status} {reason}".rstrip() + f": {method} {url}"
    if request_id:
        line += f" (request id {request_id})"
    if message:
        short = " ".join(message.split())
        if len(short) > _MESSAGE_CHARS:
            short = short[: _MESSAGE_CHARS - 1] + "…"
        line += f" - {short}"
    return error_class(status)(
        line,
        status=status,
        method=method,
        url=url,
        headers=headers,
        request_id=request_id,
        retry_after=parse_retry_after(headers.get("retry-after")),
        body=body,
        errors=errors,
        response=response,
    )


def _root_cause(exc: BaseException) -> BaseException:
    """The innermost reason urllib3/requests wrapped (MaxRetryError.reason, ProtocolError args)."""
    seen = 0
    while seen < 8:
        seen += 1
        if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
            exc = exc.reason
            continue
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        if inner is None and len(exc.args) > 1 and isinstance(exc.args[1], BaseException):
            inner = exc.args[1]
        if inner is None:
            break
        exc = inner
    return exc


def from_transport_error(exc: BaseException, method: str | None, url: str | None) -> TransportError:
    """Map a requests/urllib3 failure that produced no usable response onto the TransportError branch.

    The caller raises the result ``from exc`` so the original stays available as ``__cause__``.
    """
    cls: type[TransportError]
    if isinstance(exc, requests.exceptions.ProxyError):
        cls = ProxyError
    elif isinstance(exc, requests.exceptions.SSLError):
        cls = TLSError
    elif isinstance(exc, requests.exceptions.ConnectTimeout):
        cls = ConnectTimeout
    elif isinstance(exc, requests.exceptions.ReadTimeout):
        cls = ReadTimeout
    elif isinstance(exc, requests.exceptions.Timeout):
        cls = Timeout
    elif isinstance(exc, requests.exceptions.TooManyRedirects):
        cls = TooManyRedirects
    elif isinstance(exc, requests.exceptions.ConnectionError) and isinstance(
        _root_cause(exc), (urllib3.exceptions.ReadTimeoutError, TimeoutError)
    ):
        cls = ReadTimeout  # a read that timed out while the body was streaming: the request was sent
    elif isinstance(exc, requests.exceptions.ConnectionError):
        root = _root_cause(exc)
        lost = isinstance(
            root, (urllib3.exceptions.ProtocolError, ConnectionResetError, ConnectionAbortedError)
        ) or type(root).__name__ in ("RemoteDisconnected", "BadStatusLine", "IncompleteRead")
        cls = ConnectionLost if lost else ConnectError
    elif isinstance(
        exc,
        (
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
            urllib3.exceptions.ProtocolError,
            urllib3.exceptions.ReadTimeoutError,
        ),
    ):
        cls = ReadTimeout if isinstance(exc, urllib3.exceptions.ReadTimeoutError) else ConnectionLost
    elif isinstance(exc, (ConnectionError, OSError)):
        cls = ConnectionLost
    else:
        cls = TransportError
    root = _root_cause(exc)
    detail = str(root) or type(root).__name__
    error = cls(f"{cls.__name__}: {method} {registry.url(url or '')}: {detail}", method=method, url=url)
    if isinstance(error, ProxyError):
        error.lost_after_send = isinstance(root, (ConnectionResetError, BrokenPipeError)) or (
            type(root).__name__ in ("RemoteDisconnected", "BadStatusLine", "IncompleteRead")
        )
    if isinstance(error, ConnectionLost) and isinstance(exc, requests.exceptions.ConnectionError):
        # Raised while sending or waiting for the status line, so no response byte had arrived.
        error.before_response = isinstance(root, (ConnectionResetError, BrokenPipeError)) or (
            type(root).__name__ == "RemoteDisconnected"
        )
    return error
