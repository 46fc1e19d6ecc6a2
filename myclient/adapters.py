"""Adapter: the one choke point every call goes through, on top of a user-suppliable requests.Session.

``request()`` builds the call as one value (URL under the base, merged headers, the idempotency key,
the resolved options), runs it down the middleware chain to the transport, raises the tree's error
for a 4xx/5xx answer, and decodes the body as the call's ``decode=`` says — or returns a ``Result``
with ``detailed=True``. The settings are one frozen value; the setters below validate and replace it.
It never writes to the session it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, overload

import requests

from . import _urls
from ._deadline import body_rewinder
from ._log import fields, get_logger
from ._mapping import error_from_response
from .calls import Call, CallState
from .exceptions import Attempt, MyClientError, UsageError
from .hooks import Hooks
from .middleware import Middleware, Next, Observe, Reauthenticate, Retry, build_chain, display_url, emit
from .redaction import registry
from .results import Result, decode_body
from .settings import (
    DEFAULT,
    DEFAULT_TIMEOUT,
    CallOptions,
    Settings,
    TimeoutSpec,
    check_header_value,
    check_headers,
    new_id,
)
from .transport import RequestsTransport, Transport

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from .downloads import PathLike, Progress
    from .pagination import Paginator
    from .strategies import Strategy

__all__ = ["DEFAULT_TIMEOUT", "Adapter", "JSONAdapter", "RawAdapter", "TimeoutSpec", "sleep_suspended"]

access = get_logger("myclient.access")

#: Above zero while recorded interactions replay (myclient.testing.no_sleep): waits are skipped.
sleep_suspended = [0]
_METHOD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class Adapter:
    """Sends calls for one base URL through one transport (by default the given ``requests.Session``).

    The session is used exactly as given: nothing is mounted on it and none of its headers,
    cookies, verify, cert or proxies is written. The client's headers, auth and timeout travel per
    request; a session's own ``verify`` and ``proxies`` win over the environment variables.
    """

    #: What a call returns when it does not say (``decode=``); subclasses change it.
    default_decode: Any = "json"

    def __init__(
        self, base_url: str, *, session: requests.Session | None = None, transport: Transport | None = None,
        **options: Any,
    ) -> None:
        if transport is not None and session is not None:
            raise UsageError("give session= or transport=, not both")
        if transport is not None and not callable(getattr(transport, "send", None)):
            raise UsageError(f"transport must have send(call), got {type(transport).__name__}")
        self._transport: Transport = transport if transport is not None else RequestsTransport(session)
        options.setdefault("decode", self.default_decode)
        self._apply(Settings.build(base_url, options))
        if session is not None:
            self._warn_about_session_retries(session)

    # -- settings ------------------------------------------------------------------------------
    def _apply(self, settings: Settings) -> None:
        self._settings = settings
        self._origin = _urls.origin_of(settings.base_url)
        steps: list[Middleware] = [Retry(settings), *settings.middleware, Reauthenticate()]
        if settings.rate_limit is not None:
            steps.append(settings.rate_limit.middleware(settings))
        steps.append(Observe(settings))
        self._handler: Next = build_chain(steps, self._transport.send)

    @property
    def settings(self) -> Settings:
        """The frozen settings this adapter sends with."""
        return self._settings

    def configure(self, **options: Any) -> None:
        """Replace some settings (validated like the constructor's)."""
        self._apply(self._settings.replace(**options))

    def with_options(self, **options: Any) -> Self:
        """A copy with some settings changed, sharing this adapter's transport (and so its session)."""
        new = object.__new__(type(self))
        new._transport = self._transport
        new._apply(self._settings.replace(**options))
        return new

    def _warn_about_session_retries(self, session: requests.Session) -> None:
        """Warn when the injected session retries on its own, so attempts would multiply silently."""
        import warnings

        transport = session.get_adapter(self.base_url)
        retries = getattr(transport, "max_retries", None)
        if retries is None or self._settings.defaults.retry.attempts <= 1:
            return
        counts = [getattr(retries, name, 0) for name in ("total", "connect", "read", "status", "other")]
        if any(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts):
            warnings.warn(
                f"the injected session already retries requests to {registry.url(self.base_url)} (max_retries="
                f"{retries!r}); with myclient's RetryPolicy too, attempts multiply. Pass retry=None "
                "to rely on the session's retries, or mount an HTTPAdapter without max_retries.",
                RuntimeWarning, stacklevel=4,
            )

    @property
    def base_url(self) -> str:
        """The base URL (no trailing slash)."""
        return self._settings.base_url

    @property
    def cid(self) -> str:
        """The correlation id sent in ``cid_header``."""
        return self._settings.cid

    @property
    def cid_header(self) -> str | None:
        """The correlation-id header name (None: not sent)."""
        return self._settings.cid_header

    @property
    def headers(self) -> dict[str, str]:
        """The client's default headers (a dict; changes apply to later calls)."""
        return self._settings.headers

    @property
    def hooks(self) -> Hooks:
        """The hooks registry (``hooks.add(name, fn)``)."""
        return self._settings.hooks

    @property
    def sleep(self) -> Callable[[float], None]:
        """How retries wait (injectable with ``sleep=``)."""
        return self._settings.sleep

    @property
    def clock(self) -> Callable[[], float]:
        """The monotonic clock deadlines use (injectable with ``clock=``)."""
        return self._settings.clock

    @property
    def random(self) -> Callable[[], float]:
        """The jitter source in [0, 1) (injectable with ``random=``)."""
        return self._settings.random

    @property
    def idempotency_header(self) -> str | None:
        """The header idempotency keys travel in (None: keys are refused)."""
        return self._settings.idempotency_header

    @property
    def access_log(self) -> bool:
        """Whether calls write the INFO access log."""
        return self._settings.access_log

    @property
    def transport(self) -> Transport:
        """The transport calls are sent through."""
        return self._transport

    @property
    def session(self) -> requests.Session:
        """The session requests go through (the user's, when one was injected)."""
        session = getattr(self._transport, "session", None)
        if not isinstance(session, requests.Session):
            raise UsageError(f"the transport {type(self._transport).__name__} has no requests.Session")
        return session

    @property
    def owns_session(self) -> bool:
        """True when this adapter created its session and so closes it in ``close()``."""
        return bool(getattr(self._transport, "owns_session", False))

    def _setting(name: str, doc: str) -> Any:  # type: ignore[misc]  # noqa: N805 - a property factory
        def get(self: Adapter) -> Any:
            return getattr(self._settings.defaults, name)

        def put(self: Adapter, value: Any) -> None:
            self.configure(**{name: value})

        return property(get, put, doc=doc)

    auth = _setting("auth", "The client's auth (validated on assignment).")
    timeout = _setting("timeout", "(connect, read) seconds; assign seconds or a pair (validated).")
    retry = _setting("retry", "The RetryPolicy (assign None for no retries).")
    deadline = _setting("deadline", "Seconds for a whole call, or None.")
    verify = _setting("verify", "TLS verification (True, False, a CA bundle path, or None: the session's).")
    cert = _setting("cert", "Client certificate (a path or a (cert, key) pair), or None.")
    proxies = _setting("proxies", "Proxies for this client's calls, or None.")
    max_redirects = _setting("max_redirects", "How many redirects a call may follow.")
    follow_redirects = _setting("follow_redirects", "Whether redirects are followed.")
    del _setting

    def close(self) -> None:
        """Close what this adapter owns (a session it created); an injected session is left open."""
        self._transport.close()

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (refuses another origin with CrossOriginError, ``..`` with UsageError)."""
        return _urls.join(self._settings.base_url, self._origin, path)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={registry.url(self.base_url)!r} cid={self.cid!r}>"

    # -- the choke point ------------------------------------------------------------------------------
    @overload
    def request(self, method: str, path: str, *, params: Any = ..., json: Any = ..., data: Any = ...,
                files: Any = ..., stream: bool = ..., detailed: Literal[False] = ...,
                **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def request(self, method: str, path: str, *, params: Any = ..., json: Any = ..., data: Any = ...,
                files: Any = ..., stream: bool = ..., detailed: Literal[True],
                **options: Unpack[CallOptions]) -> Result[Any]: ...

    def request(self, method: str, path: str, *, params: Any = None, json: Any = None, data: Any = None,
                files: Any = None, stream: bool = False, detailed: bool = False,
                **options: Unpack[CallOptions]) -> Any:
        """Send one call, retrying as the policy allows, and return its decoded data (or a Result).

        Raises an HTTPError subclass for 4xx/5xx (unless ``raise_on_error=False`` or the status is
        in ``ok_statuses``), a TransportError subclass when no response arrived, and UsageError or
        CrossOriginError for a call that must not be sent; the exception's ``attempts`` lists every
        try. Per-call options (``timeout``, ``deadline``, ``retry``, ``headers``,
        ``idempotency_key``, ``decode``, …) override the client's settings for this call only.
        """
        call = self.build(method, self.url(path), self._settings.headers, params=params, json=json, data=data,
                          files=files, stream=stream, options=options)
        response = self.send(call)
        return self.finish(call, response, detailed)

    def request_raw(self, method: str, path: str, *, params: Any = None, json: Any = None, data: Any = None,
                    files: Any = None, stream: bool = False, **options: Unpack[CallOptions]) -> requests.Response:
        """Like ``request()`` but always returns the ``requests.Response`` (for streams and pagination).

        Errors raise exactly as in ``request()``. With ``stream=True`` close the response (or use it
        as a context manager).
        """
        call = self.build(method, self.url(path), self._settings.headers, params=params, json=json, data=data,
                          files=files, stream=stream, options=options)
        return self.send(call)

    def request_url(self, method: str, url: str, *, params: Any = None, json: Any = None, data: Any = None,
                    files: Any = None, stream: bool = False, **options: Unpack[CallOptions]) -> requests.Response:
        """Like ``request_raw()`` for an absolute URL on any origin (an OAuth2 token endpoint, say).

        The session (its gateway headers, certificates, proxies, CA), timeouts, retries and logging
        apply, but neither the client's auth nor its extra headers are sent — only the correlation
        id and what ``headers=`` gives. Pass ``auth=`` to authenticate.
        """
        if _urls.origin_of(url) is None:
            raise UsageError(f"request_url needs an absolute http(s) URL, got {registry.url(str(url))!r}")
        _urls.check_path(url)
        settings = self._settings
        base = {settings.cid_header: settings.cid} if settings.cid_header else {}
        options.setdefault("auth", None)
        call = self.build(method, url, base, params=params, json=json, data=data, files=files, stream=stream,
                          options=options)
        return self.send(call)

    def build(self, method: str, url: str, base: Mapping[str, str], *, params: Any, json: Any, data: Any,
              files: Any, stream: bool, options: Mapping[str, Any]) -> Call:
        """The call value for one request: everything decided before the first attempt (one idempotency key)."""
        settings = self._settings
        if not isinstance(method, str) or not method or not set(method.upper()) <= _METHOD_CHARS:
            raise UsageError(f"method must be an HTTP method name such as 'GET', got {method!r}")
        method = method.upper()
        overrides = dict(options)
        extra = overrides.pop("headers", None)
        key = overrides.pop("idempotency_key", DEFAULT)
        resolved = settings.resolve(overrides)
        headers: dict[str, str | None] = dict(base)
        if extra is not None and extra is not DEFAULT:
            headers = _overlay(headers, check_headers(extra, allow_none=True))
        idem = settings.idempotency_header
        if key is DEFAULT or key is None:
            key = settings.idempotency_key and method in ("POST", "PATCH") if key is DEFAULT else False
        if key is True:
            key = new_id()
        elif key is False:
            key = None
        elif isinstance(key, str) and key:
            key = check_header_value("idempotency key", key)
        else:
            raise UsageError(f"idempotency_key must be True, False, None or a non-empty string, got {key!r}")
        if key is not None:
            if not idem:
                raise UsageError("idempotency_key given but the client's idempotency_header is None")
            headers = _overlay(headers, {idem: key})
        keyed = key is not None or (idem is not None and any(k.lower() == idem.lower() and v
                                                             for k, v in headers.items()))
        replayable, rewind = body_rewinder(data, files)
        state = CallState(settings.clock, resolved.deadline, cid=settings.cid, base_url=settings.base_url)
        return Call(method, url, params=params, headers=headers, json=json, data=data, files=files, stream=stream,
                    options=resolved, idempotency_key=key, keyed=keyed, replayable=replayable, rewind=rewind,
                    state=state)

    def send(self, call: Call) -> requests.Response:
        """Run ``call`` down the chain; raise the tree's error for a failure or an error status."""
        try:
            response = self._handler(call)
        except MyClientError as error:
            raise self._give_up(call, error) from None
        status = response.status_code
        options = call.options
        state = call.state
        if status >= 400 and options.raise_on_error and status not in options.ok_statuses:
            failed = error_from_response(response, call.method)
            response.close()
            elapsed = response.elapsed.total_seconds() if response.elapsed else 0.0
            state.history.append(Attempt(status=status, elapsed=elapsed))
            failed.attempts = state.history
            if not state.reason:
                state.reason = (f"status {status} is not retried" if status not in options.retry.statuses
                                else "no attempts left")
            raise self._give_up(call, failed)
        response.total_elapsed = state.elapsed()  # type: ignore[attr-defined]
        if self._settings.access_log:
            self._access(call, status, response.headers)
        return response

    def finish(self, call: Call, response: requests.Response, detailed: bool) -> Any:
        """Decode the response as the call says; a Result when ``detailed``."""
        data = decode_body(response, call.options.decode, call.method)
        if not detailed:
            return data
        state = call.state
        content = b"" if call.stream else (response.content or b"")
        return Result(status=response.status_code, headers=response.headers, data=data, content=content,
                      elapsed=state.elapsed(), attempts=max(state.attempt, 1), history=list(state.history),
                      url=(lambda: registry.url(response.url)) if getattr(response, "myclient_redirected", False)
                      else (lambda: display_url(call)), method=call.method, response=response)

    def _give_up(self, call: Call, error: MyClientError) -> MyClientError:
        """The call failed for good: tell on_give_up and the access log; returns ``error`` to raise."""
        settings = self._settings
        if settings.hooks.on_give_up:
            elapsed = error.attempts[-1].elapsed if error.attempts else 0.0
            emit(settings, "on_give_up", call, elapsed, error=error, reason=call.state.reason or type(error).__name__)
        if settings.access_log:
            status = getattr(error, "status", None)
            self._access(call, status if isinstance(status, int) else type(error).__name__,
                         getattr(error, "headers", None) or {})
        return error

    def _access(self, call: Call, outcome: object, headers: Mapping[str, str]) -> None:
        """One INFO line per call on ``myclient.access``: the outcome after all attempts."""
        if access.isEnabledFor(20):
            from .exceptions import request_id_of

            settings = self._settings
            shown = display_url(call)
            elapsed_ms = call.state.elapsed() * 1000
            request_id = request_id_of(headers) or "-"
            access.info("%s %s %s %.1fms attempts=%d rid=%s cid=%s", call.method, shown, outcome, elapsed_ms,
                        max(call.state.attempt, 1), request_id, settings.cid,
                        extra=fields(cid=settings.cid, baseurl=settings.base_url, method=call.method,
                                     endpoint=shown[len(settings.base_url):] if shown.startswith(settings.base_url)
                                     else "", url=shown, status=outcome, elapsed_ms=round(elapsed_ms, 3)))

    # -- collections and files ------------------------------------------------------------------------
    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, strategy: Strategy | None = None,
                 max_items: int | None = None, max_pages: int | None = None,
                 resume: Mapping[str, Any] | str | None = None, **options: Unpack[CallOptions]) -> Paginator[Any]:
        """A lazy iterator over every item of the collection at ``path``, fetched page by page.

        ``strategy`` says how pages follow each other: ``myclient.LinkHeader()`` (default; a server
        without Link headers gives one page), ``Cursor(...)``, ``PageNumber(...)`` or ``Offset(...)``.
        Each page goes through this adapter (retries, auth renewal, per-call options per page).
        Iterate it for items or call ``.pages()``; ``.checkpoint`` is a JSON-serialisable dict that
        ``resume=`` continues from exactly (no item lost or repeated).
        """
        from .pagination import Paginator
        from .strategies import LinkHeader

        return Paginator(self, path, params, strategy=strategy if strategy is not None else LinkHeader(),
                         max_items=max_items, max_pages=max_pages, resume=resume, **options)

    def download(self, path: str, dest: PathLike, *, chunk_size: int | None = None,
                 progress: Progress | None = None, params: Any = None, **options: Unpack[CallOptions]) -> Path:
        """Stream GET ``path`` into the file ``dest`` (via ``dest.part``, renamed when complete).

        Resumes a partial download with Range/If-Range, checks the length, and calls
        ``progress(done, total)`` as bytes arrive. The call's ``deadline`` covers the whole download.
        Returns the final path. See ``myclient.downloads.download``.
        """
        from .downloads import DEFAULT_CHUNK_SIZE, download

        return download(self, path, dest, chunk_size=DEFAULT_CHUNK_SIZE if chunk_size is None else chunk_size,
                        progress=progress,
                        params=params, **options)

    def upload(self, path: str, file_or_path: PathLike | IO[bytes], *, method: str = "PUT",
               content_type: str | None = None, progress: Progress | None = None, params: Any = None,
               **options: Unpack[CallOptions]) -> Any:
        """Send a file (a path or a binary file object) as the request body, streamed from disk.

        ``method`` is PUT (default), POST or PATCH; ``content_type`` defaults to a guess from the
        file name. Returns what ``request()`` returns. See ``myclient.uploads.upload``.
        """
        from .uploads import upload

        return upload(self, path, file_or_path, method=method, content_type=content_type, progress=progress,
                      params=params, **options)

    # -- verbs --------------------------------------------------------------------------------------
    @overload
    def get(self, path: str, *, params: Any = ..., detailed: Literal[False] = ...,
            **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def get(self, path: str, *, params: Any = ..., detailed: Literal[True],
            **options: Unpack[CallOptions]) -> Result[Any]: ...

    def get(self, path: str, *, params: Any = None, detailed: bool = False, **options: Unpack[CallOptions]) -> Any:
        """GET ``path``; see ``request``."""
        return self.request("GET", path, params=params, detailed=detailed, **options)  # type: ignore[call-overload]

    @overload
    def head(self, path: str, *, params: Any = ..., detailed: Literal[False] = ...,
             **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def head(self, path: str, *, params: Any = ..., detailed: Literal[True],
             **options: Unpack[CallOptions]) -> Result[Any]: ...

    def head(self, path: str, *, params: Any = None, detailed: bool = False, **options: Unpack[CallOptions]) -> Any:
        """HEAD ``path``; see ``request``."""
        return self.request("HEAD", path, params=params, detailed=detailed, **options)  # type: ignore[call-overload]

    @overload
    def delete(self, path: str, *, params: Any = ..., json: Any = ..., detailed: Literal[False] = ...,
               **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def delete(self, path: str, *, params: Any = ..., json: Any = ..., detailed: Literal[True],
               **options: Unpack[CallOptions]) -> Result[Any]: ...

    def delete(self, path: str, *, params: Any = None, json: Any = None, detailed: bool = False,
               **options: Unpack[CallOptions]) -> Any:
        """DELETE ``path``; see ``request``."""
        return self.request("DELETE", path, params=params, json=json, detailed=detailed,  # type: ignore[call-overload]
                            **options)

    @overload
    def post(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
             detailed: Literal[False] = ..., **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def post(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
             detailed: Literal[True], **options: Unpack[CallOptions]) -> Result[Any]: ...

    def post(self, path: str, *, params: Any = None, json: Any = None, data: Any = None, files: Any = None,
             detailed: bool = False, **options: Unpack[CallOptions]) -> Any:
        """POST ``path``; see ``request``."""
        return self.request("POST", path, params=params, json=json, data=data, files=files,  # type: ignore[call-overload]
                            detailed=detailed, **options)

    @overload
    def put(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
            detailed: Literal[False] = ..., **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def put(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
            detailed: Literal[True], **options: Unpack[CallOptions]) -> Result[Any]: ...

    def put(self, path: str, *, params: Any = None, json: Any = None, data: Any = None, files: Any = None,
            detailed: bool = False, **options: Unpack[CallOptions]) -> Any:
        """PUT ``path``; see ``request``."""
        return self.request("PUT", path, params=params, json=json, data=data, files=files,  # type: ignore[call-overload]
                            detailed=detailed, **options)

    @overload
    def patch(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
              detailed: Literal[False] = ..., **options: Unpack[CallOptions]) -> Any: ...

    @overload
    def patch(self, path: str, *, params: Any = ..., json: Any = ..., data: Any = ..., files: Any = ...,
              detailed: Literal[True], **options: Unpack[CallOptions]) -> Result[Any]: ...

    def patch(self, path: str, *, params: Any = None, json: Any = None, data: Any = None, files: Any = None,
              detailed: bool = False, **options: Unpack[CallOptions]) -> Any:
        """PATCH ``path``; see ``request``."""
        return self.request("PATCH", path, params=params, json=json, data=data, files=files,  # type: ignore[call-overload]
                            detailed=detailed, **options)


def _overlay(base: Mapping[str, str | None], extra: Mapping[str, str | None]) -> dict[str, str | None]:
    """``base`` updated by ``extra`` case-insensitively, as requests merges headers.

    A header ``extra`` overrides keeps its place (with ``extra``'s spelling); new ones follow; None is
    kept (it removes the header, the session's too, when the request is prepared).
    """
    lowered = {k.lower(): (k, v) for k, v in extra.items()}
    merged: dict[str, str | None] = {}
    for name, value in base.items():
        override = lowered.pop(name.lower(), None)
        if override is None:
            merged[name] = value
        else:
            merged[override[0]] = override[1]
    for name, value in lowered.values():
        merged[name] = value
    return merged


class RawAdapter(Adapter):
    """Returns the ``requests.Response`` itself (errors still raise). Close it when streaming."""

    default_decode = "response"


class JSONAdapter(Adapter):
    """Returns decoded JSON; ``None`` for 204, HEAD or an empty body. Never returns a Response.

    A body that is not JSON raises InvalidResponse with the status and a redacted excerpt.
    """

    default_decode = "json"

