"""From what requests, urllib3, http.client, ssl and socket raise — and from 4xx/5xx answers — to the tree.

Transport failures are classified **by type**, walking the chain of wrapped exceptions (requests wraps
urllib3, which wraps http.client, ssl and socket errors), never by message text; the facts a retry
decision needs (was the request sent, did a response byte arrive, was the certificate refused, the
proxy's status) are set on the error here, once. The original exception is not chained: its message
and traceback hold the full URL, so only its type and a redacted message travel (``error.cause``).
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
from collections.abc import Iterator
from typing import Any

import requests
import urllib3.exceptions as u3

from ._parse import parse_retry_after
from .exceptions import (
    BODY_EXCERPT_CHARS,
    ConnectError,
    ConnectionLost,
    ConnectTimeout,
    HTTPError,
    ProxyError,
    ReadTimeout,
    TLSError,
    TooManyRedirects,
    TransportError,
    UsageError,
    error_class,
    request_id_of,
)
from .redaction import registry

__all__ = ["ERROR_READ_BYTES", "decode_text", "describe", "error_from_response", "map_transport_error"]

#: Bytes of an error body read at most (the rest is never downloaded; the connection is closed).
ERROR_READ_BYTES = 64 * 1024
_MESSAGE_CHARS = 160
_TUNNEL_STATUS = re.compile(r"^Tunnel connection failed: ([1-5][0-9]{2})\b", re.ASCII)

_BAD_CALL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.InvalidSchema,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
    u3.LocationValueError,
)
_LOST = (
    http.client.HTTPException,
    u3.ProtocolError,
    u3.DecodeError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
    ConnectionResetError,
    BrokenPipeError,
    ConnectionAbortedError,
)
_RESET = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_PROXY_LOST = (http.client.RemoteDisconnected, http.client.BadStatusLine, http.client.IncompleteRead, *_RESET)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (MaxRetryError.reason, exception args, __cause__/__context__), bounded."""
    seen: set[int] = set()
    todo = [exc]
    while todo and len(seen) < 16:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        todo.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def _root(chain: list[BaseException]) -> BaseException:
    """The most specific low-level failure in the chain (the last one that is not a wrapper)."""
    for exc in reversed(chain):
        if not isinstance(exc, (requests.RequestException, u3.MaxRetryError)):
            return exc
    return chain[-1]


def describe(exc: BaseException) -> str:
    """``module.Type: message`` for a low-level exception, with every secret masked."""
    cls = type(exc)
    detail = registry.text(str(exc)) or cls.__name__
    return f"{cls.__module__}.{cls.__qualname__}: {detail}"


def _has(chain: list[BaseException], kinds: type[BaseException] | tuple[type[BaseException], ...]) -> bool:
    return any(isinstance(e, kinds) for e in chain)


def _classify(chain: list[BaseException]) -> type[TransportError] | type[UsageError]:
    """Which class of the tree a chain of low-level exceptions belongs to (by type, in priority order)."""
    if _has(chain, (ssl.SSLCertVerificationError, ssl.CertificateError)):
        return TLSError
    if _has(chain, (requests.exceptions.ProxyError, u3.ProxyError)):
        return ProxyError
    if _has(chain, (ssl.SSLError, u3.SSLError, requests.exceptions.SSLError)):
        return TLSError
    if _has(chain, (u3.NewConnectionError, ConnectionRefusedError, socket.gaierror)):
        return ConnectError
    if _has(chain, (u3.ConnectTimeoutError, requests.exceptions.ConnectTimeout)):
        return ConnectTimeout
    if _has(chain, (u3.ReadTimeoutError, requests.exceptions.ReadTimeout, TimeoutError)):
        return ReadTimeout
    if _has(chain, requests.exceptions.TooManyRedirects):
        return TooManyRedirects
    if _has(chain, _LOST):
        return ConnectionLost
    if _has(chain, _BAD_CALL):
        return UsageError
    if _has(chain, requests.exceptions.ConnectionError):
        return ConnectError  # requests' own "could not connect" (no lower-level reason given)
    return TransportError


def map_transport_error(
    exc: BaseException, method: str, url: str, *, received: int | None = None, in_body: bool = False,
    reused: bool = False,
) -> TransportError | UsageError:
    """The tree's error for a failed exchange, with its facts set.

    ``received`` is how many response bytes had arrived when it failed (None: unknown), ``in_body``
    says the failure happened while reading the body (the response had begun), ``reused`` that the
    attempt ran on a pooled keep-alive connection.
    """
    chain = list(_chain(exc))
    cls = _classify(chain)
    root = _root(chain)
    cause = describe(root)
    if not issubclass(cls, TransportError):
        return UsageError(f"invalid request for {method} {registry.url(url)}: {cause}", method=method, url=url)
    error = cls(f"{cls.__name__}: {method} {registry.url(url)}: {cause}", method=method, url=url)
    error.cause = cause
    error.reused = reused
    if isinstance(error, TLSError):
        error.verify_failed = _has(chain, (ssl.SSLCertVerificationError, ssl.CertificateError))
    elif isinstance(error, ProxyError):
        error.status = _tunnel_status(chain)
        error.lost_after_send = _has(chain, _PROXY_LOST)
    elif isinstance(error, ConnectionLost):
        error.before_response = not in_body and _nothing_received(chain, received)
    return error


def _tunnel_status(chain: list[BaseException]) -> int | None:
    """The status a proxy answered a CONNECT with (http.client reports it in the tunnel OSError)."""
    for exc in chain:
        if type(exc) is OSError and exc.args and isinstance(exc.args[0], str):
            found = _TUNNEL_STATUS.match(exc.args[0])
            if found:
                return int(found.group(1))
    return None


def _nothing_received(chain: list[BaseException], received: int | None) -> bool:
    """Whether it is certain that not one response byte arrived before the connection failed.

    http.client raises RemoteDisconnected exactly when the status line read found end-of-stream
    with nothing before it. A reset proves it only when the bytes received were counted (zero).
    """
    if received is not None and received > 0:
        return False
    if _has(chain, http.client.RemoteDisconnected):
        return True
    return received == 0 and _has(chain, _RESET)


# -- 4xx/5xx answers --------------------------------------------------------------------------------


def decode_text(raw: bytes, charset: str | None) -> str:
    """Bytes as text with the announced charset when Python knows it, else UTF-8; never raises."""
    if charset:
        try:
            return raw.decode(charset, "replace")
        except (LookupError, TypeError, ValueError):
            pass
    return raw.decode("utf-8", "replace")


def _error_body(response: requests.Response) -> tuple[bytes, bool]:
    """Up to ERROR_READ_BYTES of the (decoded) body and whether that is all of it; never raises.

    A body already read is used as is; otherwise only the first bytes are read from the stream, so
    a huge (or decompression-bomb) error body is never loaded whole.
    """
    try:
        if getattr(response, "_content_consumed", False) or not getattr(response, "raw", None):
            content = response._content if isinstance(response._content, bytes) else b""
            return content[:ERROR_READ_BYTES], len(content) <= ERROR_READ_BYTES
        chunks: list[bytes] = []
        size = 0
        complete = True
        for chunk in response.raw.stream(16 * 1024, decode_content=True):
            chunks.append(chunk)
            size += len(chunk)
            if size > ERROR_READ_BYTES:
                complete = False
                break
        return b"".join(chunks)[:ERROR_READ_BYTES], complete
    except Exception:  # noqa: BLE001 - a broken body must not hide the HTTP error itself
        return b"", False


def _parse_errors(doc: Any) -> tuple[list[Any], str | None]:
    """(errors list, one-line message) from a decoded error body, in the shapes APIs commonly use."""
    if not isinstance(doc, dict):
        return [], None
    errors: list[Any] = []
    raw = doc.get("errors", doc.get("detail"))
    if isinstance(raw, list):
        errors = list(raw)
    elif isinstance(raw, dict):
        errors = [{"field": k, "message": v} for k, v in raw.items()]
    message: str | None = None
    for key in ("message", "error_description", "detail", "error", "title"):
        value = doc.get(key)
        if isinstance(value, str) and value:
            message = value
            break
        if isinstance(value, dict) and isinstance(value.get("message"), str):
            message = value["message"]
            errors = errors or [dict(value)]
            break
    if message is None and errors:
        first = errors[0]
        if isinstance(first, dict):
            found = first.get("message", first.get("msg"))
            message = found if isinstance(found, str) else None
        elif isinstance(first, str):
            message = first
    return errors, message


def _json_doc(text: str) -> Any:
    """The decoded JSON of an error body, or None (not JSON, too deep, or not complete)."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def error_from_response(response: requests.Response, method: str, url: str | None = None) -> HTTPError:
    """The HTTPError subclass for a 4xx/5xx response; reads at most ERROR_READ_BYTES of the body.

    The body is decoded leniently (an unknown charset falls back to UTF-8), redacted, and only then
    cut to BODY_EXCERPT_CHARS, so no secret straddling the cut keeps a prefix. A JSON body's
    ``errors``/``message`` (the common API shapes) are parsed when it was read whole.
    """
    status = response.status_code
    shown = registry.url(url or response.url or "")
    headers = response.headers
    raw, complete = _error_body(response)
    text = decode_text(raw, _charset(headers.get("content-type")))
    errors: list[Any] = []
    message: str | None = None
    doc = _json_doc(text) if complete else None
    if doc is not None:
        try:
            errors, message = _parse_errors(registry.data(doc))
        except RecursionError:
            errors, message = [], None
    body = registry.text(text[: BODY_EXCERPT_CHARS * 4])[:BODY_EXCERPT_CHARS]
    request_id = request_id_of(headers)
    line = f"{status} {_reason(response)}".rstrip() + f": {method} {shown}"
    if request_id:
        line += f" (request id {registry.text(request_id)[:80]})"
    if message:
        short = " ".join(registry.text(message).split())
        if len(short) > _MESSAGE_CHARS:
            short = short[: _MESSAGE_CHARS - 1] + "…"
        line += f" - {short}"
    return error_class(status)(
        line, status=status, method=method, url=shown, headers=headers, request_id=request_id,
        retry_after=parse_retry_after(headers.get("retry-after")), body=body, errors=errors, response=response,
    )


def _reason(response: requests.Response) -> str:
    reason = response.reason
    if isinstance(reason, bytes):
        reason = reason.decode("latin-1", "replace")
    return registry.text(str(reason or ""))[:80]


def _charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any (unvalidated)."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        name, _, value = part.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None
